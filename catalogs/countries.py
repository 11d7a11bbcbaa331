"""A catalog's country: an ISO 3166-1 alpha-2 code, stored in capitals.

Pure (no ORM): a table of cases tests it. The codes come from the tz database's
``iso3166.tab`` (the ``tzdata`` package, kept current by IANA with ISO 3166's changes).
"""

from functools import cache
from importlib import resources

from django import forms
from django.core.exceptions import ValidationError


@cache
def iso_3166_codes() -> frozenset[str]:
    table = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text("utf-8")
    return frozenset(
        line.split("\t", 1)[0] for line in table.splitlines() if line and not line.startswith("#")
    )


def country_code(value: object) -> str:
    """The stored form of a typed country: 'us' and ' US ' give 'US'.

    Raises ValidationError with a message a seller can act on for anything that is not an
    ISO 3166-1 alpha-2 code ('USA', 'ZZ', '12', '').
    """
    text = value.strip() if isinstance(value, str) else ""
    code = text.upper() if text.isascii() else text  # ASCII only, as for currencies
    if code not in iso_3166_codes():
        shown = repr(value) if isinstance(value, str) and value else "nothing"
        raise ValidationError(
            f"Country must be a two-letter ISO 3166 code such as US, DE or GB; got {shown}.",
            code="invalid_country",
        )
    return code


def validate_country(value: str) -> None:
    """Model validator: the stored value is already a code in capitals."""
    if value not in iso_3166_codes():
        country_code(value)  # raises with the message
        raise ValidationError(
            f"Country must be stored in capitals ({value.strip().upper()}).",
            code="invalid_country",
        )


class CountryFormField(forms.CharField):
    """A country as typed in a form: 'de' becomes 'DE', 'USA' is an error on the field."""

    def to_python(self, value):
        value = super().to_python(value)
        return country_code(value) if value else value
