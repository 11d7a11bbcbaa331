from django.urls import path

from . import views

app_name = "catalogs"

urlpatterns = [
    path("catalogs/", views.CatalogListView.as_view(), name="catalog_list"),
    path("catalogs/<int:catalog_id>/", views.CatalogDetailView.as_view(), name="catalog_detail"),
    path(
        "catalogs/<int:catalog_id>/products/<int:product_id>/",
        views.ProductDetailView.as_view(),
        name="product_detail",
    ),
]

# Manage Orders arrives with the Flagged products issue.
from catalog_health.tenancy.views import ComingSoonView  # noqa: E402

urlpatterns += [
    path(
        "orders/",
        ComingSoonView.as_view(feature="Manage Orders", issue="Flagged products"),
        name="order_list",
    ),
]
