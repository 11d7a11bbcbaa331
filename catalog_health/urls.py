from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from catalog_health.api import router
from catalog_health.api_errors import api_not_found
from catalog_health.health import healthz
from catalog_health.tenancy import views as tenancy_views
from catalog_health.tenancy.forms import AccountPasswordChangeForm, AccountPasswordResetForm

tenant_patterns = [
    path("", include("catalog_health.tenancy.urls")),
    path("", include("catalog_health.overview.urls")),
    path("", include("catalogs.urls")),
    path("", include("feeds.urls")),
    path("", include("ecr.urls")),
    path("", include("flagged.urls")),
    path("", include("channels.urls")),
]

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("tenants/", tenancy_views.tenant_list, name="tenant_list"),
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=AccountPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", tenancy_views.AccountView.as_view(), name="account"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(form_class=AccountPasswordChangeForm),
        name="password_change",
    ),
    # the rest of Django's password views, under the names and templates it expects
    path("accounts/", include("django.contrib.auth.urls")),
    path("channel-feeds/", include("channels.public_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's initialiser comes from a second request to the same URL (?script), not an
    # inline <script>: the Content-Security-Policy allows scripts from our origin only.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"),
        name="api_redoc",
    ),
    path("healthz", healthz, name="healthz"),
    # last: a path under /api/ that no route above serves
    re_path(r"^api/", api_not_found),
]
