"""The run diff as readable rows (a table of cases, no database)."""

import pytest

from feeds.diff import FieldChange, as_text, field_changes


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        ("Navy", "Navy"),
        (12.5, "12.5"),
        (True, "yes"),
        ({"color": "Navy"}, "color: Navy"),
        (["a", "b"], "a, b"),
        ({"size": None}, "size: —"),
    ],
)
def test_as_text(value, text):
    assert as_text(value) == text


@pytest.mark.parametrize(
    ("changes", "rows"),
    [
        ({"title": ["A", "B"]}, [FieldChange("title", "A", "B")]),
        ({"title": [None, "B"]}, [FieldChange("title", None, "B")]),
        (
            {"attributes": [{"color": "Red", "size": "M"}, {"color": "Navy", "size": "M"}]},
            [FieldChange("attributes › color", "Red", "Navy")],
        ),
        (
            {"attributes": [None, {"color": "Navy"}]},
            [FieldChange("attributes › color", None, "Navy")],
        ),
        (
            {"attributes": [{"color": "Red"}, {}]},
            [FieldChange("attributes › color", "Red", None)],
        ),
        ({}, []),
    ],
)
def test_field_changes(changes, rows):
    assert field_changes(changes) == rows


def test_no_python_repr_anywhere():
    rows = field_changes({"attributes": [{"a": {"x": 1}}, {"a": {"x": 2}}], "tags": [["a"], ["b"]]})
    assert all("{" not in (r.old or "") + (r.new or "") for r in rows)
    assert all("[" not in (r.old or "") + (r.new or "") for r in rows)
