"""The RSS 2.0 <item> of each product written by PostgreSQL and finished in bulk by Python:
the fast path of XML feeds without rules (pure: builds SQL text and transforms bytes, runs
nothing).

writers.py is the reference: for the same rows both paths write byte-identical items
(tests/test_xml_sql.py), so the values follow specs.item_builder and the escaping follows
writers.xml_text.

Why two halves. Escaping in SQL costs a function call per field (three replace() and a
regexp_replace() each: 7 s of PostgreSQL time for a million products, against 1.2 s for
`COPY` of the bare columns), and Python cannot touch a row at a time either. So PostgreSQL
writes each item with its markup *marked* (MARK_LT for "<", MARK_GT for ">") around the raw
values, and Python escapes whole chunks of items with a handful of C-speed passes
(`unmark`): every "&", "<" and ">" in a marked chunk is feed text, and every mark is markup.

That only holds if feed text never passes for a mark. Both marks are control characters XML
forbids, which the reference drops from feed text anyway. SQL removes MARK_LT from every value
(one replace() per field, the only per-field cost left: 0.5 s a million products for each
mark removed this way), so every MARK_LT is markup. MARK_GT is left to Python: each tag is
MARK_LT, a name of ours, MARK_GT, so a chunk holds as many of one as of the other unless feed
text held MARK_GT, and then the markup's is the first after each MARK_LT (two counts in C
decide; the rare chunk that fails them is repaired tag by tag). `unmark` then turns the marks
into "<" and ">" and drops the other forbidden characters in one translate pass.
"""

from __future__ import annotations

from . import dates, links, specs

MARK_LT = "\x01"
MARK_GT = "\x02"
_LT, _GT = MARK_LT.encode(), MARK_GT.encode()

# Characters XML 1.0 forbids, which the reference (writers.xml_text) drops from feed text.
# NUL cannot be in PostgreSQL text; U+FFFE and U+FFFF are three bytes each in UTF-8.
_BAD_ASCII = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D))
_BAD_WIDE = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
# The marks become "<" and ">", every other forbidden byte NUL (which PostgreSQL text never
# holds), deleted after: translate() with a table only is a plain loop, with bytes to delete
# a much slower one.
_TABLE_ = bytearray(range(256))
for _b in _BAD_ASCII:
    _TABLE_[_b] = 0
_TABLE_[ord(MARK_LT)], _TABLE_[ord(MARK_GT)] = ord("<"), ord(">")
_TABLE = bytes(_TABLE_)


def _drop_text_gt(chunk: bytes) -> bytes:
    """MARK_GT held by feed text dropped: the markup's is the first after each MARK_LT
    (a tag's name never holds one), every other one is text."""
    pieces = chunk.split(_LT)
    kept = [pieces[0].replace(_GT, b"")]
    for piece in pieces[1:]:
        name, gt, text = piece.partition(_GT)
        kept.append(name + gt + text.replace(_GT, b""))
    return _LT.join(kept)


def unmark(chunk: bytes) -> bytes:
    """Marked items (whole ones; feed text without MARK_LT) to XML: escape the feed text,
    then turn the marks into markup and drop the characters XML forbids. Each step is one
    pass in C."""
    if chunk.count(_GT) != chunk.count(_LT):
        chunk = _drop_text_gt(chunk)
    if b"&" in chunk:
        chunk = chunk.replace(b"&", b"&amp;")
    if b"<" in chunk:
        chunk = chunk.replace(b"<", b"&lt;")
    if b">" in chunk:
        chunk = chunk.replace(b">", b"&gt;")
    chunk = chunk.translate(_TABLE)
    if b"\x00" in chunk:
        chunk = chunk.replace(b"\x00", b"")
    # "in" looks for one byte with memchr, for two far slower: 0xEF (the lead byte of
    # U+F000..U+FFFF) first, which text in Latin script never holds
    if b"\xef" in chunk and b"\xef\xbf" in chunk:
        for wide in _BAD_WIDE:
            if wide in chunk:
                chunk = chunk.replace(wide, b"")
    return chunk


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _markup(text: str) -> str:
    """A SQL literal of markup, marked: "<" is MARK_LT, ">" is MARK_GT."""
    marked = text.replace("<", MARK_LT).replace(">", MARK_GT)
    return (
        "E'"
        + marked.replace("\\", "\\\\")
        .replace("'", "''")
        .replace(MARK_LT, "\\x01")
        .replace(MARK_GT, "\\x02")
        .replace("\n", "\\n")
        + "'"
    )


