"""Order lines and daily impressions over the API: list, and idempotent bulk upsert."""

from __future__ import annotations

from functools import partial

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from catalog_health.api_base import TenantScopedReadOnlyViewSet
from catalog_health.api_filters import IdField, clean_query
from catalog_health.api_input import refuse_unwritable_fields
from catalog_health.tenancy.roles import Perm

from . import events, selectors, services
from .models import Catalog, DailyImpression, Order
from .order_io import ORDER_COLUMNS, impression_row_parse, order_row_parse

MAX_BULK = 10_000


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["id", "catalog", "product", *ORDER_COLUMNS, "updated_at"]
        read_only_fields = fields


class DailyImpressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyImpression
        fields = ["id", "catalog", "product", "sku", "date", "impressions", "clicks"]
        read_only_fields = fields


class OrderLineInput(serializers.Serializer):
    """One order line; the same fields as the CSV columns (ISO 8601 times, null for none)."""

    order_id = serializers.CharField(max_length=64)
    sku = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, default=1)
    item_price = serializers.CharField()
    shipping_fee = serializers.CharField(required=False, allow_blank=True, default="0")
    placed_at = serializers.CharField()
    ship_by = serializers.CharField()
    shipped_at = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    delivered_at = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    cancelled_at = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    cancel_reason = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    tracking_number = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='"" when the line has none; leave it out (or null) when the source does not '
        "say: the line's tracking is then unknown, and a number already stored is kept",
    )


class OrderBulkInput(serializers.Serializer):
    catalog = serializers.IntegerField()
    orders = serializers.ListField(child=serializers.DictField(), max_length=MAX_BULK)


class ImpressionInput(serializers.Serializer):
    sku = serializers.CharField(max_length=100)
    date = serializers.DateField()
    impressions = serializers.IntegerField(min_value=0)
    clicks = serializers.IntegerField(min_value=0, default=0)


class ImpressionBulkInput(serializers.Serializer):
    catalog = serializers.IntegerField()
    impressions = serializers.ListField(child=serializers.DictField(), max_length=MAX_BULK)


class RowErrorOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position in the submitted list")
    field = serializers.CharField()
    message = serializers.CharField()


class BulkOutput(serializers.Serializer):
    written = serializers.IntegerField(help_text="rows inserted or updated")
    inserted = serializers.IntegerField(help_text="rows that were new")
    updated = serializers.IntegerField(help_text="rows that differed from the stored ones")
    unchanged = serializers.IntegerField(help_text="rows already stored as given")
    refused = serializers.IntegerField()
    errors = RowErrorOutput(many=True)


def _bulk(view, request, *, parse, upsert, key: str):
    data = request.data if isinstance(request.data, dict) else {}
    refuse_unwritable_fields(data, writable={"catalog", key}, readable=set(), current=None)
    catalog_id = data.get("catalog")
    items = data.get(key)
    # bool is an int to Python: true would name catalog 1
    if type(catalog_id) is not int or not isinstance(items, list):
        return Response(
            {"detail": f'Send {{"catalog": <id>, "{key}": [ … ]}}.'},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if len(items) > MAX_BULK:
        return Response(
            {"detail": f"At most {MAX_BULK} rows per request."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    catalog = Catalog.objects.for_tenant(view.tenant).filter(pk=catalog_id).first()
    if catalog is None:
        raise NotFound("No such catalog.")
    limit = services.tenant_future_limit(tenant=view.tenant)  # one for the whole request
    rows, lines, errors = [], [], []
    for i, item in enumerate(items):
        record = item if isinstance(item, dict) else {}  # null reads as empty, or unknown
        parsed = parse(i + 1, record, limit=limit)
        if isinstance(parsed, list):
            errors.extend(parsed)
        else:
            rows.append(parsed)
            lines.append(i + 1)
    result = upsert(tenant=view.tenant, catalog=catalog, rows=rows, lines=lines)
    all_errors = sorted(errors + result.errors, key=lambda e: e.line)
    if result.written:
        events.sales_data_changed(tenant=view.tenant, catalog=catalog, kind=key)
    return Response(
        {
            "written": result.written,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "refused": len({e.line for e in all_errors}),
            "errors": [
                {"index": e.line - 1, "field": e.column, "message": e.message}
                for e in all_errors[:1000]
            ],
        }
    )


ORDER_STATUSES = ("overdue", "unshipped", "cancelled")


class OrderQuery(forms.Form):
    """The list's filters; an invalid one is a 400, another tenant's catalog an empty page."""

    sku = forms.CharField(required=False, max_length=100)
    catalog = IdField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "")] + [(s, s) for s in ORDER_STATUSES]
    )


