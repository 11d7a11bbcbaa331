"""Field rules: validation and application are pure functions, tested by tables of cases."""

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels import specs
from channels.rules import (
    CONDITIONS,
    OPS,
    compile_rules,
    output_columns,
    validate_rules,
    written_columns,
)

COLUMNS = ["id", "title", "description", "brand", "price", "product_type", "custom_label_0"]


@pytest.mark.parametrize(
    ("rules", "error"),
    [
        ({"op": "set"}, "must be a list"),
        ([{"op": "explode", "field": "title"}], "unknown op"),
        (["set title"], "must be an object"),
        ([{"op": "set", "field": "title"}], "missing value"),
        ([{"op": "set", "field": "id", "value": "x"}], "id column cannot be changed"),
        ([{"op": "rename", "from": "id", "to": "sku"}], "id column cannot be changed"),
        ([{"op": "copy", "from": "title", "to": "id"}], "id column cannot be changed"),
        ([{"op": "copy", "from": "colour", "to": "custom_label_1"}], "no column 'colour'"),
        # two columns of one name would make the header ambiguous
        ([{"op": "rename", "from": "title", "to": "brand"}], "exists already"),
        ([{"op": "prefix", "field": "colour", "value": "x"}], "no column 'colour'"),
        ([{"op": "set", "field": "Title Case", "value": "x"}], "column names are lowercase"),
        ([{"op": "set", "field": "g:title", "value": "x"}], "column names are lowercase"),
        ([{"op": "set", "field": "title", "value": 3}], "every value must be text"),
        ([{"op": "set", "field": "title", "value": "x" * 501}], "limited to 500"),
        ([{"op": "set", "field": "title", "value": "x", "extra": "y"}], "unknown keys extra"),
        ([{"op": "template", "field": "title", "template": "{brand} {colour}"}], "no column"),
        ([{"op": "template", "field": "title", "template": "{title.__class__}"}], "no column"),
        ([{"op": "template", "field": "title", "template": "{brand} {title"}], "unbalanced"),
        ([{"op": "replace", "field": "title", "find": "", "replace": "x"}], "find must not"),
        ([{"op": "exclude", "field": "brand", "when": "matches", "value": "x"}], "when is one"),
        ([{"op": "exclude", "field": "brand", "when": "equals"}], "missing value"),
        ([{"op": "set", "field": "title", "value": "x"}] * 51, "At most 50"),
        # a column renamed away can no longer be read
        (
            [
                {"op": "rename", "from": "product_type", "to": "custom_label_1"},
                {"op": "prefix", "field": "product_type", "value": "x"},
            ],
            "Rule 2 (prefix): no column 'product_type'",
        ),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(rules, error):
    errors = validate_rules(rules, columns=COLUMNS, id_column="id")
    assert errors, rules
    assert error in " ".join(errors)


@pytest.mark.parametrize(
    "rules",
    [
        [],
        [{"op": "set", "field": "brand", "value": "Kestrel"}],
        [{"op": "set", "field": "custom_label_3", "value": "summer"}],
        [{"op": "copy", "from": "product_type", "to": "custom_label_1"}],
        # a column created by an earlier rule can be read by a later one
        [
            {"op": "copy", "from": "title", "to": "short_title"},
            {"op": "suffix", "field": "short_title", "value": "!"},
        ],
        [{"op": "template", "field": "title", "template": "{brand} {title}"}],
        [{"op": "exclude", "field": "brand", "when": "empty"}],
        [{"op": "exclude", "field": "id", "when": "starts_with", "value": "TEST-"}],
    ],
)
def test_valid_rules_pass(rules):
    assert validate_rules(rules, columns=COLUMNS, id_column="id") == []


ITEM = {
    "id": "A1",
    "title": "Trail Runner",
    "brand": "Kestrel",
    "description": "",
    "price": "12.99 USD",
    "product_type": "Shoes",
}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([{"op": "set", "field": "brand", "value": "Acme"}], {"brand": "Acme"}),
        (
            [{"op": "copy", "from": "product_type", "to": "custom_label_1"}],
            {"custom_label_1": "Shoes", "product_type": "Shoes"},
        ),
        (
            [{"op": "rename", "from": "product_type", "to": "custom_label_2"}],
            {"custom_label_2": "Shoes", "product_type": None},
        ),
        (
            [{"op": "template", "field": "title", "template": "{brand} {title}"}],
            {"title": "Kestrel Trail Runner"},
        ),
        # an empty placeholder leaves no double space
        (
            [{"op": "template", "field": "title", "template": "{description} {title}"}],
            {"title": "Trail Runner"},
        ),
        # braces that are not a whole column name stay text: no format() reach into objects
        ([{"op": "prefix", "field": "title", "value": "New: "}], {"title": "New: Trail Runner"}),
        ([{"op": "prefix", "field": "description", "value": "New: "}], {"description": ""}),
        ([{"op": "suffix", "field": "title", "value": " (EU)"}], {"title": "Trail Runner (EU)"}),
        (
            [{"op": "replace", "field": "title", "find": "Runner", "replace": "Shoe"}],
            {"title": "Trail Shoe"},
        ),
        ([{"op": "exclude", "field": "brand", "when": "equals", "value": "kestrel"}], None),
        ([{"op": "exclude", "field": "brand", "when": "not_equals", "value": "kestrel"}], {}),
        ([{"op": "exclude", "field": "title", "when": "contains", "value": "RUN"}], None),
        ([{"op": "exclude", "field": "id", "when": "starts_with", "value": "B"}], {}),
        ([{"op": "exclude", "field": "description", "when": "empty"}], None),
        ([{"op": "exclude", "field": "description", "when": "not_empty"}], {}),
        # order matters: the exclusion sees the value the earlier rule set
        (
            [
                {"op": "set", "field": "brand", "value": "Acme"},
                {"op": "exclude", "field": "brand", "when": "equals", "value": "acme"},
            ],
            None,
        ),
    ],
)
def test_rules_apply_in_order(rules, expected):
    assert validate_rules(rules, columns=[*ITEM, "custom_label_0"], id_column="id") == []
    out = compile_rules(rules)(dict(ITEM))
    if expected is None:
        assert out is None
        return
    for key, value in expected.items():
        assert out.get(key) == value, key


