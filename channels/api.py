"""Channel feeds over the API: create (201 with the feed's absolute URL), list, read,
change (settings, rules, HTTP Basic credentials), delete, and rotate the secret URL. The
viewset only translates: services decide."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from catalog_health.api_base import TenantScopedModelViewSet
from catalogs.models import Catalog

from . import selectors, services
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
    basic_username = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=150,
        help_text="HTTP Basic user name the channel must send; an empty one removes the "
        "credentials. Sent with basic_password.",
    )
    basic_password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        max_length=200,
        style={"input_type": "password"},
        help_text="HTTP Basic password (at least 8 characters), stored hashed and never shown.",
    )

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
            "basic_password",
            "created_at",
            "updated_at",
            "last_fetched_at",
        ]
        read_only_fields = ["created_at", "updated_at", "last_fetched_at"]

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(services.feed_path(obj))


class LeftOutSerializer(serializers.Serializer):
    """The catalog's active products by what the feed does with them: the counts its page
    shows (selectors.feed_left_out; each product counted once, for its first reason)."""

    included = serializers.IntegerField(
        help_text="Products the feed carries (before the rules' exclusions)."
    )
    unavailable = serializers.IntegerField(help_text="Left out: Unavailable after review.")
    pending = serializers.IntegerField(
        help_text="Left out: not reviewed yet (0 when the feed includes Pending products)."
    )
    impacted = serializers.IntegerField(
        help_text="Left out: Impacted (0 unless flagged is exclude)."
    )
    labelled = serializers.IntegerField(
        help_text="Carried with an impacted or at_risk label (flagged is label)."
    )
    long_id = serializers.IntegerField(
        help_text="Left out: an id longer than the channel takes (0 on a channel with no limit)."
    )
    long_value = serializers.IntegerField(
        help_text=(
            "Left out: a link, item_group_id or other value that cannot be shortened, longer "
            "than the channel takes, counted before the rules (Google: item_group_id over 50)."
        )
    )
    no_brand = serializers.IntegerField(
        help_text=(
            "Left out: no brand where the channel requires one (TikTok), or no brand, GTIN "
            "or MPN (Meta, which takes one of them), counted before the rules (0 on Google)."
        )
    )
    no_price = serializers.IntegerField(
        help_text=(
            "Left out: no price, or a price not above zero as written in the currency's minor "
            "units (0.40 JPY is 0 JPY), counted before the rules."
        )
    )
    no_image = serializers.IntegerField(
        help_text="Left out: no image_link (Google, Meta and TikTok require one), counted before "
        "the rules."
    )
    missing_value = serializers.IntegerField(
        help_text="Left out: no title, description or link (every channel requires them; a "
        "Pending product the feed includes may lack one), counted before the rules."
    )
    no_availability_date = serializers.IntegerField(
        help_text="Left out: availability preorder or backorder without the availability_date "
        "the channel requires with them (Google; 0 on Meta and TikTok), counted before the rules."
    )
    invalid_value = serializers.IntegerField(
        help_text=(
            "Left out: a field rule gave price, sale_price, availability, condition, "
            "availability_date or a link a value the channel refuses (price 'call us'), counted "
            "at the feed's last complete fetch (0 before the first)."
        )
    )


class ChannelFeedDetailSerializer(ChannelFeedSerializer):
    """A feed with the counts of the products it leaves out (one query, so on the detail
    only: the list stays a fixed number of queries)."""

    left_out = serializers.SerializerMethodField()

    class Meta(ChannelFeedSerializer.Meta):
        fields = [*ChannelFeedSerializer.Meta.fields, "left_out"]

    @extend_schema_field(LeftOutSerializer)
    def get_left_out(self, obj) -> dict:
        return LeftOutSerializer(selectors.feed_left_out(obj)).data


class RotateOutput(serializers.Serializer):
    url = serializers.CharField()


def _service_errors(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


def _pop_credentials(data: dict) -> tuple[str, str] | None:
    """The user name and password sent, taken out of data; None when neither was. The
    password goes with the user name (an empty one removes both), as on the feed's page."""
    if "basic_username" not in data and "basic_password" not in data:
        return None
    if "basic_username" not in data:
        raise ValidationError({"basic_username": ["Send the user name with the password."]})
    return data.pop("basic_username"), data.pop("basic_password", "")


class ChannelFeedViewSet(TenantScopedModelViewSet):
    """Outbound feeds per catalog and channel (Google, Meta, TikTok)."""

    queryset = ChannelFeed.objects.select_related("catalog")
    serializer_class = ChannelFeedSerializer
    filter_backends = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.select_related("catalog").order_by("id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ChannelFeedDetailSerializer
        return ChannelFeedSerializer

    def _set_credentials(self, feed: ChannelFeed, credentials: tuple[str, str] | None) -> None:
        # the page's service: its checks, the password hashed, the change audited
        if credentials is not None:
            username, password = credentials
            services.feed_set_basic_auth(
                tenant=self.tenant,
                actor=self.request.user,
                feed=feed,
                username=username,
                password=password,
            )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        credentials = _pop_credentials(data)
        try:
            # one transaction: a refused password leaves no feed without its credentials
            with transaction.atomic():
                feed = services.feed_create(tenant=self.tenant, actor=self.request.user, **data)
                self._set_credentials(feed, credentials)
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        serializer.instance = feed

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "catalog" in data and data["catalog"].pk != serializer.instance.catalog_id:
            raise ValidationError({"catalog": ["A feed stays with its catalog."]})
        data.pop("catalog", None)
        credentials = _pop_credentials(data)
        try:
            # one transaction: settings and credentials are saved together or not at all
            with transaction.atomic():
                feed = services.feed_update(
                    tenant=self.tenant, actor=self.request.user, feed=serializer.instance, data=data
                )
                self._set_credentials(feed, credentials)
        except DjangoValidationError as exc:
            serializer.instance.refresh_from_db()
            raise _service_errors(exc) from exc
        serializer.instance = feed

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
