"""Typing text cells: cleaning, slash, dash, dotted and ISO dates and their
day-first/month-first order, money and counts (with a decimal comma or not). Vectorised over
a column."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

import numpy as np
import pandas as pd

from ..order_io import (
    AMOUNT_MARKS_ONLY,
    DAY_END,
    DECIMAL_COMMA_AMOUNT,
    DECIMAL_POINT_AMOUNT,
    MIXED_DECIMAL_MARKS,
    TIME_OF_DAY,
    AmountSeen,
    FileError,
    mixed_decimal_marks,
)
from ..rules import (
    BLANK,
    MAX_TRACKING,
    REFUSED,
    identifier_error,
    invisible_trim,
    tracking_number_error,
)
from .detection import MAX_COUNT, MAX_MONEY

# --- values ---------------------------------------------------------------------------------


# A column is typed through its distinct values when they are at most this share of its
# values: exports repeat prices, quantities, statuses, reasons and an order's times on each
# of its lines, and factorizing (hashing) costs far less than the regexes it saves.
UNIQUE_SHARE = 0.5
SAMPLE_ROWS = 2048


def by_unique(values: pd.Series, parse, *args, **kwargs):
    """parse(values, ...) computed once per distinct value and spread back: the same
    Series or DataFrame, same index, as parse over every value."""
    if len(values) < 64:
        return parse(values, *args, **kwargs)
    # a column of mostly distinct values (ids, tracking numbers) shows it in its first
    # rows: then factorizing all of it would be time lost
    head = values.iloc[:SAMPLE_ROWS]
    if len(values) > 2 * SAMPLE_ROWS and head.nunique(dropna=False) > UNIQUE_SHARE * len(head):
        return parse(values, *args, **kwargs)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    if len(uniques) > UNIQUE_SHARE * len(values):
        return parse(values, *args, **kwargs)
    once = parse(pd.Series(uniques, dtype=values.dtype), *args, **kwargs)
    spread = once.take(codes)
    spread.index = values.index
    return spread


def distinct(values: pd.Series) -> pd.Series:
    """A column's distinct values (for checks that ask whether any value is so)."""
    return pd.Series(values.unique(), dtype=values.dtype)


def clean_text(values: pd.Series) -> pd.Series:
    """Outer blanks and tabs off (TikTok ends long ids with a tab so spreadsheets keep them
    as text), and the spreadsheet text guards ="…" and a leading apostrophe. Value by
    value: a strip costs less than factorizing (by_unique)."""
    s = values.astype(str).str.strip()
    guarded = s.str.startswith('="') | s.str.startswith("'")
    if guarded.any():  # rare: only then the slower replacements
        s = s.str.replace(r'^="(.*)"$', r"\1", regex=True)
        s = s.str.replace(r"^'", "", regex=True).str.strip()
    return s


def may_have_invisible_characters(values: pd.Series) -> bool:
    """False when every value is printable ASCII (bytes 0x20 to 0x7E), as ids and tracking
    numbers nearly always are: then none holds an invisible character (catalogs.rules) nor a
    blank other than the space. True when one may."""
    return _any_byte(values, lambda b: (b < 0x20) | (b > 0x7E))


def _re2(character_class: str) -> str:
    r"""A character class of catalogs.rules in RE2's spelling (\x{200B} for \u200b)."""
    return re.sub(
        r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})",
        lambda m: f"\\x{{{int(m.group(1) or m.group(2), 16):X}}}",
        character_class,
    )


# What catalogs.rules trims or refuses: an invisible character anywhere, a blank at an end
_PASTED_JUNK = f"[{_re2(REFUSED)}]|^[{_re2(BLANK)}]|[{_re2(BLANK)}]$"