def _chars(text: str) -> str:
    """A SQL literal of any text: non-ASCII and control characters as escapes."""
    out = []
    for ch in text:
        if ch in "\\'" or not " " <= ch <= "~":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "E'" + "".join(out) + "'"


def shortened(expr: str, limit: int) -> str:
    """specs.shorten in SQL, with its very patterns: the text if it fits, else cut after its
    last whole word within the limit (joining punctuation trimmed) when that keeps enough,
    else before the last grapheme cluster the limit cuts (or at the limit, for a text of one
    cluster). The regular expressions run only on the rare text over the limit, and a text
    of no more bytes than the limit fits without its characters being counted (char_length
    reads the whole text, octet_length only its length word)."""
    head = f"left({expr}, {limit + 1})"
    trim = _chars(specs.TRIM_AFTER_CUT)
    words = f"rtrim(substring({head} from {_lit(specs.WORD_HEAD)}), {trim})"
    cluster = f"regexp_replace({head}, {_lit(specs.cluster_tail())}, '')"
    return (
        f"CASE WHEN octet_length({expr}) <= {limit} OR char_length({expr}) <= {limit} "
        f"THEN {expr} "
        f"WHEN char_length({words}) >= {specs.word_cut_minimum(limit)} THEN {words} "
        f"ELSE COALESCE(NULLIF({cluster}, ''), left({expr}, {limit})) END"
    )


def nfc_text(expr: str, limit: int | None = None) -> str:
    """specs.nfc in SQL, then specs.shorten to limit when given. normalize() is slow (20 s
    for a million texts of 1,000 characters), so it runs only on a text that may not be in
    NFC: not ASCII (its bytes are more than its characters) and holding one of the
    characters of specs.maybe_not_nfc. The test is made once, outside the shortening, which
    reads its text several times."""
    ascii_only = f"octet_length({expr}) = char_length({expr})"
    maybe = f"NOT ({ascii_only} OR {expr} !~ {_lit(specs.maybe_not_nfc())})"
    normal = f"normalize({expr}, NFC)"
    if limit is not None:
        expr, normal = shortened(expr, limit), shortened(normal, limit)
    return f"CASE WHEN {maybe} THEN {normal} ELSE {expr} END"


def _sql_lit(text: str) -> str:
    """_chars for SQL that runs with bound parameters: each "%" doubled."""
    return _chars(text).replace("%", "%%")


def link_needs_work(expr: str) -> str:
    """links.url has something to do: one regular expression over the link, and a second
    only for a link holding a "%" (most hold none, or only escapes)."""
    kept, bare = _sql_lit(links.URL_NOT_KEPT), _sql_lit(links.URL_BARE_PERCENT)
    return f"({expr} ~ {kept} OR (strpos({expr}, '%%') > 0 AND {expr} ~ {bare}))"