def test_no_rules_compile_to_nothing():
    assert compile_rules([]) is None


def test_output_columns_follow_renames_and_new_targets():
    rules = [
        {"op": "rename", "from": "product_type", "to": "custom_label_2"},
        {"op": "set", "field": "custom_label_3", "value": "x"},
        {"op": "set", "field": "brand", "value": "x"},
    ]
    assert output_columns(["id", "brand", "product_type"], rules) == [
        "id",
        "brand",
        "custom_label_2",
        "custom_label_3",
    ]


_text = st.text(max_size=12)
_rule = st.dictionaries(
    st.sampled_from(["op", "field", "value", "from", "to", "template", "find", "replace", "when"]),
    st.one_of(
        st.sampled_from([*OPS, *CONDITIONS, *COLUMNS, "{title} {brand}", "x_y"]),
        _text,
        st.integers(),
        st.none(),
        st.lists(_text, max_size=2),
    ),
)


@settings(max_examples=400, deadline=None)
@given(rules=st.one_of(st.lists(_rule, max_size=5), _rule, _text, st.none()))
def test_any_rule_list_is_validated_without_crashing_and_valid_ones_apply(rules):
    errors = validate_rules(rules, columns=COLUMNS, id_column="id")
    assert all(isinstance(e, str) for e in errors)
    if not errors:
        apply = compile_rules(rules)
        item = {c: "Value & more" for c in COLUMNS}
        out = apply(dict(item)) if apply else item
        header = output_columns(COLUMNS, rules)
        assert len(header) == len(set(header))  # no column twice
        if out is not None:
            assert out["id"] == "Value & more"  # the id is never changed
            assert all(isinstance(v, str) for v in out.values())


def _channel_errors(channel: str, rules: list[dict]) -> list[str]:
    """What the feed's validation says of rules on a channel's own columns and values."""
    return validate_rules(
        rules,
        columns=specs.base_columns(channel, label_slot=None),
        id_column=specs.SPECS[channel].id_column,
        value_problem=functools.partial(specs.value_problem, channel),
    )