def pasted_text_check(values: pd.Series, error) -> tuple[pd.Series, pd.Series]:
    """Values trimmed of outer blanks and invisible characters, and what error(value) says
    is wrong with each (NaN when nothing): the rule every entry keeps to (catalogs.rules).
    One scan of the bytes clears a printable ASCII column, one match (pyarrow, RE2) every
    value without such a character: only the rare values that hold one go through the rule
    one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    problems = pd.Series(np.nan, index=values.index, dtype=object)
    if not may_have_invisible_characters(values):  # printable ASCII: a space is its only blank
        return values.str.strip(" "), problems
    junk = pc.match_substring_regex(pa.array(values), _PASTED_JUNK)  # no copy: pyarrow text
    odd = pd.Series(junk.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
    if odd.any():
        cleaned = values[odd].map(invisible_trim)
        values = values.where(~odd, cleaned)
        problems = cleaned.map(error).reindex(values.index)
    return values, problems


def refusals_named(values: pd.Series, mask: pd.Series, error) -> list[tuple[pd.Series, str]]:
    """(where, message) for each distinct message error(value) gives the values where mask
    holds: the rare values a rule of catalogs.rules refuses, each named by it, one by one."""
    if not mask.any():
        return []
    named = values[mask].map(error).dropna()
    return [(named.eq(m).reindex(values.index, fill_value=False), m) for m in named.unique()]


def identifiers_check(values: pd.Series, *, max_length: int) -> tuple[pd.Series, pd.Series]:
    """Order ids or SKUs trimmed, and their refusals (an invisible character inside, named;
    too long): pasted_text_check by catalogs.rules.identifier_error."""
    values, problems = pasted_text_check(
        values, lambda text: identifier_error(text, max_length=max_length)
    )
    too_long = values.str.len() > max_length
    return values, problems.mask(too_long, f"is longer than {max_length} characters")


# A long number a spreadsheet displays in scientific notation is saved so: 5.76461E+17 for
# an 18-digit order id, 4.43656E+11 for a 12-digit tracking number. Its last digits are
# gone, and ids that differed in them are now one. Six significant digits and an exponent
# of two digits, as Excel writes them, so that a SKU like 1E+05 is still read.
_SHORTENED = r"^[1-9]\.[0-9]{1,14}[Ee]\+[0-9]{2}$"
SHORTENED = (
    "is a long number a spreadsheet shortened: its last digits are lost; export the file "
    "again, or format the column as text before saving it"
)


def spreadsheet_shortened(values: pd.Series) -> pd.Series:
    """Where a column's value is a number a spreadsheet wrote in scientific notation."""
    return values.str.match(_SHORTENED)