def link(expr: str) -> str:
    """links.url in SQL (for a statement with bound parameters): a link with nothing to do
    as it is; else the forbidden characters dropped, the ends trimmed, and past the scheme
    and host each "%XX" escape and each character RFC 3986 allows as it is, any other (a
    bare "%" too) as its UTF-8 bytes in %XX. Only links with something to do pay for the
    subqueries."""
    escaped = _sql_lit(links.URL_NOT_KEPT)
    percent = (
        "upper(regexp_replace(encode(convert_to(r.t[1], 'UTF8'), 'hex'), '(..)', '%%\\1', 'g'))"
    )
    cleaned = (
        f"btrim(regexp_replace({expr}, {_sql_lit(links.URL_DROP)}, '', 'g'), "
        f"{_sql_lit(links.URL_TRIM)})"
    )
    tokens = (
        f"(SELECT string_agg(CASE WHEN r.t[1] = '%%' OR r.t[1] ~ {escaped} THEN {percent} "  # noqa: S608 - our own patterns
        f"ELSE r.t[1] END, '' ORDER BY r.n) FROM regexp_matches(substr(c.v, "
        f"char_length(c.h) + 1), '%%[0-9A-Fa-f]{{2}}|.', 'g') WITH ORDINALITY AS r(t, n))"
    )
    work = (
        f"(SELECT c.h || COALESCE({tokens}, '') FROM (SELECT s.v, "  # noqa: S608 - our own patterns
        f"COALESCE(substring(s.v from {_sql_lit(links.URL_HEAD)}), '') AS h "
        f"FROM (SELECT {cleaned} AS v) s) c)"
    )
    return f"CASE WHEN {link_needs_work(expr)} THEN {work} ELSE {expr} END"


def availability_date(expr: str) -> str:
    """dates.availability_date in SQL, with its very pattern: the date, "T", the hours and
    minutes (midnight when none), then the zone's sign, hours and minutes without a colon
    (Z when none); NULL, so no element, for a value that is no such date."""
    match = f"regexp_match({expr}, {_lit(dates.AVAILABILITY_DATE)})"
    return (
        "(SELECT m[1] || 'T' || COALESCE(m[2], '00:00') || COALESCE(m[3] || COALESCE(m[4], "  # noqa: S608 - our own pattern
        f"'00'), 'Z') FROM (SELECT {match} AS m) d)"
    )


def _attr(name: str) -> str:
    return f"(p.custom_attributes ->> {_lit(name)})"


def _clean(expr: str) -> str:
    """Feed text without MARK_LT (the reference drops it anyway; MARK_GT: see `unmark`)."""
    return f"replace({expr}, E'\\x01', '')"


def _element(tag: str, expr: str, *, text: bool = True) -> str:
    """<tag>value</tag>, or NULL (nothing, in concat()) when the value is empty or NULL,
    as the reference leaves out empty values. Emptiness is judged before the marks are removed:
    a value of forbidden characters only is an empty element there too."""
    value = f"NULLIF({expr}, '')"
    if text:
        value = _clean(value)
    return f"{_markup(f'<{tag}>')} || {value} || {_markup(f'</{tag}>')}"


def _written(amount: str, currency: str) -> str:
    """specs.written_amount in SQL: numeric(14, 2) has two decimals already, and round() to
    another scale keeps exactly that many (ties away from zero). Most prices are in a
    currency of two: one hashed IN test decides."""
    by_digits: dict[int, list[str]] = {}
    for name, n in specs.MINOR_UNITS.items():
        by_digits.setdefault(n, []).append(_lit(name))
    code = _code(currency)
    *tested, (last, _) = sorted(by_digits.items())
    whens = " ".join(f"WHEN {code} IN ({', '.join(names)}) THEN {n}" for n, names in tested)
    every = ", ".join(_lit(name) for name in specs.MINOR_UNITS)
    return (
        f"CASE WHEN {code} IN ({every}) THEN round({amount}, CASE {whens} ELSE {last} END) "
        f"ELSE {amount} END"
    )


def _code(currency: str) -> str:
    lower = specs.LOWER_ASCII
    return f"translate({currency}, {_lit(lower)}, {_lit(lower.upper())})"  # specs.currency_code


def _in_catalog_currency(catalog: str, fast: str, general: str) -> str:
    """``fast`` for a product priced in the catalog's currency (its own, or none: nearly
    every product), written for that one currency; ``general`` for any other. The general
    expression looks the currency up in the minor units' table for every row: at a million
    products that took more of the feed's time than all its texts."""
    return f"CASE WHEN p.currency IN ('', {_lit(catalog)}) THEN {fast} ELSE {general} END"