@pytest.mark.parametrize(
    ("channel", "rule", "error"),
    [
        ("google", {"field": "price", "value": "call us"}, "price must be an amount"),
        ("google", {"field": "price", "value": "12.99"}, "price must be an amount"),
        ("google", {"field": "price", "value": "12,99 EUR"}, "price must be an amount"),
        ("google", {"field": "price", "value": "0 USD"}, "above zero"),
        ("google", {"field": "price", "value": ""}, "price must be an amount"),
        ("meta", {"field": "sale_price", "value": "free"}, "sale_price must be an amount"),
        ("google", {"field": "availability", "value": "maybe"}, "availability is one of"),
        # Meta calls a backorder "available for order"; Google has no "discontinued"
        ("meta", {"field": "availability", "value": "backorder"}, "availability is one of"),
        ("google", {"field": "availability", "value": "discontinued"}, "availability is one of"),
        ("tiktok", {"field": "condition", "value": "mint"}, "condition is one of"),
        ("google", {"field": "link", "value": "javascript:alert(1)"}, "http or https URL"),
        ("google", {"field": "image_link", "value": "/img/a.jpg"}, "http or https URL"),
        ("google", {"field": "mobile_link", "value": "ftp://shop.example/a"}, "http or https"),
        ("google", {"field": "link", "value": "https://"}, "http or https URL"),
        ("google", {"field": "availability_date", "value": "soon"}, "availability_date must be"),
        ("google", {"field": "availability_date", "value": "03/01/2026"}, "such as 2026-03-01"),
    ],
)
def test_a_set_rule_that_writes_junk_into_a_typed_column_is_refused(channel, rule, error):
    errors = _channel_errors(channel, [{"op": "set", **rule}])
    assert len(errors) == 1 and errors[0].startswith("Rule 1 (set): ")
    assert error in errors[0], errors


@pytest.mark.parametrize(
    ("channel", "rule"),
    [
        ("google", {"op": "set", "field": "price", "value": "12.99 USD"}),
        ("google", {"op": "set", "field": "price", "value": "1200 JPY"}),
        ("google", {"op": "set", "field": "sale_price", "value": ""}),  # no sale
        ("google", {"op": "set", "field": "availability", "value": "backorder"}),
        ("meta", {"op": "set", "field": "availability", "value": "available for order"}),
        ("meta", {"op": "set", "field": "condition", "value": "refurbished"}),
        ("google", {"op": "set", "field": "image_link", "value": "HTTPS://cdn.example/a b.jpg"}),
        ("google", {"op": "set", "field": "mobile_link", "value": "http://m.shop.example/a"}),
        ("google", {"op": "set", "field": "custom_label_1", "value": "call us"}),
        ("google", {"op": "set", "field": "availability_date", "value": "2026-03-01T13:00+01:00"}),
        ("google", {"op": "set", "field": "availability_date", "value": ""}),  # none: in stock
        # what these make of a value is known only when the feed is written
        ("google", {"op": "suffix", "field": "price", "value": " each"}),
        ("google", {"op": "template", "field": "price", "template": "{price} incl. VAT"}),
        ("google", {"op": "replace", "field": "link", "find": "https://", "replace": ""}),
    ],
)
def test_typed_columns_take_rules_whose_value_may_be_valid(channel, rule):
    assert _channel_errors(channel, [rule]) == []


@pytest.mark.parametrize(
    ("rules", "written"),
    [
        ([{"op": "set", "field": "price", "value": "1 USD"}], {"price"}),
        ([{"op": "copy", "from": "sale_price", "to": "price"}], {"price"}),
        ([{"op": "rename", "from": "title", "to": "mobile_link"}], {"mobile_link", "title"}),
        ([{"op": "template", "field": "link", "template": "{link}?src=g"}], {"link"}),
        ([{"op": "suffix", "field": "price", "value": " each"}], {"price"}),
        ([{"op": "exclude", "field": "price", "when": "empty"}], set()),
    ],
)
def test_written_columns_are_the_columns_rules_change(rules, written):
    assert written_columns(rules) == written


@pytest.mark.parametrize(
    ("written", "item", "valid"),
    [
        ({"price"}, {"price": "12.99 USD"}, True),
        ({"price"}, {"price": "12.99 USD each"}, False),
        ({"price"}, {"price": "12.99 USD incl. VAT"}, False),
        ({"price"}, {"price": "12,99 USD"}, False),
        ({"sale_price"}, {"sale_price": ""}, True),  # no sale
        ({"availability"}, {"availability": "in stock soon"}, False),
        ({"link"}, {"link": "shop.example.com/p/A2"}, False),
        ({"mobile_link"}, {"mobile_link": "https://m.shop.example.com/p/A2"}, True),
        # a column no rule writes is the builder's, written as the channel takes it
        ({"title"}, {"title": "x", "price": "call us"}, None),
    ],
)
def test_items_are_checked_on_the_typed_columns_rules_write(written, item, valid):
    check = specs.rule_value_checker("google", written)
    assert (check(item) if check else None) is valid
