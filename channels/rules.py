"""Field rules of a channel feed: data (a list of rule rows), validated and applied by pure
functions.

Rule rows (JSON objects), applied in order to each item (a dict of the channel's columns):

    {"op": "set",      "field": "brand", "value": "Kestrel"}
    {"op": "copy",     "from": "product_type", "to": "custom_label_1"}
    {"op": "rename",   "from": "product_type", "to": "custom_label_2"}
    {"op": "template", "field": "title", "template": "{brand} {title}"}
    {"op": "prefix",   "field": "title", "value": "New: "}
    {"op": "suffix",   "field": "title", "value": " (EU)"}
    {"op": "replace",  "field": "title", "find": "Sneaker", "replace": "Shoe"}
    {"op": "exclude",  "field": "brand", "when": "equals", "value": "Acme"}

``exclude`` conditions: equals, not_equals, contains, starts_with, empty, not_empty.
A template names columns in braces and nothing else: no attribute access, no format specs
(it is not ``str.format``, whose ``{0.__class__}`` reaches into objects).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

MAX_RULES = 50
MAX_TEXT = 500
OPS = ("set", "copy", "rename", "template", "prefix", "suffix", "replace", "exclude")
CONDITIONS = ("equals", "not_equals", "contains", "starts_with", "empty", "not_empty")
_COLUMN_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")

# keys each op needs (besides "op"); text keys are length-checked
_KEYS: dict[str, tuple[str, ...]] = {
    "set": ("field", "value"),
    "copy": ("from", "to"),
    "rename": ("from", "to"),
    "template": ("field", "template"),
    "prefix": ("field", "value"),
    "suffix": ("field", "value"),
    "replace": ("field", "find", "replace"),
    "exclude": ("field", "when"),
}


def output_columns(base: Iterable[str], rules: list[dict]) -> list[str]:
    """The feed's header after the rules: new target columns added, renamed ones dropped.
    Assumes validated rules."""
    cols = list(base)
    for r in rules:
        op = r.get("op")
        target = r.get("to") if op in ("copy", "rename") else r.get("field")
        if op == "rename" and r.get("from") in cols:
            cols[cols.index(r["from"])] = target
            continue
        if op in ("set", "copy", "template") and target and target not in cols:
            cols.append(target)
    return cols


def written_columns(rules: list[dict]) -> set[str]:
    """The columns validated rules change: what they set, copy or rename onto, rewrite, and
    what a rename empties."""
    written: set[str] = set()
    for r in rules:
        op = r.get("op")
        if op in ("copy", "rename"):
            written.add(r["to"])
            if op == "rename":
                written.add(r["from"])
        elif op != "exclude":
            written.add(r["field"])
    return written


def validate_rules(
    rules: object,
    *,
    columns: Iterable[str],
    id_column: str,
    value_problem: Callable[[str, str], str | None] | None = None,
    required: Iterable[str] = (),
) -> list[str]:
    """Every problem of a rule list, as sentences naming the rule's position ([] when fine).

    `columns` are the channel's columns before the rules; a rule may read a column an
    earlier rule created. The id column can be read but never written, renamed or emptied:
    it is how the channel matches products across fetches. `value_problem(column, value)`
    says why the channel would refuse a value a `set` rule writes (a price of "call us"):
    such a rule would spoil every item, so it is refused here; what the other ops make of a
    value is known only when the feed is written. Nor may a rule rename away, or set empty,
    a column of `required` (the channel's template): a file without one is refused whole,
    an item without its value too."""
    if not isinstance(rules, list):
        return ["Rules must be a list of rule rows."]
    if len(rules) > MAX_RULES:
        return [f"At most {MAX_RULES} rules."]
    known = list(columns)
    required = set(required)
    errors: list[str] = []
    for n, rule in enumerate(rules, start=1):
        where = f"Rule {n}"
        if not isinstance(rule, dict):
            errors.append(f"{where}: must be an object with an op.")
            continue
        op = rule.get("op")
        if op not in OPS:
            errors.append(f"{where}: unknown op {str(op)[:30]!r} (one of {', '.join(OPS)}).")
            continue
        missing = [k for k in _KEYS[op] if k not in rule]
        if op == "exclude" and rule.get("when") not in ("empty", "not_empty"):
            missing += [] if "value" in rule else ["value"]
        if missing:
            errors.append(f"{where} ({op}): missing {', '.join(missing)}.")
            continue
        extra = set(rule) - {"op", *(_KEYS[op]), "value"}
        if extra:
            errors.append(f"{where} ({op}): unknown keys {', '.join(sorted(map(str, extra)))}.")
            continue
        if any(not isinstance(rule[k], str) for k in rule if k != "op"):
            errors.append(f"{where} ({op}): every value must be text.")
            continue
        if any(len(rule[k]) > MAX_TEXT for k in rule):
            errors.append(f"{where} ({op}): texts are limited to {MAX_TEXT} characters.")
            continue
        source = rule.get("from") if op in ("copy", "rename") else rule.get("field")
        target = rule.get("to") if op in ("copy", "rename") else rule.get("field")
        if op in ("copy", "rename") and source not in known:
            errors.append(f"{where} ({op}): no column {source!r} to read.")
            continue
        if op in ("prefix", "suffix", "replace", "exclude") and source not in known:
            errors.append(f"{where} ({op}): no column {source!r}.")
            continue
        if not _COLUMN_RE.match(target or ""):
            errors.append(
                f"{where} ({op}): column names are lowercase letters, digits and _ "
                f"(got {str(target)[:30]!r})."
            )
            continue
        if op != "exclude" and id_column in (target, source if op == "rename" else None):
            errors.append(f"{where} ({op}): the {id_column} column cannot be changed.")
            continue
        if op == "rename" and source in required and target != source:
            errors.append(f"{where} (rename): the channel requires the {source} column (copy it).")
            continue
        if op == "set" and target in required and not rule["value"].strip():
            errors.append(f"{where} (set): the channel requires {target}; it cannot be set empty.")
            continue
        if op == "rename" and target in known and target != source:
            errors.append(f"{where} (rename): column {target!r} exists already (copy onto it).")
            continue
        if op == "exclude" and rule["when"] not in CONDITIONS:
            errors.append(f"{where} (exclude): when is one of {', '.join(CONDITIONS)}.")
            continue
        if op == "replace" and not rule["find"]:
            errors.append(f"{where} (replace): find must not be empty.")
            continue
        if op == "template":
            names = _PLACEHOLDER_RE.findall(rule["template"])
            unknown = [x for x in names if x not in known]
            if unknown:
                errors.append(f"{where} (template): no column {unknown[0][:30]!r}.")
                continue
            if "{" in _PLACEHOLDER_RE.sub("", rule["template"]) or "}" in _PLACEHOLDER_RE.sub(
                "", rule["template"]
            ):
                errors.append(f"{where} (template): unbalanced brace.")
                continue
        problem = value_problem(target, rule["value"]) if op == "set" and value_problem else None
        if problem:
            errors.append(f"{where} (set): {problem}")
            continue
        if op == "rename":
            known[known.index(source)] = target
        elif target not in known:
            known.append(target)
    return errors


def _step(rule: dict) -> Callable[[dict], bool]:
    """One rule as a function mutating an item; returns False to drop the item."""
    op = rule["op"]
    if op == "set":
        field, value = rule["field"], rule["value"]

        def run(item):
            item[field] = value
            return True

    elif op == "copy":
        src, dst = rule["from"], rule["to"]

        def run(item):
            item[dst] = item.get(src, "")
            return True

    elif op == "rename":
        src, dst = rule["from"], rule["to"]

        def run(item):
            item[dst] = item.pop(src, "")
            return True

    elif op == "template":
        field, template = rule["field"], rule["template"]

        def run(item):
            text = _PLACEHOLDER_RE.sub(lambda m: item.get(m.group(1), ""), template)
            item[field] = " ".join(text.split())  # an empty placeholder leaves no double space
            return True

    elif op == "prefix":
        field, value = rule["field"], rule["value"]

        def run(item):
            if item.get(field):
                item[field] = value + item[field]
            return True

    elif op == "suffix":
        field, value = rule["field"], rule["value"]

        def run(item):
            if item.get(field):
                item[field] = item[field] + value
            return True

    elif op == "replace":
        field, find, repl = rule["field"], rule["find"], rule["replace"]

        def run(item):
            if item.get(field):
                item[field] = item[field].replace(find, repl)
            return True

    else:  # exclude
        field, when, value = rule["field"], rule["when"], rule.get("value", "")
        low = value.lower()
        tests: dict[str, Callable[[str], bool]] = {
            "equals": lambda v: v.lower() == low,
            "not_equals": lambda v: v.lower() != low,
            "contains": lambda v: low in v.lower(),
            "starts_with": lambda v: v.lower().startswith(low),
            "empty": lambda v: not v.strip(),
            "not_empty": lambda v: bool(v.strip()),
        }
        test = tests[when]

        def run(item):
            return not test(item.get(field, ""))

    return run


def compile_rules(rules: list[dict]) -> Callable[[dict], dict | None] | None:
    """The validated rules as one function item -> item (or None when excluded); None when
    there are no rules, so the writers skip the call altogether."""
    if not rules:
        return None
    steps = [_step(r) for r in rules]

    def apply(item: dict) -> dict | None:
        for step in steps:
            if not step(item):
                return None
        return item

    return apply
