from datetime import time

from django import forms
from django.core.exceptions import ValidationError

from .models import ProductSource
from .schedule import parse_schedule_time
from .services import SOURCE_FIELDS


class ScheduleTimeFormField(forms.TimeField):
    """A daily or weekly pull time by the API's rule and with its messages
    (feeds.schedule.parse_schedule_time): HH:MM on the tenant's wall clock, no seconds but
    :00, no UTC offset. Django's own time field stored 06:00:30, which the API refuses."""

    time_zone = "UTC"  # the tenant's, named when an offset is refused: set by the form

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, time):
            return value
        try:
            return parse_schedule_time(str(value).strip(), time_zone=self.time_zone)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


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
        field_classes = {"schedule_time": ScheduleTimeFormField}
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

    def __init__(self, *args, time_zone: str = "UTC", **kwargs):
        """time_zone: the tenant's, in which the schedule time is read."""
        super().__init__(*args, **kwargs)
        self.fields["schedule_time"].time_zone = time_zone
        self.fields["schedule_time"].help_text = f"HH:MM in {time_zone} (daily, weekly)"


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
