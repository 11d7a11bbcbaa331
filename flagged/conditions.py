"""A small language for conditions on one order line, written once and read three ways.

The metric definitions in ``flagged.scoring.METRICS`` are trees of these nodes. Each node can

* ``test(order, ctx)``: evaluate on an ``OrderFacts`` in Python (the pure rules and their tests);
* ``sql(ctx)``: print itself as SQL over the order table aliased ``o``, with every value a named
  parameter (the set-based scoring statement, ``flagged.scoring_sql``);
* ``expr(ctx)``: build the same condition as a Django expression (the orders the details page
  lists as counting against a metric, ``flagged.selectors``).

The three readings follow SQL's three-valued logic: a comparison with a NULL is *unknown*
(``None`` in Python), ``NOT unknown`` is unknown, and a row counts only when its condition is
true. Values come from the order's columns, ``now``, the policy's window start and the policy's
own numbers (``Setting``); SQL names them ``%(now)s``, ``%(<prefix>_since)s`` and
``%(<prefix>_<setting>)s`` (``flagged.scoring_sql.params`` binds exactly those).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Value
from django.db.models import lookups as dj


@dataclass(frozen=True)
class Ctx:
    """What a condition is evaluated against besides the order: the time, the metric's policy,
    the tenant's time zone (whose clock the window's days are counted on) and (for SQL) the
    metric's column prefix that names its parameters."""

    now: datetime | None  # None when printing SQL: times are parameters there
    policy: Any
    prefix: str = ""
    tz: tzinfo = UTC
    vendor: str = "postgresql"  # the SQL dialect (SQLite is the embedded default)

    def param(self, name: str) -> str:
        return f"%({self.prefix}_{name})s"


# --------------------------------------------------------------------------------- terms


class Term:
    """A value: of the order, of the context, or computed from other terms."""

    def value(self, order, ctx: Ctx) -> Any:
        raise NotImplementedError

    def sql(self, ctx: Ctx) -> str:
        raise NotImplementedError

    def expr(self, ctx: Ctx):
        raise NotImplementedError

    def settings(self) -> Iterator[str]:
        """The policy settings this term reads (their SQL parameters must be bound)."""
        yield from ()


@dataclass(frozen=True)
class Col(Term):
    """A column of the order line (same name on ``OrderFacts`` and ``catalogs.Order``)."""

    name: str

    def value(self, order, ctx):
        return getattr(order, self.name)

    def sql(self, ctx):
        return f"o.{self.name}"

    def expr(self, ctx):
        return F(self.name)


@dataclass(frozen=True)
class Now(Term):
    """The scoring time."""

    def value(self, order, ctx):
        return ctx.now

    def sql(self, ctx):
        return "%(now)s"

    def expr(self, ctx):
        return Value(ctx.now)


@dataclass(frozen=True)
class Since(Term):
    """The start of the policy's window: ``now - window_days`` on the tenant's clock (30 days
    before 12:00 is 12:00 local time, 719 or 721 hours back across a DST change)."""

    def value(self, order, ctx):
        # aware arithmetic in a ZoneInfo adds wall-clock days
        return ctx.now.astimezone(ctx.tz) - timedelta(days=ctx.policy.window_days)

    def sql(self, ctx):
        return ctx.param("since")

    def expr(self, ctx):
        return Value(self.value(None, ctx))


@dataclass(frozen=True)
class Setting(Term):
    """One of the policy's numbers (``fee_amount``, ``fee_ratio_percent``)."""

    name: str

    def value(self, order, ctx):
        return getattr(ctx.policy, self.name)

    def sql(self, ctx):
        return ctx.param(self.name)

    def expr(self, ctx):
        return Value(self.value(None, ctx))

    def settings(self):
        yield self.name


@dataclass(frozen=True)
class Lit(Term):
    """A constant of the definitions (never input): an int or a short string."""

    value_: int | str

    def value(self, order, ctx):
        return self.value_

    def sql(self, ctx):
        if isinstance(self.value_, str):
            return "'" + self.value_.replace("'", "''") + "'"
        return str(int(self.value_))

    def expr(self, ctx):
        return Value(self.value_)


@dataclass(frozen=True)
class Mul(Term):
    """Product of terms (exact: integers and Decimals)."""

    terms: tuple[Term, ...]

    def value(self, order, ctx):
        out: Any = 1
        for t in self.terms:
            v = t.value(order, ctx)
            if v is None:
                return None
            out = out * v
        return out

    def sql(self, ctx):
        return " * ".join(t.sql(ctx) for t in self.terms)

    def expr(self, ctx):
        out = self.terms[0].expr(ctx)
        for t in self.terms[1:]:
            out = out * t.expr(ctx)
        return ExpressionWrapper(out, output_field=DecimalField())

    def settings(self):
        for t in self.terms:
            yield from t.settings()


def mul(*terms: Term) -> Mul:
    return Mul(tuple(terms))


# ---------------------------------------------------------------------------- conditions


class Cond:
    """A condition on one order line: true, false or unknown (None)."""

    def test(self, order, ctx: Ctx) -> bool | None:
        raise NotImplementedError

    def sql(self, ctx: Ctx) -> str:
        raise NotImplementedError

    def expr(self, ctx: Ctx) -> Q:
        raise NotImplementedError

    def settings(self) -> Iterator[str]:
        """The policy settings this condition reads (their SQL parameters must be bound)."""
        yield from ()


# op: (Python, Django lookup; None = the negation of "=")
_OPS: dict[str, tuple[Callable[[Any, Any], bool], type | None]] = {
    "=": (operator.eq, dj.Exact),
    "<>": (operator.ne, None),
    "<": (operator.lt, dj.LessThan),
    "<=": (operator.le, dj.LessThanOrEqual),
    ">": (operator.gt, dj.GreaterThan),
    ">=": (operator.ge, dj.GreaterThanOrEqual),
}


