"""A catalog's country: an ISO 3166-1 alpha-2 code, stored in capitals.

Pure (no ORM): a table of cases tests it. The codes come from the tz database's
``iso3166.tab`` (the ``tzdata`` package, kept current by IANA with ISO 3166's changes).
"""

from functools import cache
from importlib import resources

from catalog_health.iso_codes import IsoCodes


@cache
def iso_3166_codes() -> frozenset[str]:
    table = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text("utf-8")
    return frozenset(
        line.split("\t", 1)[0] for line in table.splitlines() if line and not line.startswith("#")
    )


COUNTRIES = IsoCodes(
    iso_3166_codes,
    noun="Country",
    rule="Country must be a two-letter ISO 3166 code such as US, DE or GB",
    code="invalid_country",
)
# 'de' gives 'DE'; 'USA', 'ZZ', '12', '' raise ValidationError
country_code = COUNTRIES.normalise
# a country typed in a form: 'de' becomes 'DE', 'USA' is an error on the field
CountryFormField = COUNTRIES.form_field()


def validate_country(value: str) -> None:
    """Model validator (a module function: migrations name it)."""
    COUNTRIES.validate(value)