class ImpressionQuery(forms.Form):
    sku = forms.CharField(required=False, max_length=100)
    catalog = IdField(required=False)


SKU_PARAM = OpenApiParameter("sku", OpenApiTypes.STR, description="exact SKU")
CATALOG_PARAM = OpenApiParameter("catalog", OpenApiTypes.INT, description="catalog id")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SKU_PARAM,
            CATALOG_PARAM,
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(ORDER_STATUSES)),
        ]
    )
)
class OrderViewSet(TenantScopedReadOnlyViewSet):
    """Order lines. Filter with ?sku=, ?catalog=, ?status=overdue|unshipped|cancelled."""

    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    required_perms = {"bulk": Perm.MANAGE_ORDERS}
    write_perm = Perm.MANAGE_ORDERS
    filter_backends = []  # OrderQuery validates, the page's selector filters
    query_form = OrderQuery

    def scope_queryset(self, queryset):
        """The Manage Orders page's filters (catalogs.selectors.order_search), with the
        statuses this API documents."""
        if self.action != "list":
            return queryset
        filters = clean_query(self.request, self.query_form)
        return selectors.order_search(tenant=self.tenant, filters=filters)

    @extend_schema(request=OrderBulkInput, responses=BulkOutput)
    @action(detail=False, methods=["post"])
    def bulk(self, request, *args, **kwargs):
        """Insert or update up to 10,000 order lines of one catalog; idempotent on
        (order_id, sku) within the catalog (another catalog's line of the same order id and
        sku is another line). Times are ISO 8601: one without an offset is a wall-clock time
        in the tenant's time zone, and a ship_by day alone is due by its end there."""
        # times without an offset are the tenant's wall-clock times, as in its files
        parse = partial(order_row_parse, tz=self.tenant.time_zone)
        return _bulk(self, request, parse=parse, upsert=services.orders_upsert, key="orders")


@extend_schema_view(list=extend_schema(parameters=[SKU_PARAM, CATALOG_PARAM]))
class DailyImpressionViewSet(TenantScopedReadOnlyViewSet):
    """Daily impressions. Filter with ?sku= and ?catalog=."""

    queryset = DailyImpression.objects.all()
    serializer_class = DailyImpressionSerializer
    required_perms = {"bulk": Perm.MANAGE_ORDERS}
    write_perm = Perm.MANAGE_ORDERS
    filter_backends = []  # ImpressionQuery validates
    query_form = ImpressionQuery

    def scope_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = clean_query(self.request, self.query_form)
        if "sku" in filters:
            queryset = queryset.filter(sku=filters["sku"])
        if "catalog" in filters:
            queryset = queryset.filter(catalog_id=filters["catalog"])
        return queryset

    @extend_schema(request=ImpressionBulkInput, responses=BulkOutput)
    @action(detail=False, methods=["post"])
    def bulk(self, request, *args, **kwargs):
        """Insert or update up to 10,000 daily impressions; idempotent on (sku, date)."""
        return _bulk(
            self,
            request,
            parse=impression_row_parse,
            upsert=services.impressions_upsert,
            key="impressions",
        )


def register(router) -> None:
    router.register("orders", OrderViewSet, basename="order")
    router.register("impressions", DailyImpressionViewSet, basename="impression")
