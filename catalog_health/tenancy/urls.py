from django.urls import path

from . import views

app_name = "tenancy"

urlpatterns = [
    path("", views.TenantHomeView.as_view(), name="tenant_home"),
    path("members/", views.MembersView.as_view(), name="members"),
    path("members/leave/", views.MemberLeaveView.as_view(), name="member_leave"),
    path("settings/", views.TenantSettingsView.as_view(), name="tenant_settings"),
    path("api-tokens/", views.ApiTokensView.as_view(), name="api_tokens"),
    path("emails/", views.EmailPreferencesView.as_view(), name="email_preferences"),
]
