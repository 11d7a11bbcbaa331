"""Shares (0 to 1) as the product shows them everywhere: pages, charts, emails and the
members page's activity. One place, so a share reads the same wherever it appears."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal


def share_percent(value: float | Decimal, digits: int = 1) -> Decimal:
    """A share (0-1) as a percentage rounded *down* to ``digits`` decimals, as pages,
    charts and emails show shares and thresholds: a ratio just below a threshold (0.7998
    under 80 %) reads 79.9, never the threshold it missed, and 0.99999 is not 100. Taken
    from the float's shortest repr, so 0.29 is 29, not the 28.99… of its binary product."""
    number = Decimal(str(value)) * 100
    return number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_FLOOR)


def share_text(value: float | Decimal | None, digits: int = 1) -> str:
    """0.753 -> "75.3%"; a threshold 0.800 -> "80%"; None -> "—" (no share)."""
    if value is None or value == "":
        return "—"
    return f"{share_percent(value, digits).normalize():f}%"
