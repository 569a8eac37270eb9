"""Numbers, money and tables as text: one formatter each, used by every printout and report.

    money(1_234_567)                 -> '1.2 M'
    amounts([1.2e6, 3.4e5])          -> ['1.20 M', '0.34 M']   (one shared unit, for a row)
    money_ticks([0, 1.25e6, 2.5e6])  -> ['0', '1.25 M', '2.50 M'] (an axis: every label exact)
    number(0.000123)                 -> '1.2e-04'
    text_table(headers, rows)        -> aligned columns for a terminal
    markdown_table(headers, rows)    -> a GitHub table for docs
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

MINUS = "-"


def money_scale(top: float) -> tuple[float, str]:
    """The unit to show amounts up to `top` in: (divisor, suffix)."""
    top = abs(top)
    return (1e9, " bn") if top >= 1e9 else (1e6, " M") if top >= 1e6 else (1e3, " K") if top >= 1e3 else (1.0, "")


def money(value: float, scale: tuple[float, str] | None = None, currency: str = "", sign: bool = False) -> str:
    """An amount in its own unit (or `scale`): 1.2 M, 340 K, 12; 'n/a' for a missing value.
    `currency` is appended ('1.2 M EUR'); `sign` shows '+' for a positive amount."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    factor, unit = scale or money_scale(value)
    shown = value / factor
    size = abs(shown)
    digits = 2 if size < 1 else 1 if size < 100 else 0
    text = f"{shown:,.{digits}f}{unit}"
    if sign and value > 0:
        text = "+" + text
    return f"{text} {currency}".rstrip() if currency else text


def amounts(values: Iterable[float], currency: str = "", sign: bool = False) -> list[str]:
    """Several amounts in one shared unit (the unit of the largest), e.g. a difference and its interval."""
    values = list(values)
    top = max((abs(v) for v in values if v is not None and not math.isnan(v)), default=0.0)
    scale = money_scale(top)
    factor = scale[0]
    digits = 2 if top / factor < 1 else 1 if top / factor < 100 else 0
    out = []
    for v in values:
        if v is None or math.isnan(v):
            out.append("n/a")
            continue
        text = f"{v / factor:,.{digits}f}{scale[1]}"
        out.append(("+" if sign and v > 0 else "") + text)
    return [f"{t} {currency}" if currency and t != "n/a" else t for t in out]


def money_ticks(values: Sequence[float], currency: str = "") -> list[str]:
    """Labels for an axis's ticks: one shared unit and as many decimals as the ticks need to be
    exact (1.25 M is '1.25 M', never '1.2 M'); zero is '0'. `currency` follows each label."""
    values = [float(v) for v in values]
    factor, unit = money_scale(max((abs(v) for v in values), default=0.0))
    shown = [v / factor for v in values]
    digits = next((d for d in range(7) if all(abs(round(s, d) - s) <= 1e-9 * max(1.0, abs(s)) for s in shown)), 6)
    return [f"{s:,.{digits}f}{unit}{' ' + currency if currency else ''}" if round(s, digits) else "0"
            for s in shown]


def number(value: float) -> str:
    """A number of any size in few characters: 12,345 / 0.123 / 1.2e-04."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f"{value:,}"
    size = abs(value)
    return f"{value:,.0f}" if size >= 1000 else f"{value:.3g}" if size >= 0.001 or size == 0 else f"{value:.1e}"


def interval(mean: float, low: float, high: float, digits: int = 1, sign: bool = True) -> str:
    """'+2.0 [+1.5, +2.5]': an estimate and its interval."""
    form = f"{{:{'+' if sign else ''}.{digits}f}}"
    return f"{form.format(mean)} [{form.format(low)}, {form.format(high)}]"


def text_table(headers: Sequence[str], rows: Sequence[Sequence], left: int = 1, rule: bool = False) -> str:
    """Aligned columns: the first `left` columns to the left, the others to the right."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    out = [line(cells[0])]
    if rule:
        out.append("  ".join("-" * w for w in widths))
    return "\n".join(out + [line(row) for row in cells[1:]])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub-flavoured Markdown table ('|' in a cell is escaped)."""

    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(out + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows])