@dataclass(frozen=True)
class Cmp(Cond):
    left: Term
    op: str
    right: Term

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown operator {self.op!r}")

    def test(self, order, ctx):
        a, b = self.left.value(order, ctx), self.right.value(order, ctx)
        if a is None or b is None:
            return None
        return _OPS[self.op][0](a, b)

    def sql(self, ctx):
        return f"{self.left.sql(ctx)} {self.op} {self.right.sql(ctx)}"

    def expr(self, ctx):
        lookup = _OPS[self.op][1]
        if lookup is None:  # a <> b is NOT (a = b), NULL-unknown either way
            return ~Q(dj.Exact(self.left.expr(ctx), self.right.expr(ctx)))
        return Q(lookup(self.left.expr(ctx), self.right.expr(ctx)))

    def settings(self):
        yield from self.left.settings()
        yield from self.right.settings()


@dataclass(frozen=True)
class IsNull(Cond):
    column: str
    negated: bool = False

    def test(self, order, ctx):
        return (getattr(order, self.column) is None) != self.negated

    def sql(self, ctx):
        return f"o.{self.column} IS {'NOT ' if self.negated else ''}NULL"

    def expr(self, ctx):
        return Q(dj.IsNull(F(self.column), not self.negated))


def not_null(column: str) -> IsNull:
    return IsNull(column, negated=True)


@dataclass(frozen=True)
class Matches(Cond):
    """The text holds a match of a regular expression of the definitions (never input),
    written in the part of the syntax Python and PostgreSQL read alike (bracket
    expressions, ``\\uXXXX`` and ``\\UXXXXXXXX`` escapes, the anchors ``\\A`` and ``\\Z``;
    ``$`` differs: Python's also matches before a final newline). SQLite reads it through
    the REGEXP function Django gives it, which is Python's."""

    term: Term
    pattern: str

    def __post_init__(self) -> None:
        # printed inside a quoted SQL literal next to named parameters
        if "'" in self.pattern or "%" in self.pattern:
            raise ValueError("a pattern cannot hold a quote or a percent sign")
        re.compile(self.pattern)

    def test(self, order, ctx):
        v = self.term.value(order, ctx)
        return None if v is None else re.search(self.pattern, v) is not None

    def sql(self, ctx):
        op = "REGEXP" if ctx.vendor == "sqlite" else "~"
        return f"{self.term.sql(ctx)} {op} '{self.pattern}'"

    def expr(self, ctx):
        return Q(dj.Regex(self.term.expr(ctx), Value(self.pattern)))

    def settings(self):
        yield from self.term.settings()


@dataclass(frozen=True)
class And(Cond):
    parts: tuple[Cond, ...]

    def test(self, order, ctx):
        results = [p.test(order, ctx) for p in self.parts]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True

    def sql(self, ctx):
        if not self.parts:
            return "TRUE"
        return " AND ".join(p.sql(ctx) for p in self.parts)

    def expr(self, ctx):
        out = Q()
        for p in self.parts:
            out &= p.expr(ctx)
        return out

    def settings(self):
        for p in self.parts:
            yield from p.settings()


@dataclass(frozen=True)
class Or(Cond):
    """Any of the parts; with no part at all, false."""

    parts: tuple[Cond, ...]

    def test(self, order, ctx):
        results = [p.test(order, ctx) for p in self._present(ctx)]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False

    def sql(self, ctx):
        present = self._present(ctx)
        if not present:
            return "FALSE"
        if len(present) == 1:
            return present[0].sql(ctx)
        return "(" + " OR ".join(p.sql(ctx) for p in present) + ")"

    def expr(self, ctx):
        present = self._present(ctx)
        if not present:
            return Q(pk__in=[])
        out = present[0].expr(ctx)
        for p in present[1:]:
            out |= p.expr(ctx)
        return out

    def _present(self, ctx) -> list[Cond]:
        return [p for p in self.parts if not isinstance(p, IfSet) or p.applies(ctx)]

    def settings(self):
        for p in self.parts:
            yield from p.settings()


@dataclass(frozen=True)
class IfSet(Cond):
    """Inside an ``Or``: the condition takes part only when the policy sets ``setting``
    (high shipping fee: "above the ratio of item value, or above the amount", either one)."""

    setting: str
    cond: Cond

    def applies(self, ctx: Ctx) -> bool:
        return getattr(ctx.policy, self.setting) is not None

    def test(self, order, ctx):
        return self.cond.test(order, ctx) if self.applies(ctx) else False

    def sql(self, ctx):
        return self.cond.sql(ctx) if self.applies(ctx) else "FALSE"

    def expr(self, ctx):
        return self.cond.expr(ctx) if self.applies(ctx) else Q(pk__in=[])

    def settings(self):
        yield self.setting
        yield from self.cond.settings()


@dataclass(frozen=True)
class Not(Cond):
    cond: Cond

    def test(self, order, ctx):
        r = self.cond.test(order, ctx)
        return None if r is None else not r

    def sql(self, ctx):
        return f"NOT ({self.cond.sql(ctx)})"

    def expr(self, ctx):
        return ~self.cond.expr(ctx)

    def settings(self):
        yield from self.cond.settings()


def all_of(*parts: Cond) -> And:
    """AND of the parts, nested ANDs flattened (the empty AND is true)."""
    flat: list[Cond] = []
    for p in parts:
        flat.extend(p.parts if isinstance(p, And) else (p,))
    return And(tuple(flat))


def any_of(*parts: Cond) -> Or:
    return Or(tuple(parts))


ALWAYS = And(())