def tracking_numbers_check(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The tracking numbers trimmed of outer junk, and what is wrong with each (NaN when
    nothing), by the rule every entry keeps to (catalogs.rules): pasted_text_check."""
    values, problems = pasted_text_check(values, tracking_number_error)
    too_long = values.str.len() > MAX_TRACKING
    return values, problems.mask(too_long, f"is longer than {MAX_TRACKING} characters")


def _any_byte(values: pd.Series, test) -> bool:
    """Whether test holds for a byte of the column's UTF-8 text (True when the column is not
    plain pyarrow text)."""
    import pyarrow as pa

    try:
        array = pa.array(values)  # pandas' pyarrow strings: no copy
    except (pa.ArrowException, TypeError, ValueError):
        return True
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return True
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        if len(chunk) == 0:
            continue
        _validity, offsets, data = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=width)
        start, end = int(bounds[chunk.offset]), int(bounds[chunk.offset + len(chunk)])
        if test(np.frombuffer(data, dtype=np.uint8)[start:end]).any():
            return True
    return False


_SLASH_STR = (
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$"
)
# Without \s: parse_times matches it on stripped text, and pandas hands any pattern with
# \s to Python's re (one call per value) instead of pyarrow's RE2 (C++).
_ISO_START = r"^\d{4}-\d{1,2}-\d{1,2}"
# Python's \s spelled out as literal characters (every str.isspace() one), for the same
# reason: the same matches, run by RE2.
BLANKS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
# Dates written day.month.year (24.12.2026 10:00: what Excel writes in German, Austrian,
# Swiss, Polish, Russian … locales) are day-first in every locale that writes them, so
# they need no date order and tell the file's: read as the slash date day/month/year.
# Dates written day-month-year (24-12-2026 10:00, Dutch) are as ambiguous as slash ones
# (03-04-2026 is also how some US systems write March 4): read as slash dates, in the
# file's date order. Four-digit years only, as slash dates: a two-digit one is not read.
_DOTTED_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})([ T]|$)"
_DOTTED = "^" + _DOTTED_DATE
_DASHED = r"^(\d{1,2})-(\d{1,2})-(\d{4})([ T]|$)"
_AS_SLASH = r"\1/\2/\3\4"
MIXED_DATES = (
    "The file mixes day-first and month-first dates (e.g. 13/01 and 01/13, or 24.12 and "
    "12/24); export it again with one date format."
)


def date_order_detect(values: Iterable[str]) -> str | None:
    """'dmy' or 'mdy' when some date settles it (a first number above 12 is a day, a second
    above 12 is a day, a date written with points is day-first), None when none does.
    FileError when the file has both."""
    return date_order_detect_frame(pd.DataFrame({"at": list(values)}, dtype=str), ["at"])


def _slash_or_dash(first: str, second: str) -> str:
    """A pattern of a slash or dash date (blanks before it) whose first two numbers match
    first and second (plain: run by pyarrow in C++, blanks spelled out, no \\s)."""
    return f"[{BLANKS}]*{first}(?:/{second}/|-{second}-)" + r"\d{4}"


_DAY_ABOVE_12 = r"(?:1[3-9]|2\d|3[01])"
_MONTH_NUMBER = r"(?:0?[1-9]|1[0-2])"


def date_order_detect_frame(frame: pd.DataFrame, columns: Iterable[str]) -> str | None:
    """date_order_detect over the dates of some columns of a frame, vectorised."""
    orders: set[str] = set()
    for col in columns:
        if col not in frame:
            continue
        values = distinct(frame[col]).astype(str)
        if values.str.match(_slash_or_dash(_MONTH_NUMBER, _DAY_ABOVE_12)).any():
            orders.add("mdy")
        if values.str.match(_slash_or_dash(_DAY_ABOVE_12, _MONTH_NUMBER)).any():
            orders.add("dmy")
        if values.str.match(f"[{BLANKS}]*" + _DOTTED_DATE).any():
            orders.add("dmy")
    if len(orders) == 2:
        raise FileError(MIXED_DATES)
    return orders.pop() if orders else None


def has_slash_dates(frame: pd.DataFrame, columns: Iterable[str]) -> bool:
    """Whether some columns of a frame hold dates whose day and month only the file's date
    order tells apart (slash or dash ones)."""
    return any(
        col in frame
        and distinct(frame[col]).astype(str).str.match(_slash_or_dash(r"\d{1,2}", r"\d{1,2}")).any()
        for col in columns
    )


def parse_times(
    values: pd.Series, *, date_order: str | None, tz: str, day_end: bool = False
) -> pd.DataFrame:
    """Times as text -> ``at`` (UTC, NaT when empty) and ``bad`` (text that is not a time).

    Slash and dash dates follow date_order ('dmy' or 'mdy'; a 12-hour clock with AM/PM is
    read either way), dotted ones are day-first; ISO 8601 times keep their offset; a time
    without an offset is in tz. A date without a time of day is its day's first second in
    tz, or with day_end (a deadline: a ship-by day) its last second.
    """
    return by_unique(values, _parse_times, date_order=date_order, tz=tz, day_end=day_end)


def _parse_times(
    values: pd.Series, *, date_order: str | None, tz: str, day_end: bool = False
) -> pd.DataFrame:
    text = values.astype(str).str.strip()
    dotted = text.str.match(_DOTTED)
    if dotted.any():
        if date_order != "dmy" and not dotted.all():
            # day-first whatever the order of the other dates: read apart
            return pd.concat(
                [
                    _parse_times(values[~dotted], date_order=date_order, tz=tz, day_end=day_end),
                    _parse_times(values[dotted], date_order="dmy", tz=tz, day_end=day_end),
                ]
            ).reindex(values.index)
        date_order = "dmy"
        text = text.str.replace(_DOTTED, _AS_SLASH, regex=True)
    dashed = text.str.match(_DASHED)
    if dashed.any():
        text = text.str.replace(_DASHED, _AS_SLASH, regex=True)
    empty = text.eq("")
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")

    iso = text.str.match(_ISO_START)
    if iso.any():
        iso_text = text[iso]
        offset = iso_text.str.contains(r"(?:[+-]\d{2}:?\d{2}|[Zz])$", regex=True)
        fixed = iso_text.str.replace(r"\s+([+-]\d{2}):?(\d{2})$", r"\1:\2", regex=True)
        if offset.any():
            result[fixed[offset].index] = pd.to_datetime(
                fixed[offset], format="ISO8601", utc=True, errors="coerce"
            ).astype("datetime64[us, UTC]")
        naive = fixed[~offset]
        if len(naive):
            local = pd.to_datetime(naive, format="ISO8601", errors="coerce")
            result[naive.index] = _localize(local, tz)

    slash = ~iso & ~empty
    if slash.any() and date_order in ("dmy", "mdy"):
        # the usual layouts written plainly first (pyarrow: ~30 times pandas' strptime)
        fast = _strict_slash_times(text[slash], date_order)
        done = fast.notna()
        if done.any():
            result[fast[done].index] = _localize(fast[done], tz)
            slash &= ~done.reindex(slash.index, fill_value=False)
    if slash.any() and date_order in ("dmy", "mdy"):
        # the usual layouts, at C speed; the regex below reads what they leave
        day_month = "%m/%d/%Y" if date_order == "mdy" else "%d/%m/%Y"
        for layout in (f"{day_month} %I:%M:%S %p", f"{day_month} %H:%M:%S"):
            fast = pd.to_datetime(text[slash], format=layout, errors="coerce")
            done = fast.notna()
            if done.any():
                result[fast[done].index] = _localize(fast[done], tz)
                slash &= ~done.reindex(slash.index, fill_value=False)
    if slash.any():
        parts = text[slash].str.extract(_SLASH_STR)
        a = pd.to_numeric(parts[0], errors="coerce")
        b = pd.to_numeric(parts[1], errors="coerce")
        if date_order == "dmy":
            day, month = a, b
        elif date_order == "mdy":
            day, month = b, a
        else:
            day = month = pd.Series(np.nan, index=parts.index)
        hour, minute, second = (
            pd.to_numeric(parts[i], errors="coerce").fillna(0) for i in (3, 4, 5)
        )
        ampm = parts[6].str.lower()
        # pandas carries 25:00 or 10:61 over to the next day or hour: no time, refused
        bad_clock = (ampm.notna() & ((hour < 1) | (hour > 12))) | (hour > 23)
        bad_clock |= (minute > 59) | (second > 59)
        hour = hour.where(ampm.isna(), hour % 12 + np.where(ampm == "pm", 12, 0))
        stamp = pd.to_datetime(
            pd.DataFrame(
                {
                    "year": pd.to_numeric(parts[2], errors="coerce"),
                    "month": month,
                    "day": day,
                    "hour": hour,
                    "minute": minute,
                    "second": second,
                }
            ),
            errors="coerce",
        )
        stamp[bad_clock] = pd.NaT
        result[stamp.index] = _localize(stamp, tz)

    if day_end:
        days = result.notna() & ~text.str.contains(TIME_OF_DAY, regex=False)
        if days.any():
            result[days] = day_ends(result[days], tz)
    years = result.dt.year
    result[(years < 1970) | (years > 2999)] = pd.NaT
    return pd.DataFrame({"at": result, "bad": ~empty & result.isna()})


def day_ends(starts: pd.Series, tz: str) -> pd.Series:
    """The first seconds of days in tz (UTC) -> their last seconds (UTC): 23:59:59 on the
    wall clock (order_io.DAY_END), also on a day that daylight saving time makes 23 or 25
    hours long."""
    local = starts.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    end = pd.Timedelta(hours=DAY_END.hour, minutes=DAY_END.minute, seconds=DAY_END.second)
    return _localize(local + end, tz)


_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
# Times in the usual slash layouts written plainly (one space, two-digit minutes and
# seconds): what pandas' strptime reads in the layouts parse_times tries, minus the looser
# spellings, which go on to pandas. pyarrow's strptime takes any day up to 31 (30/02 is
# 2 March), so the day read is checked against the day written.
_STRICT_SLASH = {
    order: (
        f"^{first}/{second}/\\d{{4}} "
        r"(?:(?:0?[1-9]|1[0-2]):[0-5]\d:[0-5]\d [AaPp][Mm]|(?:[01]?\d|2[0-3]):[0-5]\d:[0-5]\d)$"
    )
    for order, (first, second) in {"mdy": (_MONTH, _DAY), "dmy": (_DAY, _MONTH)}.items()
}


def _strict_slash_times(text: pd.Series, date_order: str) -> pd.Series:
    """Slash times in the plain layouts -> naive datetime64[us] (NaT for the rest)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(text)  # pandas' str columns are pyarrow's: no copy
    plain = pc.match_substring_regex(values, _STRICT_SLASH[date_order])
    day_month = "%m/%d/%Y" if date_order == "mdy" else "%d/%m/%Y"
    twelve = pc.match_substring(values, "M", ignore_case=True)  # AM / PM
    stamps = pc.if_else(
        twelve,
        pc.strptime(values, f"{day_month} %I:%M:%S %p", "us", error_is_null=True),
        pc.strptime(values, f"{day_month} %H:%M:%S", "us", error_is_null=True),
    )
    parts = pc.split_pattern(pc.if_else(plain, values, "0/0/0"), "/", max_splits=2)
    written = pc.cast(pc.list_element(parts, 1 if date_order == "mdy" else 0), pa.int64())
    keep = pc.and_kleene(plain, pc.equal(pc.day(stamps), written))
    stamps = pc.if_else(keep, stamps, pa.scalar(None, pa.timestamp("us")))
    return pd.Series(
        stamps.to_numpy(zero_copy_only=False), index=text.index, dtype="datetime64[us]"
    )


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Wall-clock times in tz -> UTC: order_io.wall_time, the app's CSV's and the API's rule,
    for a column."""
    naive = naive.astype("datetime64[us]")
    # a wall time that happens twice (clocks back) is read as the later, standard time; one
    # that never happens (clocks forward) moves forward
    local = naive.dt.tz_localize(
        tz, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.dt.tz_convert("UTC")


def decimal_comma_detect(
    values: pd.Series, *, lines: pd.Series | None = None, column: str = ""
) -> bool | None:
    """True when amounts use a decimal comma (``35,91``, ``1.234,56``), False when a decimal
    point, None when no amount tells (``1,234`` and ``12`` could be either): the rule of
    order_io.amounts_decimal_comma, vectorised. FileError when they use both, naming the
    first amount of each (with its line, from lines, and column)."""
    return next(iter(_first_told(values, lines=lines, column=column)), None)


def _first_told(
    values: pd.Series, *, lines: pd.Series | None = None, column: str = ""
) -> dict[bool, str]:
    """The first amount of a column telling a decimal comma (True), a decimal point (False):
    one of them; FileError when it has both, naming the first of each."""
    s = distinct(values).astype(str)  # in the order of their first rows
    marks = s.str.replace(AMOUNT_MARKS_ONLY, "", regex=True)
    told = {}
    for mark, pattern in ((True, DECIMAL_COMMA_AMOUNT), (False, DECIMAL_POINT_AMOUNT)):
        found = s[marks.str.contains(pattern, regex=True).to_numpy()]
        if len(found):
            told[mark] = found.iat[0]
    if len(told) == 2:
        seen = {
            mark: amount_seen(values, v, lines=lines, column=column) for mark, v in told.items()
        }
        raise FileError(mixed_decimal_marks(comma=seen[True], point=seen[False]))
    return told


def amount_seen(
    values: pd.Series, value: str, *, lines: pd.Series | None = None, column: str = ""
) -> AmountSeen:
    """value, a cell of values, with the line of its first row (lines: the file's line
    numbers, same index) and its column."""
    if lines is None:
        return AmountSeen(value, None, column)
    first = int(np.argmax(values.astype(str).eq(value).to_numpy()))
    return AmountSeen(value, int(lines.iat[first]), column)


def decimal_mark_told(
    frame: pd.DataFrame, column: str
) -> tuple[bool, AmountSeen] | tuple[None, None]:
    """The decimal mark a column of a frame's amounts tells (True: a comma) and the first
    amount telling it, where it is; (None, None) when none tells. FileError when both."""
    values, lines = frame[column], frame["line"]
    for told, value in _first_told(values, lines=lines, column=column).items():
        return told, amount_seen(values, value, lines=lines, column=column)
    return None, None


def parse_money(values: pd.Series, *, decimal_comma: bool) -> pd.DataFrame:
    """Amounts as text (``BRL 35,91``, ``$1,234.50``, ``R$ 1.234,56``, ``12``) ->
    ``amount`` (text with a decimal point and two decimals, '' when empty) and ``bad``."""
    return by_unique(values, _parse_money, decimal_comma=decimal_comma)


def _parse_money(values: pd.Series, *, decimal_comma: bool) -> pd.DataFrame:
    text = values.astype(str).str.strip()
    empty = text.eq("")
    # currency codes or symbols before or after the number, and blanks inside it (plain
    # patterns without look-arounds: pyarrow runs them in C++ instead of Python's re)
    number = text.str.replace(r"^[^0-9.,-]*", "", regex=True)
    number = number.str.replace(r"[^0-9.,]*$", "", regex=True)
    number = number.str.replace(f"[{BLANKS}']", "", regex=True)
    if decimal_comma:
        number = number.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        number = number.str.replace(",", "", regex=False)
    ok = number.str.fullmatch(r"\d{1,10}(?:\.\d{1,2})?|\d{0,10}\.\d{1,2}")
    # more decimals than cents: refused rather than rounded
    amount = pd.to_numeric(number.where(ok, None), errors="coerce")
    bad = ~empty & (amount.isna() | (amount > MAX_MONEY))
    cents = (amount.where(~bad) * 100).round().astype("Int64")
    formatted = (cents // 100).astype(str) + "." + (cents % 100).astype(str).str.zfill(2)
    formatted = formatted.where(cents.notna().to_numpy(), "")
    return pd.DataFrame({"amount": formatted, "bad": bad})


TOO_LARGE = f"is too large: at most {MAX_COUNT:,}"  # a count's row error


def _grouped(separators: str) -> str:
    """A pattern of digits grouped by thousands with one of separators (a character class's
    contents): 1.200, 12.345.678, and India's lakhs (1,00,000)."""
    return rf"\d{{1,3}}(?:[{separators}]\d{{2,3}})*[{separators}]\d{{3}}"