def _written_in(amount: str, catalog: str) -> str:
    """_written for the catalog's currency: numeric(14, 2) as it is, else rounded."""
    digits = specs.minor_units(catalog)
    return amount if digits == 2 else f"round({amount}, {digits})"


def _money(amount: str, currency: str, catalog: str) -> str:
    """The amount as written (`_written`: a numeric's text keeps its scale, no "-0"), then
    the code in capitals (specs.money)."""
    general = f"({_written(amount, currency)})::text || ' ' || {_clean(_code(currency))}"
    fast = f"({_written_in(amount, catalog)})::text || {_lit(' ' + catalog)}"
    return _in_catalog_currency(catalog, fast, general)


def _on_sale(currency: str, catalog: str) -> str:
    """specs.on_sale: the sale price, as written, above zero and below the price as written.
    Rounding keeps order, so the raw test first only spares the rest on most rows."""
    sale, price = _written("p.sale_price", currency), _written("p.price", currency)
    fast_sale, fast_price = _written_in("p.sale_price", catalog), _written_in("p.price", catalog)
    fast = f"{fast_sale} > 0 AND {fast_sale} < {fast_price}"
    written = _in_catalog_currency(catalog, fast, f"{sale} > 0 AND {sale} < {price}")
    return f"p.sale_price IS NOT NULL AND p.sale_price < p.price AND {written}"


def _availability(channel: str) -> str:
    google = channel == specs.GOOGLE
    whens = " ".join(
        f"WHEN {_lit(ours)} THEN {_lit(words[0] if google else words[1])}"
        for ours, words in specs._AVAILABILITY.items()
    )
    # an unknown value: what availability_word writes for it (feed text: cleaned)
    unknown = _clean("replace(p.availability, '_', ' ')")
    other = f"CASE WHEN p.availability = '' THEN 'in stock' ELSE {unknown} END"
    return f"CASE p.availability {whens} ELSE {other} END"


def _fits(expr: str, limit: int | None) -> str:
    """expr has no more than limit characters (counted only when its bytes are more)."""
    if limit is None:
        return "TRUE"
    return f"(octet_length({expr}) <= {limit} OR char_length({expr}) <= {limit})"


def _images(tag: str, limit: int | None, count: int | None) -> str:
    """One element per image, as the reference (links.image_list, then item_fitter): each URL
    as `link` writes it, a comma inside it written %2C, empty URLs (also those of forbidden
    characters only) and, so written, URLs over the channel's limit left out, then the first
    `count` in order, one element each. One image without a comma and with nothing for
    `link` to do (the usual case) skips the per-row subquery."""
    a = "p.additional_image_links"
    first = f" ORDER BY n LIMIT {count}" if count is not None else " ORDER BY n"
    joined = (
        f"array_to_string(ARRAY(SELECT w FROM (SELECT replace({link('u')}, ',', '%%2C') AS w, n "  # noqa: S608
        f"FROM jsonb_array_elements_text({a}) WITH ORDINALITY AS e(u, n)) written "
        f"WHERE w <> '' AND {_fits('w', limit)}{first}), ',')"
    )
    # no empty piece is left to split on, nor a forbidden character (`link` drops them)
    pieces = f"NULLIF({joined}, '')"
    several = (
        f"{_markup(f'<{tag}>')} || replace({pieces}, ',', {_markup(f'</{tag}><{tag}>')}) "
        f"|| {_markup(f'</{tag}>')}"
    )
    return (
        f"CASE WHEN {a} = '[]'::jsonb THEN NULL "
        f"WHEN jsonb_array_length({a}) = 1 AND strpos({a} ->> 0, ',') = 0 "
        f"AND NOT {link_needs_work(f'({a} ->> 0)')} AND {_fits(f'({a} ->> 0)', limit)} "
        f"THEN {_element(tag, f'{a} ->> 0', text=False)} ELSE {several} END"
    )


