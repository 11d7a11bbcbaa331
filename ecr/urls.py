from django.urls import path

from catalog_health.tenancy.views import ComingSoonView

app_name = "ecr"

urlpatterns = [
    path(
        "diagnostics/",
        ComingSoonView.as_view(feature="Diagnostics", issue="Product review and ECR"),
        name="diagnostics",
    ),
]