# What groups the thousands of a count in any file: a blank (1 200, fr: a no-break or narrow
# no-break space) or an apostrophe (1'200, 1’200, ch); and by the file's decimal mark, a
# point (decimal comma: 1.200, de) or a comma (decimal point: 1,200, en).
_ANY_FILE_GROUPS = f"{BLANKS}'’"
# A whole number may end in the file's decimal mark and one or two zeros (2.0 from a
# spreadsheet); three are a group of thousands in the other number style (1.000 is 1 or
# 1000): never read as decimals.
_WHOLE_DECIMALS = {True: ",0{1,2}", False: r"\.0{1,2}"}
_COUNT = {
    decimal_comma: rf"(?:\d+|{_grouped(re.escape(thousands) + _ANY_FILE_GROUPS)})"
    f"(?:{_WHOLE_DECIMALS[decimal_comma]})?"
    for decimal_comma, thousands in ((True, "."), (False, ","))
}
MIXED_COUNTS = (
    "The file mixes points and commas between the thousands of its counts (e.g. 1.200 and "
    "1,200); export it again with one number format."
)


def counts_decimal_comma_detect(values: pd.Series) -> set[bool]:
    """What a column of counts tells of its file's decimal mark: True (a decimal comma) when
    a count groups thousands by points (1.200), False (a decimal point) when one groups them
    by commas (1,200); both, or none when no count does (1200, 2.0, 1 200)."""
    text = distinct(values).astype(str).str.strip()
    said = set()
    for decimal_comma, thousands in ((True, "."), (False, ",")):
        if text.str.fullmatch(_grouped(re.escape(thousands))).any():
            said.add(decimal_comma)
    return said


