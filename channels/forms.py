import json

from django import forms

from .models import Channel, FeedFormat, FlaggedMode


class FeedForm(forms.Form):
    name = forms.CharField(required=False, max_length=120)
    channel = forms.ChoiceField(choices=Channel.choices)
    format = forms.ChoiceField(choices=FeedFormat.choices)
    flagged = forms.ChoiceField(choices=FlaggedMode.choices, initial=FlaggedMode.EXCLUDE)
    label_slot = forms.TypedChoiceField(
        choices=[(i, f"custom_label_{i}") for i in range(5)], coerce=int, initial=0
    )
    include_pending = forms.BooleanField(required=False, label="Also include Pending products")


class RulesField(forms.CharField):
    """The rule rows as JSON text (validated by the service against the feed's columns)."""

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return []
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Rules are not valid JSON: {exc}") from exc


class FeedSettingsForm(FeedForm):
    rules = RulesField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace", "spellcheck": "false"}),
    )


class CredentialsForm(forms.Form):
    basic_username = forms.CharField(required=False, max_length=150, label="User name")
    basic_password = forms.CharField(
        required=False, widget=forms.PasswordInput, label="Password", max_length=200
    )
