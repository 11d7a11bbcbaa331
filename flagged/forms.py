from django import forms

from catalog_health.api_filters import IdField

from .scoring import METRICS
from .selectors import SORTS

PAGE_SIZES = (25, 50, 100, 200)
SORT_LABELS = {
    "-since": "Newest status first",
    "since": "Oldest status first",
    "severity": "Most severe first",
}


class FlaggedFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "All flagged"),
            ("impacted", "Impacted"),
            ("at_risk", "At risk"),
            ("resolved", "Resolved"),
        ],
    )
    reason = forms.ChoiceField(
        required=False,
        choices=[("", "Any reason"), *[(m.value, d.label) for m, d in METRICS.items()]],
    )
    q = forms.CharField(required=False, max_length=200, label="Search")
    sort = forms.ChoiceField(required=False, choices=[(k, SORT_LABELS[k]) for k in SORTS])
    size = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=50, choices=[(s, s) for s in PAGE_SIZES]
    )
    # One catalog's products (a channel feed's "Impacted N" links here). The selectors read it
    # through the tenant's products: another tenant's id matches nothing.
    catalog = IdField(required=False)
