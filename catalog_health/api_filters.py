"""Filters the API's FilterSets share.

`IdFilter` is the one way an API list filters by an object id: it validates a whole number and
filters the already tenant-scoped queryset by it. Another tenant's id therefore answers exactly
like an id that does not exist (200 with an empty page), never "not a valid choice" for one and
an empty list for the other: django-filter's default for a foreign key (ModelChoiceFilter over
every row of the table) told the two apart, which let ids be enumerated across tenants.
"""

from __future__ import annotations

import django_filters
from django import forms


class IdField(forms.IntegerField):
    """A whole number of at most 19 digits (a bigint); "1.0", "²" or "1e3" are refused."""

    default_error_messages = {"invalid": "Enter an id (a whole number)."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 20):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class IdFilter(django_filters.NumberFilter):
    """Filter by an object id on a tenant-scoped queryset (see the module docstring)."""

    field_class = IdField


class BooleanField(forms.NullBooleanField):
    """true/false (or 1/0); any other value is refused. Django's NullBooleanField reads what
    it does not know as "either", so ?enabled=maybe answered the unfiltered list."""

    widget = forms.TextInput
    default_error_messages = {"invalid": "Enter true or false."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    """Filter by a yes/no field; a value that is neither is a 400."""

    field_class = BooleanField


def refuse_unknown_query(request, known: set[str], listed: set[str]) -> None:
    """A query parameter outside `known` is a 400 naming it and what the list takes (`listed`):
    ignored, a misspelt filter answered the whole list as if it were the filtered one. So is
    one given twice."""
    from rest_framework.exceptions import ValidationError

    unknown = sorted(set(request.query_params) - known)
    if unknown:
        message = f"Unknown query parameter. This list takes: {', '.join(sorted(listed))}."
        raise ValidationError({name: [message] for name in unknown})
    # Each filter reads one value: the others would be dropped without a word.
    repeated = sorted(n for n in request.query_params if len(request.query_params.getlist(n)) > 1)
    if repeated:
        raise ValidationError({name: ["Give this parameter once."] for name in repeated})


def clean_query(request, form_class: type[forms.Form]) -> dict:
    """A list's query parameters validated by a form: 400 with the form's errors when one is
    invalid (instead of ignoring it, or failing later in a query); blank ones left out."""
    from rest_framework.exceptions import ValidationError

    form = form_class(request.query_params)
    if not form.is_valid():
        raise ValidationError(
            {
                name: [e["message"] for e in errors]
                for name, errors in form.errors.get_json_data().items()
            }
        )
    return {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
