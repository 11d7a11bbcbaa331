"""The filters of a list page, read from its query string."""

from django import forms


def valid_filters(form: forms.Form) -> dict:
    """The form's valid fields only: one odd value in a link (a page size that is not offered,
    a date that does not exist) drops that field, never the others. A page that dropped them
    all would list everything under a filter bar that still reads, say, Overdue.

    The form keeps its errors for ``filter_refusals`` to tell the seller.
    """
    if not form.is_bound:  # no query string: no filter
        return {}
    form.is_valid()
    return dict(form.cleaned_data)


def filter_refusals(form: forms.Form) -> list[str]:
    """One sentence per filter value the page dropped (after ``valid_filters``): the field,
    the value and, for a choice, the values it takes. Without it a mistyped link
    (?status=shipped_late) listed everything as if it had filtered."""
    if not form.is_bound:
        return []
    refusals = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        if field is None:  # a form-wide error: not a filter value
            continue
        label = form[name].label
        value = str(form.data.get(name, ""))[:60]
        choices = [str(text) for key, text in getattr(field, "choices", ()) if key != ""]
        if choices and any(e.code == "invalid_choice" for e in errors.as_data()):
            refusals.append(
                f"{label} “{value}” is not one of this list’s choices ({', '.join(choices)}): "
                "the list is not filtered by it."
            )
        else:
            refusals.append(f"{label} “{value}” is not applied: {' '.join(errors)}")
    return refusals