def _gtin(expr: str) -> str:
    """specs.gtin_digits in SQL: a GTIN of digits only (the usual case) as it is, else its
    digits when, trimmed and without its separators, it has a GTIN's length."""
    digits = f"translate(btrim({expr}, {_chars(specs.SPACES)}), {_lit(specs.GTIN_SEPARATORS)}, '')"
    return (
        f"CASE WHEN translate({expr}, '0123456789', '') = '' THEN {expr} "
        f"WHEN {digits} ~ {_lit(specs.GTIN_SHAPE)} THEN {digits} ELSE {expr} END"
    )


def item_sql(channel: str, *, catalog_currency: str, label_slot: int | None) -> tuple[str, list]:
    """A SQL expression over `p` (product) and `fs` (flag state) giving one marked <item>
    line (see the module's docstring; `unmark` makes it XML), and its parameters."""
    spec = specs.SPECS[channel]
    currency = "COALESCE(NULLIF(p.currency, ''), %s)"
    catalog = specs.currency_code(catalog_currency)
    dated = ", ".join(map(_lit, specs.dated_values(channel))) or "NULL"
    on_sale = _on_sale(currency, catalog)
    values = {
        spec.id_column: "p.sku",
        "title": "p.title",
        "description": "p.description",
        "link": link("p.link"),
        "image_link": link("p.image_link"),
        "brand": "p.brand",
        "sale_price": f"CASE WHEN {on_sale} THEN p.sale_price END",
        # only with a sale price (specs.item_builder)
        "sale_price_effective_date": f"CASE WHEN {on_sale} "
        f"THEN {nfc_text(_attr('sale_price_effective_date'))} END",
        "item_group_id": "p.item_group_id",
        # only with preorder or backorder (specs.item_builder), which the content query
        # leaves out without one
        "availability_date": f"CASE WHEN p.availability IN ({dated}) "
        f"THEN {availability_date(_attr('availability_date'))} END",
        "google_product_category": nfc_text("p.google_product_category"),
        "fb_product_category": nfc_text(_attr("fb_product_category")),
        "product_type": "p.product_type",
        "gtin": _gtin("p.gtin"),
        "mpn": "p.mpn",
    }
    parts = [_markup("<item>")]
    for col in specs.base_columns(channel, label_slot=label_slot):
        tag = col if col in ("title", "link", "description") else f"g:{col}"
        if col == "additional_image_link":
            parts.append(_images(tag, spec.image_url_limit, spec.image_count))
        elif col == "availability":
            # never empty; the words are ours, the unknown values cleaned inside
            parts.append(_element(tag, _availability(channel), text=False))
        elif col in ("price", "sale_price"):
            amount = values.get(col, f"p.{col}")
            parts.append(_element(tag, _money(amount, currency, catalog), text=False))
        elif col == "condition":
            condition = nfc_text("NULLIF(p.condition, '')")
            parts.append(_element(tag, f"COALESCE({condition}, 'new')"))
        elif label_slot is not None and col == specs.label_column(label_slot):
            status = "CASE WHEN fs.status IN ('impacted', 'at_risk') THEN fs.status END"
            parts.append(_element(tag, status, text=False))
        elif col in spec.text_limits:
            parts.append(_element(tag, nfc_text(values[col], spec.text_limits[col])))
        elif col in ("title", "description", "brand", "product_type"):
            parts.append(_element(tag, nfc_text(values[col])))
        elif col in specs.LINK_COLUMNS:
            # `link` leaves no forbidden character, MARK_LT among them
            parts.append(_element(tag, values[col], text=False))
        else:
            parts.append(_element(tag, values[col]))
    parts.append(_markup("</item>\n"))
    sql = "concat(" + ", ".join(parts) + ")"
    # the only parameter is the catalog's currency, wherever a price needs it
    return sql, [catalog_currency] * sql.count("%s")
