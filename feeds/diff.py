"""What a run changed, as readable rows: pure functions, no ORM.

A change row stores ``{field: [old, new]}``; custom attributes are dicts. A page or a CSV
shows one line per field (one per attribute key that differs), with values as text, never
a Python repr.
"""

from __future__ import annotations

from typing import Any, NamedTuple

CHANGES_CSV_HEADER = ["change", "sku", "field", "old", "new"]


class FieldChange(NamedTuple):
    field: str
    old: str | None
    new: str | None


def as_text(value: Any) -> str | None:
    """A stored value as a seller reads it (None stays None: shown as "—")."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {as_text(v) or '—'}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) or "—" for v in value)
    return str(value)


def field_changes(changes: dict[str, Any]) -> list[FieldChange]:
    """One FieldChange per changed field; a dict-valued field (custom attributes) gives one
    per key whose value differs, named ``field › key``."""
    rows: list[FieldChange] = []
    for field, pair in (changes or {}).items():
        if isinstance(pair, list | tuple):
            old, new = [*pair, None, None][:2]
        else:
            old, new = None, pair
        if (
            isinstance(old, dict | type(None))
            and isinstance(new, dict | type(None))
            and (isinstance(old, dict) or isinstance(new, dict))
        ):
            old_d, new_d = old or {}, new or {}
            for key in sorted(set(old_d) | set(new_d), key=str):
                if old_d.get(key) != new_d.get(key):
                    rows.append(
                        FieldChange(
                            f"{field} › {key}", as_text(old_d.get(key)), as_text(new_d.get(key))
                        )
                    )
            continue
        rows.append(FieldChange(field, as_text(old), as_text(new)))
    return rows