def decimal_comma_decide(
    *, amounts: Collection[bool] | Mapping[bool, AmountSeen], counts: set[bool]
) -> bool:
    """Whether a file writes numbers with a decimal comma, decided once for the whole file
    from what its amounts tell (decimal_comma_detect; with the amount that told each, when
    known), else, when none does or it has none (daily impressions), from what its counts
    tell (counts_decimal_comma_detect). A count written the other way is then a row error:
    1.200 in a decimal-point file is no whole number. FileError when the amounts, or
    (deciding) the counts, tell both."""
    if len(amounts) == 2:
        if isinstance(amounts, Mapping):
            raise FileError(mixed_decimal_marks(comma=amounts[True], point=amounts[False]))
        raise FileError(MIXED_DECIMAL_MARKS)
    if amounts:
        return set(amounts) == {True}
    if len(counts) == 2:
        raise FileError(MIXED_COUNTS)
    return counts == {True}


def parse_count(values: pd.Series, *, decimal_comma: bool = False) -> pd.DataFrame:
    """Whole numbers as text (``2``, ``2.0`` from a spreadsheet, ``1,200``; ``1.200`` and
    ``2,0`` in a decimal-comma file; ``1 200``, ``1'200`` in any) -> ``n``, ``bad`` and
    ``too_large`` (a whole number above MAX_COUNT: bad too, said apart)."""
    return by_unique(values, _parse_count, decimal_comma=decimal_comma)


def _parse_count(values: pd.Series, *, decimal_comma: bool = False) -> pd.DataFrame:
    text = values.astype(str).str.strip()
    empty = text.eq("")
    ok = text.str.fullmatch(_COUNT[decimal_comma]).fillna(False).astype(bool)
    # the decimal mark and its zeros off, then the marks between the thousands
    digits = text.where(ok).str.replace(_WHOLE_DECIMALS[decimal_comma] + "$", "", regex=True)
    digits = digits.str.replace(r"\D", "", regex=True)
    short = digits.str.len().le(10).fillna(False).astype(bool)
    n = pd.to_numeric(digits.where(short), errors="coerce")
    too_large = ok & (~short | (n > MAX_COUNT))
    bad = ~empty & (n.isna() | too_large)
    return pd.DataFrame(
        {"n": n.where(~bad).astype("Int64"), "bad": bad, "too_large": too_large.astype(bool)}
    )
