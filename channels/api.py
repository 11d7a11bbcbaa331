"""Channel feeds over the API: create (201 with the feed's absolute URL), list, read,
change, delete, and rotate the secret URL. The viewset only translates: services decide."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from catalog_health.api_base import TenantScopedModelViewSet
from catalogs.models import Catalog

from . import services
from .models import Channel, ChannelFeed, FeedFormat, FlaggedMode


class TenantCatalogField(serializers.PrimaryKeyRelatedField):
    """A catalog id of the caller's tenant; another tenant's id gets the same error as one
    that does not exist."""

    def get_queryset(self):
        return Catalog.objects.for_tenant(self.context["tenant"])


class ChannelFeedSerializer(serializers.ModelSerializer):
    catalog = TenantCatalogField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    format = serializers.ChoiceField(choices=FeedFormat.choices)
    flagged = serializers.ChoiceField(choices=FlaggedMode.choices, default=FlaggedMode.EXCLUDE)
    rules = serializers.JSONField(required=False)
    url = serializers.SerializerMethodField()
    basic_auth = serializers.BooleanField(source="has_basic_auth", read_only=True)

    class Meta:
        model = ChannelFeed
        fields = [
            "id",
            "catalog",
            "name",
            "channel",
            "format",
            "flagged",
            "label_slot",
            "include_pending",
            "rules",
            "url",
            "basic_auth",
            "basic_username",
            "created_at",
            "updated_at",
            "last_fetched_at",
        ]
        read_only_fields = ["basic_username", "created_at", "updated_at", "last_fetched_at"]

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(services.feed_path(obj))


class RotateOutput(serializers.Serializer):
    url = serializers.CharField()


def _service_errors(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class ChannelFeedViewSet(TenantScopedModelViewSet):
    """Outbound feeds per catalog and channel (Google, Meta, TikTok)."""

    queryset = ChannelFeed.objects.select_related("catalog")
    serializer_class = ChannelFeedSerializer
    filter_backends = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.select_related("catalog").order_by("id")

    def perform_create(self, serializer):
        try:
            serializer.instance = services.feed_create(
                tenant=self.tenant, actor=self.request.user, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "catalog" in data and data["catalog"].pk != serializer.instance.catalog_id:
            raise ValidationError({"catalog": ["A feed stays with its catalog."]})
        data.pop("catalog", None)
        try:
            serializer.instance = services.feed_update(
                tenant=self.tenant, actor=self.request.user, feed=serializer.instance, data=data
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc

    def perform_destroy(self, instance):
        services.feed_delete(tenant=self.tenant, actor=self.request.user, feed=instance)

    @extend_schema(request=None, responses=ChannelFeedSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """A new secret URL; the old one answers 404 from now on."""
        feed = services.feed_rotate(tenant=self.tenant, actor=request.user, feed=self.get_object())
        return Response(self.get_serializer(feed).data, status=status.HTTP_200_OK)


def register(router) -> None:
    router.register("channel-feeds", ChannelFeedViewSet, basename="channel-feed")
