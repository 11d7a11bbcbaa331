from django.urls import path

from . import views

app_name = "ecr"

urlpatterns = [
    path("diagnostics/", views.DiagnosticsOverviewView.as_view(), name="diagnostics"),
    path("catalogs/<int:catalog_id>/ecr/", views.CatalogEcrView.as_view(), name="catalog_ecr"),
    path(
        "catalogs/<int:catalog_id>/diagnostics/",
        views.CatalogDiagnosticsView.as_view(),
        name="catalog_diagnostics",
    ),
    path(
        "catalogs/<int:catalog_id>/diagnostics/products/",
        views.IssueProductsView.as_view(),
        name="issue_products",
    ),
    path(
        "catalogs/<int:catalog_id>/diagnostics/export.csv",
        views.DiagnosticsExportView.as_view(),
        name="diagnostics_export",
    ),
]
