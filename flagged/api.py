"""Flagged products over the API: the list with the tab's filters, and one product's metrics
and transition history."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.response import Response

from catalog_health.api_base import TenantScopedReadOnlyViewSet
from catalog_health.api_filters import IdField, clean_query
from catalog_health.api_pagination import CursorPaginationBase

from . import selectors
from .models import FlagState
from .scoring import METRICS, Level
from .scoring_sql import PREFIX
from .services import effective_policies


class FlaggedCursorPagination(CursorPaginationBase):
    ordering = ("-status_since", "-id")
    page_size = 50


class FlagStateSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    title = serializers.CharField(source="product.title")
    catalog_id = serializers.IntegerField(source="product.catalog_id")
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = FlagState
        fields = ["product_id", "sku", "title", "catalog_id", "status", "status_since", "reasons"]

    def get_reasons(self, obj) -> list[str]:
        return selectors.state_reasons(obj, self.context["policies"])


class MetricOutput(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()
    value_percent = serializers.FloatField(allow_null=True)
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    target_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    at_risk_threshold_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    higher_is_better = serializers.BooleanField()
    window_days = serializers.IntegerField()
    level = serializers.ChoiceField(choices=["ok", "at_risk", "impacted"])


class TransitionOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class FlaggedDetailOutput(FlagStateSerializer):
    metrics = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta(FlagStateSerializer.Meta):
        fields = [*FlagStateSerializer.Meta.fields, "metrics", "history"]

    @extend_schema_field(MetricOutput(many=True))
    def get_metrics(self, obj) -> list[dict]:
        results = selectors.product_metrics(
            tenant=self.context["tenant"], product=obj.product, now=timezone.now()
        )
        levels = {Level.OK: "ok", Level.AT_RISK: "at_risk", Level.IMPACTED: "impacted"}
        return [
            {
                "metric": r.metric.value,
                "label": METRICS[r.metric].label,
                "value_percent": float(r.counts.rate) if r.counts.rate is not None else None,
                "numerator": r.counts.numerator,
                "denominator": r.counts.denominator,
                "target_percent": r.policy.target,
                "at_risk_threshold_percent": r.policy.at_risk_threshold,
                "higher_is_better": METRICS[r.metric].higher_is_better,
                "window_days": r.policy.window_days,
                "level": levels[r.level],
            }
            for r in results
        ]

    @extend_schema_field(TransitionOutput(many=True))
    def get_history(self, obj) -> list[dict]:
        policies = self.context["policies"]
        return [
            {
                "at": t.at,
                "from_status": t.from_status,
                "to_status": t.to_status,
                "reasons": selectors.state_reasons(t, selectors.transition_policies(t, policies)),
            }
            for t in selectors.product_transitions(
                tenant=self.context["tenant"], product=obj.product
            )
        ]


FILTER_PARAMS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=["impacted", "at_risk", "resolved"]),
    OpenApiParameter("reason", OpenApiTypes.STR, enum=[m.value for m in METRICS]),
    OpenApiParameter("q", OpenApiTypes.STR, description="SKU prefix or words of the title"),
    OpenApiParameter("catalog", OpenApiTypes.INT),
]


def _choices(values) -> list[tuple[str, str]]:
    return [("", "")] + [(str(v), str(v)) for v in values]


class FlaggedQuery(forms.Form):
    """The list's filters: an invalid value is a 400, another tenant's catalog an empty page."""

    status = forms.ChoiceField(required=False, choices=_choices(selectors.LISTED))
    # metric codes, and the short prefixes the tab's links use
    reason = forms.ChoiceField(
        required=False, choices=_choices([*(m.value for m in METRICS), *PREFIX.values()])
    )
    q = forms.CharField(required=False, max_length=200)
    catalog = IdField(required=False)


@extend_schema_view(list=extend_schema(parameters=FILTER_PARAMS))
class FlaggedProductViewSet(TenantScopedReadOnlyViewSet):
    """Flagged products (Impacted, At risk, Resolved). Retrieve by product id."""

    queryset = FlagState.objects.all()
    serializer_class = FlagStateSerializer
    pagination_class = FlaggedCursorPagination
    # /api/v1/flagged-products/<product id>/: the URL names the product, not the state row.
    lookup_field = "product_id"
    lookup_url_kwarg = "pk"
    filter_backends = []
    query_form = FlaggedQuery

    def scope_queryset(self, queryset):
        filters = clean_query(self.request, self.query_form) if self.action == "list" else {}
        return selectors.flagged_filter(queryset, filters, tenant=self.tenant)

    def get_serializer_class(self):
        return FlaggedDetailOutput if self.action == "retrieve" else FlagStateSerializer

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        if getattr(self, "tenant", None) is not None:
            ctx["policies"] = effective_policies(tenant=self.tenant)
        return ctx

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)


def register(router) -> None:
    router.register("flagged-products", FlaggedProductViewSet, basename="flagged-product")
