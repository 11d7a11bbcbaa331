from django.urls import path

from catalog_health.tenancy.views import ComingSoonView

app_name = "feeds"

urlpatterns = [
    path(
        "sources/",
        ComingSoonView.as_view(
            feature="Product sources", issue="Product sources and feed ingestion"
        ),
        name="source_list",
    ),
]
