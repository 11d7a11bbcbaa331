"""The filters of a list page, read from its query string."""

from django import forms


def valid_filters(form: forms.Form) -> dict:
    """The form's valid fields only: one odd value in a link (a page size that is not offered,
    a date that does not exist) drops that field, never the others. A page that dropped them
    all would list everything under a filter bar that still reads, say, Overdue.

    The form keeps its errors for the page to show next to the field.
    """
    if not form.is_bound:  # no query string: no filter
        return {}
    form.is_valid()
    return dict(form.cleaned_data)
