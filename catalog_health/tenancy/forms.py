from django import forms
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm

from .roles import Role, assignable_roles


class InviteMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices)
    password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="For a new user only. Leave it empty and give their email address: they are "
        "emailed a link to set their own.",
    )

    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = assignable_roles(actor_role)
        self.fields["role"].choices = [c for c in Role.choices if c[0] in allowed]
        self.fields["role"].initial = Role.VIEWER
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name == "role" else "form-control"
        self.fields["password"].widget.attrs["autocomplete"] = "new-password"


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = assignable_roles(actor_role)
        self.fields["role"].choices = [c for c in Role.choices if c[0] in allowed]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this token, e.g. 'ERP sync'.")


class TenantSettingsForm(forms.Form):
    """How the tenant's imported order and impression files are read."""

    date_order = forms.ChoiceField(
        label="Dates in imported files",
        choices=[
            ("", "Ask me for each file that cannot tell"),
            ("dmy", "Day first (31/12/2026)"),
            ("mdy", "Month first (12/31/2026)"),
        ],
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text="Used only when no date in a file has a day above 12 (03/04/2026 could be "
        "3 April or March 4); a file whose dates tell is read as they say.",
    )


class AccountPasswordResetForm(PasswordResetForm):
    """Django's reset page, sending through tenancy.accounts (also to an account that never
    had a password, throttled per address, links from SITE_URL)."""

    def save(self, *args, **kwargs) -> None:
        from .accounts import password_reset_send

        password_reset_send(email=self.cleaned_data["email"])


class AccountEmailForm(forms.Form):
    email = forms.CharField(label="Email address", max_length=254, required=False)
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        help_text="To confirm it is you.",
    )


class TenantTimeZoneForm(forms.Form):
    """The tenant's time zone: schedules, digests and the times pages show follow it."""

    time_zone = forms.ChoiceField(label="Time zone")

    def __init__(self, *args, **kwargs):
        import zoneinfo

        super().__init__(*args, **kwargs)
        zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
        self.fields["time_zone"].choices = [(z, z.replace("_", " ")) for z in zones]
        self.fields["time_zone"].widget.attrs["class"] = "form-select"


class AccountPasswordChangeForm(PasswordChangeForm):
    """Django's password change, its old password confirmed as the account page confirms
    an email change (wrong ones throttled)."""

    def clean_old_password(self):
        from .accounts import password_confirm

        old = self.cleaned_data["old_password"]
        if refused := password_confirm(self.user, old):
            raise forms.ValidationError(refused, code="password_incorrect")
        return old
