"""The feeds' public URLs (no login, no tenant in the path: the secret token names the feed)."""

from django.urls import path

from . import delivery

app_name = "channel_out"

urlpatterns = [
    path("<str:token>/<str:filename>", delivery.feed_out, name="feed_out"),
]
