"""Product sources and feed runs over the API: thin serializers; services do the work."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from catalog_health.api_base import TenantScopedReadOnlyViewSet, TenantScopedViewSet
from catalog_health.api_filters import BooleanFilter, IdFilter
from catalog_health.api_input import validated_body
from catalog_health.api_parsers import DEFAULT as DEFAULT_PARSERS
from catalog_health.tenancy.roles import Perm
from catalogs.models import Catalog

from . import selectors, services
from .models import FeedRun, ProductSource, SourceKind, Trigger
from .schedule import WRITE_HH_MM, parse_schedule_time

# Retry-After of a Request Data Now answered 503 because the task queue cannot be reached.
QUEUE_RETRY_AFTER_SECONDS = 60


class ScheduleTimeField(serializers.TimeField):
    """HH:MM in the tenant's time zone (feeds.schedule.parse_schedule_time): DRF's own
    parser dropped a UTC offset and kept seconds, pulling at a time nobody asked for."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            raise ValidationError(WRITE_HH_MM)
        tenant = self.context.get("tenant")
        try:
            return parse_schedule_time(value, time_zone=tenant.time_zone if tenant else "UTC")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class ProductSourceSerializer(serializers.ModelSerializer):
    """The password is write-only: it is accepted, encrypted, and never returned."""

    catalog = serializers.PrimaryKeyRelatedField(queryset=Catalog.objects.none())
    # a password is taken as sent: spaces at either end are part of it
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        style={"input_type": "password"},
    )
    has_password = serializers.BooleanField(read_only=True)
    schedule_time = ScheduleTimeField(
        required=False,
        allow_null=True,
        help_text="daily and weekly: HH:MM in the tenant's time zone, without a UTC offset "
        "(answered as HH:MM:00)",
    )
    forget_host_key = serializers.BooleanField(
        write_only=True,
        required=False,
        help_text="sftp: clear the pinned host key; the next pull trusts the server's key",
    )

    class Meta:
        model = ProductSource
        fields = [
            "id",
            "catalog",
            "name",
            "kind",
            "url",
            "username",
            "password",
            "has_password",
            "format",
            "compression",
            "encoding",
            "mode",
            "schedule",
            "schedule_time",
            "schedule_weekday",
            "enabled",
            "next_pull_at",
            "last_success_at",
            "host_key_type",
            "host_key_fingerprint",
            "forget_host_key",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "has_password",
            "next_pull_at",
            "last_success_at",
            "host_key_type",
            "host_key_fingerprint",
            "created_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tenant = self.context.get("tenant")
        if tenant is not None:  # only the caller's catalogs can be named (others: invalid)
            self.fields["catalog"].queryset = Catalog.objects.for_tenant(tenant)


def run_url(request, run: FeedRun) -> str:
    return request.build_absolute_uri(reverse("feedrun-detail", kwargs={"pk": run.pk}))


class FeedRunSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = FeedRun
        fields = [
            "id",
            "source",
            "catalog",
            "trigger",
            "mode",
            "status",
            "phase",
            "received",
            "created",
            "updated",
            "unchanged",
            "removed",
            "rejected",
            "warnings",
            "durations",
            "error_code",
            "error_message",
            "details_deleted_at",
            "hold_reason",
            "held_removals_digest",
            "confirmed_at",
            "queued_at",
            "started_at",
            "finished_at",
            "progress",
            "page_url",
        ]
        read_only_fields = fields

    def get_progress(self, obj) -> dict:
        return {
            "rows_done": obj.rows_done,
            "rows_total": obj.rows_total,
            "bytes_downloaded": obj.bytes_downloaded,
        }

    def get_page_url(self, obj) -> str:
        return reverse(
            "feeds:run_detail",
            kwargs={"tenant_slug": self.context["tenant"].slug, "run_id": obj.pk},
        )


class RefreshInput(serializers.Serializer):
    password = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default="", trim_whitespace=False
    )
    remember = serializers.BooleanField(required=False, default=False)
    force = serializers.BooleanField(required=False, default=False)


class ProductSourceFilter(django_filters.FilterSet):
    catalog = IdFilter(field_name="catalog_id")
    enabled = BooleanFilter()

    class Meta:
        model = ProductSource
        fields = ["catalog", "enabled", "kind"]


class FeedRunFilter(django_filters.FilterSet):
    source = IdFilter(field_name="source_id")
    catalog = IdFilter(field_name="catalog_id")

    class Meta:
        model = FeedRun
        fields = ["source", "catalog", "status"]


class ProductSourceViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    TenantScopedViewSet,
):
    """CRUD of product sources; `refresh` (Request Data Now) and `upload` start runs."""

    queryset = ProductSource.objects.all()
    serializer_class = ProductSourceSerializer
    write_perm = Perm.MANAGE_SOURCES
    filterset_class = ProductSourceFilter
    parser_classes = DEFAULT_PARSERS

    def scope_queryset(self, queryset):
        return queryset.select_related("catalog")

    def _data(self, validated: dict) -> dict:
        keys = (*services.SOURCE_FIELDS, "forget_host_key")
        return {k: v for k, v in validated.items() if k in keys}

    def perform_create(self, serializer):
        v = serializer.validated_data
        try:
            serializer.instance = services.source_create(
                tenant=self.tenant,
                catalog=v["catalog"],
                actor=self.request.user,
                data=self._data(v),
                password=v.get("password", ""),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc

    def perform_update(self, serializer):
        v = serializer.validated_data
        if "catalog" in v and v["catalog"].pk != serializer.instance.catalog_id:
            raise ValidationError({"catalog": "A source cannot move to another catalog."})
        try:
            serializer.instance = services.source_update(
                tenant=self.tenant,
                source=serializer.instance,
                actor=self.request.user,
                data=self._data(v),
                password=v.get("password") or None,
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc

    def perform_destroy(self, instance):
        services.source_delete(tenant=self.tenant, source=instance, actor=self.request.user)

    def _started(self, run: FeedRun, created: bool) -> Response:
        run.refresh_from_db()
        body = FeedRunSerializer(run, context=self.get_serializer_context()).data
        body["run_url"] = run_url(self.request, run)
        body["already_running"] = not created
        if run.status == "failed" and run.error_code == "queue":
            # the message says "try again in a minute"; clients that honour Retry-After do
            return Response(
                body,
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(QUEUE_RETRY_AFTER_SECONDS)},
            )
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["run_url"]}
        )

    @extend_schema(request=RefreshInput, responses={202: FeedRunSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        """Request Data Now: 202 with the run's URL (or the run already queued/running)."""
        source = self.get_object()
        if source.kind != SourceKind.URL:
            raise ValidationError({"detail": "This source has no URL; upload a file instead."})
        data = validated_body(RefreshInput, request.data)
        password = data["password"] or ""
        if selectors.refresh_needs_password(tenant=self.tenant, source=source, password=password):
            raise ValidationError({"password": "This feed needs its password."})
        try:
            run, created = services.feed_run_request(
                tenant=self.tenant,
                source=source,
                actor=request.user,
                trigger=Trigger.API,
                password=password,
                remember=data["remember"],
                force=data["force"],
            )
        except services.RefreshRateLimited as exc:
            return Response(
                {"detail": str(exc)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(exc.seconds)},
            )
        return self._started(run, created)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={202: FeedRunSerializer},
    )
    @action(detail=True, methods=["post"])
    def upload(self, request, pk=None):
        """Upload a feed file to the source (multipart field `file`): 202 with the run."""
        source = self.get_object()
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "Send the feed file in the multipart field “file”."})
        run, created = services.feed_run_upload(
            tenant=self.tenant, source=source, actor=request.user, uploaded=upload
        )
        return self._started(run, created)


class ConfirmInput(serializers.Serializer):
    removal_digest = serializers.CharField(
        help_text="the run's held_removals_digest as you read it: the run removes only that "
        "set of products, and a run whose removals changed since is a 409"
    )


class RunNotWaiting(serializers.Serializer):
    detail = serializers.CharField()


NOT_WAITING = OpenApiResponse(
    RunNotWaiting,
    description="the run is not waiting for confirmation, another run of its source is in "
    "progress, or its removals changed since they were read: nothing was done",
)


class FeedRunViewSet(TenantScopedReadOnlyViewSet):
    """Runs: status, phase, progress and counts (poll `GET /api/v1/runs/{id}`); a run held
    for confirmation (`needs_confirmation`) is confirmed or discarded as on its page."""

    queryset = FeedRun.objects.all()
    serializer_class = FeedRunSerializer
    filterset_class = FeedRunFilter
    write_perm = Perm.MANAGE_SOURCES  # the run page's confirm and discard buttons

    def scope_queryset(self, queryset):
        return queryset

    def _answer(self, run: FeedRun, status_code: int, headers=None) -> Response:
        body = FeedRunSerializer(run, context=self.get_serializer_context()).data
        return Response(body, status=status_code, headers=headers)

    @extend_schema(
        request=ConfirmInput,
        responses={202: FeedRunSerializer, 409: NOT_WAITING, 503: FeedRunSerializer},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Apply a held run: 202 with the run, queued again. Send the removal digest the
        run showed (`held_removals_digest`)."""
        run = self.get_object()
        data = validated_body(ConfirmInput, request.data)
        try:
            run = services.feed_run_confirm(
                tenant=self.tenant,
                run=run,
                actor=request.user,
                removal_digest=data["removal_digest"],
            )
        except services.RunNotConfirmable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        run.refresh_from_db()
        if run.error_code == "queue":  # still held: the task queue could not be reached
            return self._answer(
                run,
                status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(QUEUE_RETRY_AFTER_SECONDS)},
            )
        url = run_url(request, run)
        return self._answer(run, status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(request=None, responses={200: FeedRunSerializer, 409: NOT_WAITING})
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Discard a held run: 200 with the run, cancelled; the catalog stays as it was."""
        run = self.get_object()
        validated_body(serializers.Serializer, request.data)
        try:
            run = services.feed_run_cancel(tenant=self.tenant, run=run, actor=request.user)
        except services.RunNotConfirmable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return self._answer(run, status.HTTP_200_OK)


def register(router) -> None:
    router.register("sources", ProductSourceViewSet, basename="productsource")
    router.register("runs", FeedRunViewSet, basename="feedrun")


__all__ = ["register", "selectors"]
