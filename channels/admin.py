from django.contrib import admin

from .models import ChannelFeed, ChannelFeedFetch


@admin.register(ChannelFeed)
class ChannelFeedAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "catalog", "channel", "format", "flagged", "last_fetched_at")
    list_filter = ("channel", "format", "flagged")
    raw_id_fields = ("tenant", "catalog", "created_by")
    # the token is the feed's secret: staff rotate it on the feed's page, never read it here
    exclude = ("token", "basic_password_hash")
    readonly_fields = ("last_fetched_at",)


@admin.register(ChannelFeedFetch)
class ChannelFeedFetchAdmin(admin.ModelAdmin):
    list_display = ("feed", "at", "status", "bytes", "user_agent")
    list_filter = ("status",)
    raw_id_fields = ("tenant", "feed")
