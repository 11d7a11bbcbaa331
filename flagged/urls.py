from django.urls import path

from catalog_health.tenancy.views import ComingSoonView

app_name = "flagged"

urlpatterns = [
    path(
        "flagged/",
        ComingSoonView.as_view(feature="Flagged products", issue="Flagged products"),
        name="flagged_list",
    ),
]
