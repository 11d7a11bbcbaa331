"""Catalogs and products over the API: thin serializers, scoping from TenantScopedViewSet."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound, ValidationError

from catalog_health.api_base import TenantScopedReadOnlyViewSet, TenantScopedViewSet
from catalog_health.api_filters import IdFilter
from catalog_health.tenancy.roles import Perm

from . import services
from .fields import FEED_FIELDS
from .models import Availability, Catalog, Product, ReviewStatus
from .rules import EDITABLE_FIELDS


class CatalogSerializer(serializers.ModelSerializer):
    class Meta:
        model = Catalog
        fields = ["id", "name", "country", "currency", "created_at"]
        read_only_fields = ["id", "created_at"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "catalog",
            *FEED_FIELDS,
            "review_status",
            "first_seen_at",
            "last_changed_at",
            "last_seen_at",
            "removed_at",
        ]
        read_only_fields = [f for f in fields if f not in EDITABLE_FIELDS]


class ProductUpdateSerializer(serializers.Serializer):
    """Input of PATCH/PUT: only the editable fields, all optional."""

    inventory_quantity = serializers.IntegerField(required=False, allow_null=True)
    price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    sale_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    shipping_fee = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    availability = serializers.ChoiceField(choices=Availability.choices, required=False)


class ProductFilter(django_filters.FilterSet):
    catalog = IdFilter(field_name="catalog_id")
    availability = django_filters.ChoiceFilter(choices=Availability.choices)
    review_status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    sku = django_filters.CharFilter(field_name="sku")
    q = django_filters.CharFilter(method="search", label="SKU prefix or title contains")

    class Meta:
        model = Product
        fields = ["catalog", "availability", "review_status", "sku"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(sku__istartswith=value) | Q(title__icontains=value))


class CatalogViewSet(TenantScopedReadOnlyViewSet):
    queryset = Catalog.objects.all()
    serializer_class = CatalogSerializer


class ProductViewSet(mixins.UpdateModelMixin, TenantScopedReadOnlyViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    write_perm = Perm.EDIT_PRODUCTS
    http_method_names = ["get", "patch", "put", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.active()

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return ProductUpdateSerializer
        return ProductSerializer

    def perform_update(self, serializer):
        try:
            product = services.product_update(
                tenant=self.tenant,
                product=serializer.instance,
                actor=self.request.user,
                data=dict(serializer.validated_data),
            )
        except services.ProductRemovedError as exc:
            raise NotFound from exc  # a pull removed it meanwhile: as if removed before
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        serializer.instance = product

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.data = ProductSerializer(self.get_object()).data
        return response


def register(router) -> None:
    router.register("catalogs", CatalogViewSet, basename="catalog")
    router.register("products", ProductViewSet, basename="product")
    from .api_orders import register as register_orders  # orders and impressions (#6)

    register_orders(router)


__all__ = ["TenantScopedViewSet", "register"]
