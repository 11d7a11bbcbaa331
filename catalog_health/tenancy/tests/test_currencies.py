import pytest
from django.core.exceptions import ValidationError

from catalog_health.tenancy.currencies import ISO_4217_CODES, currency_code, validate_currency


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("USD", "USD"),
        ("usd", "USD"),
        ("Eur", "EUR"),
        (" gbp ", "GBP"),
        ("XOF", "XOF"),
        ("jpy", "JPY"),
    ],
)
def test_codes_are_stored_in_capitals(typed, stored):
    assert currency_code(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["US$", "", "   ", "EURO", "US", "XYZ", "XAU", "XXX", "u s d", "ußd", "ＵＳＤ", None, 840],
)
def test_anything_but_an_iso_4217_code_is_refused(typed):
    with pytest.raises(ValidationError, match="ISO 4217"):
        currency_code(typed)


@pytest.mark.parametrize(("value", "ok"), [("USD", True), ("usd", False), ("US$", False)])
def test_the_model_validator_wants_the_stored_form(value, ok):
    if ok:
        validate_currency(value)
    else:
        with pytest.raises(ValidationError):
            validate_currency(value)


def test_the_table_holds_three_capital_letters_only():
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in ISO_4217_CODES)
    assert {"USD", "EUR", "GBP", "BRL", "JPY", "INR"} <= ISO_4217_CODES
