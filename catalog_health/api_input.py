"""The one rule for the fields of a request body: a field the caller cannot write is a 400
naming it, on every route that takes an object's fields (create, update, partial update).

DRF ignores read-only and unknown fields, so a PATCH of a product's review status, its id or a
misspelt price answered 200 with nothing changed: the client believed it had changed
something. A read-only field sent with the value it has is accepted, so a client may PUT back
what GET answered with one field changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rest_framework.exceptions import ValidationError

READ_ONLY = "This field is read-only."
UNKNOWN = "Unknown field."


def refuse_unwritable_fields(
    data,
    *,
    writable: set[str],
    readable: set[str],
    current: Callable[[], Mapping] | None,
) -> None:
    """Raise a 400 naming each field of `data` that is not in `writable`: READ_ONLY for one
    the resource has (`readable`) unless it equals the object's `current()` value, UNKNOWN
    for any other. `current` is None when there is no object yet (a create)."""
    if not isinstance(data, Mapping):  # a list or a string: the serializer says what it wants
        return
    errors: dict[str, list[str]] = {}
    values: Mapping | None = None
    for name in data:
        if name in writable:
            continue
        if name not in readable:
            errors[name] = [UNKNOWN]
            continue
        if current is not None:
            values = current() if values is None else values
            if name in values and values[name] == data[name]:
                continue
        errors[name] = [READ_ONLY]
    if errors:
        raise ValidationError(errors)


def validated_body(serializer_class, data, *, context: dict | None = None) -> dict:
    """The body of an action that is not a create or an update, by the same rule: a field
    the serializer does not take is a 400 naming it, then the serializer validates."""
    serializer = serializer_class(data=data, context=context or {})
    refuse_unwritable_fields(
        data,
        writable={n for n, f in serializer.fields.items() if not f.read_only},
        readable=set(),
        current=None,
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
