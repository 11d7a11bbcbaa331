from django import forms

from .models import ProductSource
from .services import SOURCE_FIELDS


class SourceForm(forms.ModelForm):
    """A product source. The password is write-only: never rendered back."""

    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the stored one.",
    )
    clear_password = forms.BooleanField(required=False, label="Forget the stored password")

    class Meta:
        model = ProductSource
        fields = list(SOURCE_FIELDS)
        widgets = {
            "schedule_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "url": forms.URLInput(attrs={"placeholder": "https://shop.example.com/feed.csv"}),
        }


class RefreshForm(forms.Form):
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "current-password"}),
        label="Feed password",
    )
    remember = forms.BooleanField(required=False, label="Remember this password (stored encrypted)")
    force = forms.BooleanField(required=False, label="Re-import even if the feed has not changed")


class UploadForm(forms.Form):
    file = forms.FileField(label="Feed file (CSV, TSV or XML; gzip or zip allowed)")
