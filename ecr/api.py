"""Review and ECR over the API: product issues, products by review status, ECR state,
history and diagnostics per catalog. Thin serializers; scoping from TenantScopedViewSet."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Prefetch
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog_health.api_base import TenantScopedReadOnlyViewSet
from catalog_health.api_filters import IdFilter
from catalog_health.tenancy.roles import Perm
from catalogs.models import Catalog, Product, ReviewStatus

from . import rules, selectors, services
from .models import EcrEvent, EcrTrigger, ProductIssue, ReviewSettings, Severity

CODE_CHOICES = sorted((c, r.title) for c, r in rules.RULES.items())


class ProductIssueSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = ProductIssue
        fields = [
            "id",
            "catalog",
            "product",
            "sku",
            "code",
            "severity",
            "field",
            "message",
            "how_to_fix",
            "rule",
            "created_at",
        ]


class IssueFilter(django_filters.FilterSet):
    catalog = IdFilter(field_name="catalog_id")
    product = IdFilter(field_name="product_id")
    code = django_filters.ChoiceFilter(choices=CODE_CHOICES)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    review_status = django_filters.ChoiceFilter(
        field_name="product__review_status", choices=ReviewStatus.choices
    )

    class Meta:
        model = ProductIssue
        fields = ["catalog", "product", "code", "severity", "review_status"]


class ProductIssueViewSet(TenantScopedReadOnlyViewSet):
    """Issues found by review, one row per (product, issue). Active products only."""

    queryset = ProductIssue.objects.all()
    serializer_class = ProductIssueSerializer
    filterset_class = IssueFilter

    def scope_queryset(self, queryset):
        return queryset.filter(product__removed_at__isnull=True).select_related("product")


class IssueBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductIssue
        fields = ["code", "severity", "field", "message", "how_to_fix", "rule"]


class ReviewedProductSerializer(serializers.ModelSerializer):
    issues = IssueBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "catalog",
            "sku",
            "title",
            "review_status",
            "review_requested_at",
            "reviewed_at",
            "issues",
        ]


class ReviewFilter(django_filters.FilterSet):
    catalog = IdFilter(field_name="catalog_id")
    review_status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    code = django_filters.ChoiceFilter(choices=CODE_CHOICES, method="with_issue")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, method="with_issue")

    class Meta:
        model = Product
        fields = ["catalog", "review_status"]

    def with_issue(self, queryset, name, value):
        # Code and severity name one issue, as a Diagnostics group and its drill-down count
        # it: a product with the code as a warning and another code's error is no match.
        # The first of the two given builds the one subquery, with both.
        given = {f: v for f in ("code", "severity") if (v := self.form.cleaned_data.get(f))}
        if name != next(iter(given)):
            return queryset
        issues = ProductIssue.objects.filter(product_id=OuterRef("pk"), **given)
        return queryset.filter(Exists(issues))


class ReviewedProductViewSet(TenantScopedReadOnlyViewSet):
    """Active products with their review status and issues; filter by review status,
    issue code or severity."""

    queryset = Product.objects.all()
    serializer_class = ReviewedProductSerializer
    filterset_class = ReviewFilter

    def scope_queryset(self, queryset):
        return queryset.active().prefetch_related(
            Prefetch(
                "issues",
                queryset=ProductIssue.objects.for_tenant(self.tenant).order_by("severity", "code"),
            )
        )


class EcrEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = EcrEvent
        fields = [
            "id",
            "enabled",
            "reason",
            "trigger",
            "ratio",
            "active_count",
            "available_count",
            "disable_threshold",
            "enable_threshold",
            "created_at",
        ]


class EcrCatalogSerializer(serializers.Serializer):
    catalog = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    ecr_enabled = serializers.SerializerMethodField()
    ratio = serializers.SerializerMethodField()
    active_count = serializers.SerializerMethodField()
    available_count = serializers.SerializerMethodField()
    unavailable_count = serializers.SerializerMethodField()
    pending_count = serializers.SerializerMethodField()
    disable_threshold = serializers.SerializerMethodField()
    enable_threshold = serializers.SerializerMethodField()
    min_products = serializers.SerializerMethodField()
    evaluated = serializers.SerializerMethodField()
    evaluated_at = serializers.SerializerMethodField()

    def _state(self, obj):
        return getattr(obj, "ecr_state", None)

    def _thresholds(self, obj):
        if "review_settings" not in self.context:  # one query per response, not per field
            self.context["review_settings"] = ReviewSettings.current()
        return services.thresholds_for(
            ecr=self._state(obj), settings=self.context["review_settings"]
        )

    def get_ecr_enabled(self, obj) -> bool:
        s = self._state(obj)
        return True if s is None else s.enabled

    def get_ratio(self, obj) -> float | None:
        s = self._state(obj)
        return s.ratio if s else None

    def get_active_count(self, obj) -> int:
        s = self._state(obj)
        return s.active_count if s else 0

    def get_available_count(self, obj) -> int:
        s = self._state(obj)
        return s.available_count if s else 0

    def get_unavailable_count(self, obj) -> int:
        s = self._state(obj)
        return s.unavailable_count if s else 0

    def get_pending_count(self, obj) -> int:
        s = self._state(obj)
        return s.pending_count if s else 0

    def get_disable_threshold(self, obj) -> str:
        return str(self._thresholds(obj).disable)

    def get_enable_threshold(self, obj) -> str:
        return str(self._thresholds(obj).enable)

    def get_min_products(self, obj) -> int:
        return self._thresholds(obj).min_products

    def get_evaluated(self, obj) -> bool:
        """Whether the last check compared the share with the thresholds: false before any
        check and while the catalog has fewer than min_products active products (pages
        read "Not evaluated")."""
        s = self._state(obj)
        if s is None or s.evaluated_at is None:
            return False
        return services.ecr_state.evaluates(active=s.active_count, thresholds=self._thresholds(obj))

    def get_evaluated_at(self, obj) -> str | None:
        s = self._state(obj)
        return s.evaluated_at.isoformat() if s and s.evaluated_at else None


DiagnosticsSerializer = inline_serializer(
    "EcrDiagnostics",
    {
        "catalog": serializers.IntegerField(),
        "active": serializers.IntegerField(),
        "available": serializers.IntegerField(),
        "unavailable": serializers.IntegerField(),
        "pending": serializers.IntegerField(),
        "groups": inline_serializer(
            "EcrIssueGroup",
            {
                "code": serializers.CharField(),
                "severity": serializers.CharField(),
                "title": serializers.CharField(),
                "field": serializers.CharField(),
                "how_to_fix": serializers.CharField(),
                "products": serializers.IntegerField(),
                "share": serializers.FloatField(allow_null=True),
                "trend": serializers.IntegerField(allow_null=True),
                "awaiting_review": serializers.IntegerField(
                    help_text="Pending products whose last review found this issue; not "
                    "in products until they are reviewed again"
                ),
            },
            many=True,
        ),
    },
)


class EcrCatalogViewSet(TenantScopedReadOnlyViewSet):
    """ECR state per catalog (by catalog id), its history and its diagnostics summary."""

    queryset = Catalog.objects.all()
    serializer_class = EcrCatalogSerializer
    required_perms = {"check": Perm.MANAGE_CATALOGS}

    def scope_queryset(self, queryset):
        return queryset.select_related("ecr_state").order_by("id")

    @extend_schema(responses=EcrEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        catalog = self.get_object()
        qs = selectors.ecr_events(tenant=self.tenant, catalog=catalog)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(EcrEventSerializer(page, many=True).data)

    @extend_schema(responses=DiagnosticsSerializer)
    @action(detail=True, methods=["get"])
    def diagnostics(self, request, pk=None):
        catalog = self.get_object()
        d = services.catalog_diagnostics(
            tenant=self.tenant, catalog=catalog, ecr=getattr(catalog, "ecr_state", None)
        )
        counts, groups = d.counts, [*d.error_groups, *d.warning_groups]
        return Response(
            {
                "catalog": catalog.pk,
                "active": counts.active,
                "available": counts.available,
                "unavailable": counts.unavailable,
                "pending": counts.pending,
                "groups": [g.__dict__ for g in groups],
            }
        )

    @extend_schema(request=None, responses=EcrCatalogSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        """Evaluate the catalog's ECR state now."""
        catalog = self.get_object()
        services.ecr_evaluate(
            tenant=self.tenant, catalog=catalog, trigger=EcrTrigger.MANUAL, actor=request.user
        )
        catalog = self.get_queryset().get(pk=catalog.pk)
        return Response(self.get_serializer(catalog).data)


def register(router) -> None:
    router.register("ecr/issues", ProductIssueViewSet, basename="ecr-issue")
    router.register("ecr/products", ReviewedProductViewSet, basename="ecr-product")
    router.register("ecr/catalogs", EcrCatalogViewSet, basename="ecr-catalog")
