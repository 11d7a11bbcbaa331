from django import forms

from .models import ProductSource
from .services import SOURCE_FIELDS


class SourceForm(forms.ModelForm):
    """A product source. The password is write-only: never rendered back."""

    # a password is taken as typed: spaces at either end are part of it
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the stored one.",
    )
    clear_password = forms.BooleanField(required=False, label="Forget the stored password")
    # passed to source_update with the fields (the page posts Meta.fields as the data)
    forget_host_key = forms.BooleanField(
        required=False, label="Forget the stored host key (trust the server's next key)"
    )

    class Meta:
        model = ProductSource
        fields = [*SOURCE_FIELDS, "forget_host_key"]
        help_texts = {
            "mode": (
                "Replace: the feed is the whole catalog; products missing from it are removed "
                "(more than half at once waits for your confirmation). Update only: a "
                "supplemental feed; it writes only the columns the file has, other fields "
                "keep their values, an empty cell clears its field, nothing is removed."
            ),
        }
        widgets = {
            "schedule_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "url": forms.URLInput(attrs={"placeholder": "https://shop.example.com/feed.csv"}),
        }


class RefreshForm(forms.Form):
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "current-password"}),
        label="Feed password",
    )
    remember = forms.BooleanField(required=False, label="Remember this password (stored encrypted)")
    force = forms.BooleanField(required=False, label="Re-import even if the feed has not changed")


class UploadForm(forms.Form):
    file = forms.FileField(label="Feed file (CSV, TSV or XML; gzip or zip allowed)")
