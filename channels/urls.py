from django.urls import path

from . import views

app_name = "channels"

urlpatterns = [
    path(
        "catalogs/<int:catalog_id>/channel-feeds/",
        views.FeedListView.as_view(),
        name="feed_list",
    ),
    path(
        "catalogs/<int:catalog_id>/channel-feeds/<int:feed_id>/",
        views.FeedDetailView.as_view(),
        name="feed_detail",
    ),
]
