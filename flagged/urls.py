from django.urls import path

from . import views

app_name = "flagged"

urlpatterns = [
    path("flagged/", views.FlaggedListView.as_view(), name="flagged_list"),
    path("flagged/export.csv", views.FlaggedExportView.as_view(), name="flagged_export"),
    path("flagged/<int:product_id>/", views.FlaggedDetailView.as_view(), name="flagged_detail"),
]
