from django.urls import path

from . import views

app_name = "feeds"

urlpatterns = [
    path("sources/", views.SourceListView.as_view(), name="source_list"),
    path(
        "catalogs/<int:catalog_id>/sources/",
        views.CatalogSourcesView.as_view(),
        name="catalog_sources",
    ),
    path("sources/<int:source_id>/", views.SourceDetailView.as_view(), name="source_detail"),
    path(
        "sources/<int:source_id>/refresh/", views.SourceRefreshView.as_view(), name="source_refresh"
    ),
    path("sources/<int:source_id>/upload/", views.SourceUploadView.as_view(), name="source_upload"),
    path("runs/<int:run_id>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:run_id>/progress/", views.RunProgressView.as_view(), name="run_progress"),
    path("runs/<int:run_id>/errors.csv", views.RunErrorsCsvView.as_view(), name="run_errors_csv"),
    path(
        "runs/<int:run_id>/changes.csv", views.RunChangesCsvView.as_view(), name="run_changes_csv"
    ),
    path("runs/<int:run_id>/confirm/", views.RunConfirmView.as_view(), name="run_confirm"),
]
