from django.urls import path

from . import views

app_name = "catalogs"

urlpatterns = [
    path("catalogs/", views.CatalogListView.as_view(), name="catalog_list"),
    path("catalogs/<int:catalog_id>/", views.CatalogDetailView.as_view(), name="catalog_detail"),
    path(
        "catalogs/<int:catalog_id>/products.csv",
        views.ProductExportView.as_view(),
        name="product_export",
    ),
    path(
        "catalogs/<int:catalog_id>/products/<int:product_id>/",
        views.ProductDetailView.as_view(),
        name="product_detail",
    ),
]

urlpatterns += [
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path(
        "catalogs/<int:catalog_id>/settings/",
        views.CatalogSettingsView.as_view(),
        name="catalog_settings",
    ),
    path(
        "catalogs/<int:catalog_id>/uploads/",
        views.CatalogUploadView.as_view(),
        name="catalog_upload",
    ),
    path(
        "catalogs/<int:catalog_id>/uploads/<int:upload_id>/",
        views.CatalogUploadDetailView.as_view(),
        name="catalog_upload_detail",
    ),
    path("orders/mappings/", views.MappingPresetListView.as_view(), name="mapping_preset_list"),
    path(
        "orders/mappings/<int:preset_id>/delete/",
        views.MappingPresetDeleteView.as_view(),
        name="mapping_preset_delete",
    ),
]
