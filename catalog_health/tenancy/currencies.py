"""Currency codes of catalogs and tenants: ISO 4217 alphabetic codes, stored in capitals.

Pure (no ORM): a table of cases tests it. No maintained currency list is a dependency, so the
codes are below.
"""

from catalog_health.iso_codes import IsoCodes

# ISO 4217 list one (current currencies), as published by its maintenance agency (SIX
# Group, https://www.six-group.com/en/products-services/financial-information/data-standards.html),
# amendments up to 2025: XCG replaced ANG and ZWG replaced ZWL. Left out on purpose,
# because nothing is priced in them: fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI,
# UYW), precious metals (XAG, XAU, XPD, XPT), units of account (XBA-XBD, XDR, XSU, XUA),
# the test code XTS and "no currency" XXX.
_LIST_ONE = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF
    YER ZAR ZMW ZWG
"""
ISO_4217_CODES = frozenset(_LIST_ONE.split())


CURRENCIES = IsoCodes(
    lambda: ISO_4217_CODES,
    noun="Currency",
    rule="Currency must be a three-letter ISO 4217 code such as USD, EUR or GBP",
    code="invalid_currency",
)
# 'usd' gives 'USD'; 'US$', 'EURO', '', 'XYZ' raise ValidationError
currency_code = CURRENCIES.normalise
# a currency typed in a form: 'usd' becomes 'USD', 'US$' is an error on the field
CurrencyFormField = CURRENCIES.form_field()


def validate_currency(value: str) -> None:
    """Model validator (a module function: migrations name it)."""
    CURRENCIES.validate(value)
