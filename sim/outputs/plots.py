"""Figures of a run folder: each function takes saved results and returns a matplotlib figure.

    from sim import Results
    from sim.outputs import plots
    results = Results.load("results/renewal-neglect/20250101-120000")
    plots.retention(results).savefig("retention.png")      # or results.plot("retention")

Every figure reads only what `grapevine run` saved: the tables, the manifest and, for the two
pictures of people on their network (`network`, `negative_talk_animation`), the small market
saved in showcase.npz (`sim.experiments.showcase`). Figures show themselves in a notebook.

Design: the Okabe-Ito palette (safe for colour-blindness) with a different line style and
marker for every arm, and hatches in the stacked areas, so that figures also read in black
and white; the baseline is always black and solid. Fonts are large enough to be projected.
Figures are `matplotlib.figure.Figure` objects drawn with the Agg canvas: pyplot is never
imported, so no global state changes and nothing needs closing.
"""

from __future__ import annotations

import json
import math
import textwrap
import warnings
from functools import wraps
from pathlib import Path
from typing import Callable

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox
from matplotlib.ticker import Formatter, MaxNLocator, PercentFormatter

from ..formatting import money as money_text, money_scale, money_ticks
from .results import Results, figure

# --- style -------------------------------------------------------------------------------------
# the baseline is black and solid; the others take these in order
GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
GROUP_STYLES = ((0, (6, 2)), (0, (3, 1.5, 1, 1.5)), (0, (1, 1.2)), (0, (8, 2, 1, 2, 1, 2)), (0, (4, 4)), (0, (2, 3)))
GROUP_MARKERS = ("s", "^", "D", "v", "P", "X", "*", "h")
GREY = "#8c8c8c"

# mood colours: good moods blue, bad vermillion, left dark grey; hatches for black and white
MOOD_ORDER = ("delighted", "satisfied", "neutral", "dissatisfied", "churned")
MOOD_STYLE = {
    "delighted": ("#0072B2", ""),
    "satisfied": ("#56B4E9", ".."),
    "neutral": ("#F0E442", ""),
    "dissatisfied": ("#D55E00", "//"),
    "churned": ("#4d4d4d", "xx"),
}
MOOD_LABEL = {
    "delighted": "delighted", "satisfied": "satisfied", "neutral": "neutral",
    "dissatisfied": "dissatisfied", "churned": "left (since month 0)",
}

RC = {
    "font.size": 13, "axes.titlesize": 15, "axes.titleweight": "bold", "axes.labelsize": 13,
    "xtick.labelsize": 12, "ytick.labelsize": 12, "legend.fontsize": 12, "legend.title_fontsize": 12,
    "figure.titlesize": 18, "figure.titleweight": "bold", "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.8,
    "lines.linewidth": 2.4, "svg.fonttype": "none", "hatch.linewidth": 0.8, "legend.frameon": False,
}
BAND = "shaded band: lowest to highest of the {n} replications"


def styled(function: Callable) -> Callable:
    """Draw under the shared style (fonts for projection, no top/right frame, light grid), then
    `fit` the figure so that nothing is cut off at the edge of the canvas."""

    @wraps(function)
    def draw(*args, **kwargs):
        with matplotlib.rc_context(RC):
            figure = function(*args, **kwargs)
            # an animated figure fits itself before its animation starts (a draw would start it)
            return fit(figure) if isinstance(figure, Figure) and not hasattr(figure, "animation") else figure

    return draw


# --- nothing clipped: long arm names and titles wrap to the room they have ------------------------
EDGE = 4  # pixels kept free at the edge of the canvas
NAME_WIDTH = 22  # characters per line of an arm's name beside a bar or a forest row


def name_lines(name: str, width: int = NAME_WIDTH) -> str:
    """An arm's (or firm's) name broken into lines at hyphens and spaces, for a tick label."""
    return textwrap.fill(name, width, break_on_hyphens=True) if len(name) > width else name


def fit(figure: Figure, rounds: int = 6) -> Figure:
    """Wrap titles, labels and legends until each fits its room and the canvas.

    Constrained layout makes room for what it knows but cannot shorten a title wider than its
    axes or a legend wider than the figure (long arm names do that). The room of an axes' texts
    is its cell of the grid (where layout puts it, decorations included), so it does not
    depend on a layout that a too-wide legend may have squashed. A legend first loses columns,
    then its labels wrap; a text rewraps its lines; the layout is run again."""
    with warnings.catch_warnings():  # a squashed layout on the way is no news; the result is checked
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        for _ in range(rounds):
            figure.draw_without_rendering()
            renderer = figure.canvas.get_renderer()
            changed = False
            for legend, room in _legends_and_rooms(figure):
                changed |= _narrow_legend(legend, room, renderer)
            for text, room, vertical in _texts_and_rooms(figure, renderer):
                changed |= _wrap_to(text, room, renderer, vertical)
            if not changed:
                break
    return figure


def _cell(ax) -> Bbox:
    """The pixels of an axes' cell: the share of the figure its grid gives it, the gaps between
    cells counted in (where constrained layout puts the axes and its decorations)."""
    spec = ax.get_subplotspec()
    if spec is None:
        return ax.bbox
    return Bbox(_share(spec)).transformed(ax.figure.transFigure)


def _share(spec) -> list[list[float]]:
    """[[x0, y0], [x1, y1]] of a grid cell (or span) in figure fractions; nested grids within their cell."""
    grid = spec.get_gridspec()
    outer = getattr(grid, "_subplot_spec", None)  # a grid made by subgridspec lies in that cell
    (left, bottom), (right, top) = _share(outer) if outer is not None else ([0.0, 0.0], [1.0, 1.0])
    rows, columns = grid.get_geometry()
    across = np.cumsum([0.0, *(grid.get_width_ratios() or [1] * columns)])
    down = np.cumsum([0.0, *(grid.get_height_ratios() or [1] * rows)])
    across, down = across / across[-1], down / down[-1]
    x0, x1 = left + (right - left) * across[spec.colspan.start], left + (right - left) * across[spec.colspan.stop]
    y1, y0 = top - (top - bottom) * down[spec.rowspan.start], top - (top - bottom) * down[spec.rowspan.stop]
    return [[x0, y0], [x1, y1]]


def _texts_and_rooms(figure: Figure, renderer):
    """(text, room(box) in pixels, vertical) for every title, label and free text of the figure.
    A figure's title ends where a figure legend beside it starts."""
    width = figure.bbox.width
    beside = [legend.get_window_extent(renderer) for legend in figure.legends]

    def to_edge(box):
        ends = [other.x0 - 2 * EDGE for other in beside
                if other.x0 > box.x0 and other.y0 < box.y1 and other.y1 > box.y0]
        return min([width - EDGE, *ends]) - max(box.x0, EDGE)

    for text in (figure._suptitle, figure._supxlabel, *figure.texts):
        if text is not None:
            yield text, to_edge, False
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        cell = _cell(ax)
        for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label):
            yield text, lambda box, cell=cell: min(cell.width - EDGE, to_edge(box)), False
        yield ax.yaxis.label, lambda box, cell=cell: cell.height - EDGE, True
        for text in ax.texts:
            yield text, to_edge, False


def _legends_and_rooms(figure: Figure):
    width = figure.bbox.width - 2 * EDGE
    yield from ((legend, width) for legend in figure.legends)
    for ax in figure.axes:
        if ax.get_visible() and ax.get_legend() is not None:
            yield ax.get_legend(), min(_cell(ax).width - EDGE, width)


def _wrap_to(text, room, renderer, vertical: bool = False) -> bool:
    """Rewrap `text` (each of its lines) to `room(box)` pixels; a single long word shrinks instead."""
    if not text.get_visible() or not text.get_text():
        return False
    box = text.get_window_extent(renderer)
    size, limit = (box.height, room(box)) if vertical else (box.width, room(box))
    if size <= limit or size <= 0:
        return False
    lines = text.get_text().split("\n")
    chars = max(8, int(max(len(line) for line in lines) * max(limit, 1) / size * 0.95))
    wrapped = "\n".join(textwrap.fill(line, chars, break_long_words=False) or line for line in lines)
    if wrapped != text.get_text():
        text.set_text(wrapped)
    elif text.get_fontsize() > 7:
        text.set_fontsize(max(7, text.get_fontsize() * limit / size))
    else:
        return False
    return True


def _narrow_legend(legend, room: float, renderer) -> bool:
    """Wrap the labels of a legend wider than `room` (or off the canvas), each in proportion."""
    box = legend.get_window_extent(renderer)
    over = max(0.0, EDGE - box.x0, box.x1 - legend.figure.bbox.width + EDGE)
    room = min(room, box.width - 2 * over)  # a centred legend narrows on both sides
    if box.width <= room:
        return False
    factor = room / box.width
    changed = False
    for text in legend.get_texts():
        width = text.get_window_extent(renderer).width
        changed |= _wrap_to(text, lambda _, width=width: width * factor, renderer)
    return _wrap_to(legend.get_title(), lambda _: room * 0.95, renderer) or changed


def footnote(figure: Figure, text: str) -> None:
    """Small print under the figure (inside it: constrained layout makes room)."""
    figure.supxlabel(text, x=0.005, ha="left", fontsize=11, color="#333333", fontweight="normal")


class ShownFigure(Figure):
    """A matplotlib Figure that a notebook shows as a picture, without `%matplotlib inline`."""

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()


def new_figure(width: float, height: float, **kwargs) -> Figure:
    figure = ShownFigure(figsize=(width, height), layout="constrained", **kwargs)
    FigureCanvasAgg(figure)
    return figure


def group_style(results: Results, group: str) -> dict:
    """Colour, line style and marker of an arm (or firm): the same in every figure."""
    if group == results.baseline:
        return {"color": "#000000", "linestyle": "-", "marker": "o"}
    others = [g for g in results.names if g != results.baseline]
    i = others.index(group)
    return {"color": GROUP_COLOURS[i % len(GROUP_COLOURS)], "linestyle": GROUP_STYLES[i % len(GROUP_STYLES)],
            "marker": GROUP_MARKERS[i % len(GROUP_MARKERS)]}


def group_label(results: Results, group: str) -> str:
    return f"{group} (baseline)" if group == results.baseline else group


class MoneyFormatter(Formatter):
    """Money on an axis: the ticks share one unit and are exact ('1.25 M', not '1.2 M')."""

    def __init__(self, currency: str = ""):
        self.currency = currency

    def format_ticks(self, values):
        return money_ticks(values, self.currency)

    def __call__(self, value, position=None):
        return money_ticks([value], self.currency)[0]


def money_axis(axis, currency: str = "") -> None:
    axis.set_major_formatter(MoneyFormatter(currency))


def _mark_every(months: int) -> int:
    return max(1, months // 8)


def _subtitle(results: Results) -> str:
    m = results.scenario.market
    return (f"{results.scenario.name}: {m.n_people:,} people, {m.months} months, "
            f"{m.contract_months}-month contracts, {results.replications} paired replications")


def _lines(ax, results: Results, tables: dict[str, pd.DataFrame], band: bool = True):
    """Mean line per group (with its own style and markers) and the band across replications."""
    for group in results.names:
        table = tables[group]
        style = group_style(results, group)
        mean = table.mean(axis=1)
        if band and table.shape[1] > 1:
            ax.fill_between(table.index, table.min(axis=1), table.max(axis=1), color=style["color"], alpha=0.15,
                            linewidth=0)
        ax.plot(mean.index, mean.to_numpy(), color=style["color"], linestyle=style["linestyle"],
                marker=style["marker"], markevery=_mark_every(len(mean)), markersize=7,
                label=group_label(results, group))


def _label_ends(ax, ends, fmt: str, x: float) -> None:
    """Write each line's last value at the right edge, nudged apart so that labels never overlap."""
    low, high = ax.get_ylim()
    gap = 0.055 * (high - low)
    placed = []
    for value, group, colour in sorted(ends):
        y = value if not placed else max(value, placed[-1] + gap)
        placed.append(y)
        ax.annotate(fmt.format(value), xy=(x, value), xytext=(8, 0), textcoords="offset points",
                    va="center", ha="left", color=colour, fontsize=12, fontweight="bold",
                    annotation_clip=False) if y == value else ax.annotate(
            fmt.format(value), xy=(x, value), xytext=(x, y), textcoords="data", va="center", ha="left",
            color=colour, fontsize=12, fontweight="bold", annotation_clip=False,
            arrowprops=dict(arrowstyle="-", color=colour, lw=0.8))


# --- 1. customers retained ----------------------------------------------------------------------
@figure("retention", order=1)
@styled
def retention(results: Results) -> Figure:
    """Share of the month-0 customers still with the firm, per arm: mean and band across replications."""
    tables = results.wide(results.focal()["retained"] * 100.0)
    figure = new_figure(11, 6.5)
    ax = figure.add_subplot()
    _lines(ax, results, tables)
    ax.set_xlim(0, results.months)
    ax.set_ylim(bottom=0, top=102)
    _label_ends(ax, [(float(tables[g].mean(axis=1).iloc[-1]), g, group_style(results, g)["color"])
                     for g in results.names], "{:.1f}%", results.months)
    whose = "each firm" if results.head_to_head else results.groups.focal_firm
    ax.set_title(f"Customers kept: share of the month-0 customers still with {whose}", loc="left")
    ax.set_xlabel("month")
    ax.set_ylabel("customers kept (% of month-0 customers)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.legend(title=f"{results.groups.word} (line: mean; {BAND.format(n=results.replications)})",
              loc="lower left", ncols=min(len(results.names), 3))
    figure.suptitle(_subtitle(results), x=0.01, ha="left", fontsize=12, fontweight="normal", color="#333333")
    return figure


# --- 2. money --------------------------------------------------------------------------------------
MONEY_KPIS = (("revenue", "Revenue to date"), ("profit", "Profit to date"), ("npv", "Net present value to date"))


@figure("money", order=3)
@styled
def money(results: Results) -> Figure:
    """Cumulative revenue, profit and NPV per arm over time; below, the paired differences at the horizon."""
    focal = results.focal()
    cumulative_revenue = focal.groupby(["group", "replication"])["revenue"].cumsum()
    series = {"revenue": cumulative_revenue, "profit": focal["cumulative_profit"], "npv": focal["npv"]}
    figure = new_figure(17, 10)
    grid = figure.add_gridspec(2, 3, height_ratios=[1.25, 1])
    others = [g for g in results.names if g != results.baseline]
    for column, (kpi, title) in enumerate(MONEY_KPIS):
        ax = figure.add_subplot(grid[0, column])
        tables = results.wide(series[kpi])
        _lines(ax, results, tables)
        money_axis(ax.yaxis)
        ax.set_xlim(0, results.months)
        ax.set_title(title, loc="left")
        ax.set_xlabel("month")
        ax.set_ylabel(f"{_currency(results)}, cumulative")
        if column == 0:
            ax.legend(loc="upper left", title=results.groups.word)

        ax = figure.add_subplot(grid[1, column])
        _forest(ax, results, kpi, others)
        ax.set_title(f"{title.split(' to date')[0]}: difference from {results.baseline}", loc="left", fontsize=14)
    figure.suptitle(f"Money: revenue, profit and NPV per {results.groups.word}, and the paired difference from "
                    f"{results.baseline} at month {results.months}", x=0.01, ha="left")
    footnote(figure, f"{_subtitle(results)}. Top: mean line, {BAND.format(n=results.replications)}.\n"
                f"Bottom: mean paired difference with its 95% interval; a hollow marker means the interval "
                f"includes zero (no clear difference).")
    return figure


def _forest(ax, results: Results, kpi: str, groups: list[str]) -> None:
    """The paired difference from the baseline with its 95% interval, one row per group."""
    rows = [results.comparison_row(g, kpi) for g in groups]
    top = max([abs(float(r[c])) for r in rows for c in ("diff_low", "diff_high") if not pd.isna(r[c])] or [1.0])
    scale = money_scale(top) if kpi in MONEY else None
    for y, (group, row) in enumerate(zip(groups, rows)):
        style = group_style(results, group)
        clear = not bool(row["diff_includes_zero"]) and not pd.isna(row["diff"])
        ax.errorbar(row["diff"], y, xerr=[[row["diff"] - row["diff_low"]], [row["diff_high"] - row["diff"]]],
                    fmt=style["marker"], color=style["color"], markersize=11, capsize=7, elinewidth=2.5,
                    markerfacecolor=style["color"] if clear else "white", markeredgewidth=2)
        text = (f"{money_text(row['diff'], scale)}  [{money_text(row['diff_low'], scale)}, "
                f"{money_text(row['diff_high'], scale)}]" if scale else
                f"{row['diff']:+.1f}  [{row['diff_low']:+.1f}, {row['diff_high']:+.1f}]")
        ax.annotate(text, xy=(row["diff"], y), xytext=(0, 13), textcoords="offset points", ha="center",
                    va="bottom", fontsize=11.5, color=style["color"])
    ax.axvline(0, color="#000000", linewidth=1.2)
    ax.set_yticks(range(len(groups)), [name_lines(g) for g in groups])
    ax.set_ylim(-0.7, len(groups) - 0.3)
    ax.grid(axis="y", visible=False)
    span = max(top, 1e-9) * 1.5
    ax.set_xlim(-span, span)
    if scale:
        money_axis(ax.xaxis)
        ax.set_xlabel(f"minus {results.baseline} at month {results.months} ({_currency(results)})")
    else:
        ax.set_xlabel(f"minus {results.baseline} (percentage points)")
    ax.xaxis.set_major_locator(MaxNLocator(5))


MONEY = ("revenue", "cost", "profit", "npv")


# --- 3. moods --------------------------------------------------------------------------------------
def mood_counts(results: Results) -> dict[str, pd.DataFrame]:
    """Per group: month x mood, mean over replications; 'churned' counts everyone who left since month 0."""
    focal = results.focal()
    left = focal[[c for c in focal.columns if c.startswith("churned_")]].sum(axis=1)
    focal = focal.assign(churned=left.groupby([focal["group"], focal["replication"]]).cumsum())
    means = focal.groupby(["group", "month"])[list(MOOD_ORDER)].mean()
    return {g: means.loc[g] for g in results.names}


@figure("moods", order=4)
@styled
def moods(results: Results) -> Figure:
    """How the customers feel, month by month, stacked, with those who have left on top."""
    counts = mood_counts(results)
    n = len(results.names)
    columns = min(n, 3)
    rows = math.ceil(n / columns)
    figure = new_figure(5.6 * columns + 0.6, 4.6 * rows + 1.4)
    axes = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, group in zip(axes, results.names):
        table = counts[group]
        ax.stackplot(table.index, *[table[m].to_numpy() for m in MOOD_ORDER],
                     colors=[MOOD_STYLE[m][0] for m in MOOD_ORDER], hatch=[MOOD_STYLE[m][1] for m in MOOD_ORDER],
                     edgecolor="white", linewidth=0.6)
        ax.set_title(group_label(results, group), loc="left")
        ax.set_xlim(0, results.months)
        ax.grid(False)
        ax.set_xlabel("month")
        last = table.iloc[-1]
        customers = last[list(MOOD_ORDER[:4])].sum()
        happy = (last["delighted"] + last["satisfied"]) / max(customers, 1) * 100
        ax.text(0.98, 0.03, f"month {results.months}: {happy:.0f}% of customers\nsatisfied or delighted",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=11.5,
                bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="#999999", alpha=0.92))
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[::columns]:
        ax.set_ylabel("people (mean over replications)")
    handles = [Patch(facecolor=MOOD_STYLE[m][0], hatch=MOOD_STYLE[m][1], edgecolor="white", label=MOOD_LABEL[m])
               for m in reversed(MOOD_ORDER)]
    figure.legend(handles=handles, loc="outside right upper", fontsize=12)
    whose = "each firm's" if results.head_to_head else f"{results.groups.focal_firm}'s"
    figure.suptitle(f"Mood of {whose} customers over time, and those who left", x=0.01, ha="left")
    footnote(figure, f"{_subtitle(results)}. Areas are stacked; their top is everyone who was a customer "
                f"at some time since month 0.")
    return figure


# --- 4. word of mouth and acquisitions ------------------------------------------------------------
WORD_OF_MOUTH = (
    ("messages_negative", "Negative messages", "messages / month"),
    ("messages_positive", "Positive messages (referrals)", "messages / month"),
    ("messages_defended", "Defences of the firm", "messages / month"),
    ("acquired_advertising", "New customers from advertising", "customers / month"),
    ("acquired_referral", "New customers from referrals", "customers / month"),
    ("left", "Customers leaving", "customers / month"),
)


def smooth(table: pd.DataFrame) -> pd.DataFrame:
    """Months 1.. (month 0 has no flows), as a centred 3-month moving average of each replication."""
    return table.loc[1:].rolling(3, center=True, min_periods=1).mean()


@figure("word-of-mouth", order=5)
@styled
def word_of_mouth(results: Results) -> Figure:
    """What people say each month (negative, positive, defending) and where new customers come from."""
    focal = results.focal()
    left = focal[[c for c in focal.columns if c.startswith("churned_")]].sum(axis=1)
    figure = new_figure(17, 9.5)
    axes = figure.subplots(2, 3, sharex=True).ravel()
    for ax, (column, title, unit) in zip(axes, WORD_OF_MOUTH):
        values = left if column == "left" else focal[column] if column in focal else pd.Series(0.0, focal.index)
        tables = {g: smooth(t) for g, t in results.wide(values).items()}
        _lines(ax, results, tables, band=False)
        ax.set_title(title, loc="left")
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.set_xlim(0, results.months)
    for ax in axes[3:]:
        ax.set_xlabel("month")
    axes[0].legend(loc="lower left", title=results.groups.word, ncols=1 if len(results.names) <= 3 else 2)
    whose = "each firm" if results.head_to_head else results.groups.focal_firm
    figure.suptitle(f"Word of mouth about {whose} and where its customers come from and go", x=0.01, ha="left")
    footnote(figure, f"{_subtitle(results)}. Lines: mean of the replications, 3-month moving average.\nReferrals "
                f"are the positive messages; defences are loyal customers answering negative talk.")
    return figure


# --- 5. market share ---------------------------------------------------------------------------------
def share_tables(results: Results) -> dict[str, pd.DataFrame]:
    """Per firm: month x replication, the firm's share of all customers (%); as summary's market_share."""
    t = results.timeseries
    if t["firm"].nunique() < 2:
        raise ValueError("market share needs two or more firms (a head-to-head scenario)")
    total = t.groupby(["arm", "replication", "month"])["customers"].transform("sum").clip(lower=1.0)
    share = 100.0 * t["customers"] / total
    if results.head_to_head:
        return results.wide(share)
    focal = t["firm"] == results.groups.focal_firm
    return {g: t[focal & (t["arm"] == g)].assign(_v=share).pivot(index="month", columns="replication", values="_v")
            for g in results.names}


@figure("market-share", order=2, applies=lambda results: results.timeseries["firm"].nunique() > 1)
@styled
def market_share(results: Results) -> Figure:
    """Each firm's share of all customers over time (head to head), mean and band across replications."""
    tables = share_tables(results)
    figure = new_figure(11, 6.5)
    ax = figure.add_subplot()
    _lines(ax, results, tables)
    ax.set_xlim(0, results.months)
    low = min(float(t.min().min()) for t in tables.values())
    high = max(float(t.max().max()) for t in tables.values())
    pad = max(2.0, 0.15 * (high - low))
    ax.set_ylim(max(0.0, low - pad), min(100.0, high + pad))
    _label_ends(ax, [(float(tables[g].mean(axis=1).iloc[-1]), g, group_style(results, g)["color"])
                     for g in results.names], "{:.1f}%", results.months)
    if results.head_to_head and len(results.names) == 2:
        ax.axhline(50, color=GREY, linewidth=1, linestyle=":")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_title("Market share: each firm's share of all customers", loc="left")
    ax.set_xlabel("month")
    ax.set_ylabel("share of all customers (%)")
    ax.legend(title=f"{results.groups.word} (line: mean; {BAND.format(n=results.replications)})",
              loc="best")
    figure.suptitle(_subtitle(results), x=0.01, ha="left", fontsize=12, fontweight="normal", color="#333333")
    return figure


# --- 6. the social network of a small market -------------------------------------------------------
def _showcase(results: Results) -> dict:
    if results.showcase is None:
        raise ValueError("this run folder has no showcase.npz (the small market to draw); "
                         "rerun the scenario with this version of grapevine")
    return results.showcase


def _layout(data: dict, seed: int = 7) -> np.ndarray:
    """Positions for drawing: a force layout started from a ring, so that a small world keeps its ring."""
    import networkx as nx

    n = data["firm"].size
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(data["tie_a"].tolist(), data["tie_b"].tolist()))
    angle = 2 * np.pi * np.arange(n) / max(n, 1)
    start = {i: (math.cos(a), math.sin(a)) for i, a in enumerate(angle)}
    positions = nx.spring_layout(graph, pos=start, seed=seed, iterations=60)
    return np.array([positions[i] for i in range(n)])


def _draw_edges(ax, data: dict, xy: np.ndarray) -> None:
    from matplotlib.collections import LineCollection

    segments = np.stack([xy[data["tie_a"]], xy[data["tie_b"]]], axis=1)
    ax.add_collection(LineCollection(segments, colors="#bbbbbb", linewidths=0.5, alpha=0.6, zorder=1))


FIRM_MARKERS = ("o", "s", "^", "D", "v", "P")
MOOD_NAMES = ("dissatisfied", "neutral", "satisfied", "delighted")


@figure("network", order=6, applies=lambda results: results.showcase is not None)
@styled
def network(results: Results) -> Figure:
    """The social network of a small market: people coloured by mood, shaped by firm; prospects grey."""
    data = _showcase(results)
    xy = _layout(data)
    firms = json.loads(str(data["firms"]))
    customer, firm, mood = data["customer"], data["firm"], data["mood"]
    figure = new_figure(11, 10)
    ax = figure.add_subplot()
    _draw_edges(ax, data, xy)
    prospects = ~customer
    ax.scatter(xy[prospects, 0], xy[prospects, 1], s=22, color="#d9d9d9", edgecolor="#8c8c8c", linewidth=0.5,
               zorder=2)
    handles = [Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor="#d9d9d9",
                      markeredgecolor="#8c8c8c", label=f"not a customer ({prospects.sum()})")]
    for code, name in enumerate(MOOD_NAMES):
        colour, hatch = MOOD_STYLE[name]
        handles.append(Patch(facecolor=colour, edgecolor="#333333", label=f"{name} ({(customer & (mood == code)).sum()})"))
    for k, firm_name in enumerate(firms):
        mine = customer & (firm == k)
        colours = [MOOD_STYLE[MOOD_NAMES[m]][0] for m in mood[mine]]
        ax.scatter(xy[mine, 0], xy[mine, 1], s=85, c=colours, marker=FIRM_MARKERS[k % len(FIRM_MARKERS)],
                   edgecolor="#222222", linewidth=0.7, zorder=3)
        handles.append(Line2D([], [], marker=FIRM_MARKERS[k % len(FIRM_MARKERS)], linestyle="", markersize=10,
                              markerfacecolor="white", markeredgecolor="#222222",
                              label=f"customer of {firm_name} ({mine.sum()})"))
    ax.set_aspect("equal")
    ax.axis("off")
    figure.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=12)
    figure.suptitle(f"Who knows whom: {firm.size} people, {data['tie_a'].size:,} ties (small world); "
                    f"customers coloured by mood", x=0.01, ha="left")
    ax.set_title(f"A small market with the settings of {results.scenario.name}, after the warm-up. Grey lines are "
                 f"ties; colour = mood; marker shape = firm.", loc="left", fontsize=12, fontweight="normal",
                 color="#333333")
    return figure


# --- 7. negative talk spreading after a wave of failures (animated) ------------------------------
@styled
def negative_talk_animation(results: Results, path: str | Path | None = None, fps: float = 1.0,
                            dpi: int = 72) -> Figure:
    """An animation of word of mouth in the small market: its first firm fails far more often during one
    month, then recovers.

    Frames show who tells others about a bad experience, who hears net bad news about the firm,
    and who has left it. Written as a GIF to `path` (PillowWriter) when given; the figure
    returned shows the month of the wave, and `figure.animation` holds the animation."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    data = _showcase(results)
    xy = _layout(data)
    firm_name = json.loads(str(data["firms"]))[0]
    normal_rate, wave_failure_rate = float(data["wave_normal_rate"]), float(data["wave_rate"])
    wave_month = int(data["wave_month"])
    messages = data["wave_messages"]
    months = messages.size - 1
    start_customer = data["wave_customer"][0]

    figure = new_figure(11, 11.5)
    grid = figure.add_gridspec(2, 1, height_ratios=[5, 1.1])
    ax = figure.add_subplot(grid[0])
    bars_ax = figure.add_subplot(grid[1])
    _draw_edges(ax, data, xy)
    ax.set_aspect("equal")
    ax.axis("off")
    kinds = (
        ("other", dict(s=20, color="#e0e0e0", edgecolor="#9a9a9a", linewidth=0.4, marker="o"), "not a customer"),
        ("customer", dict(s=55, color="#56B4E9", edgecolor="#1f4e79", linewidth=0.6, marker="o"),
         f"customer of {firm_name}"),
        ("heard", dict(s=75, color="#E69F00", edgecolor="#222222", linewidth=0.7, marker="s"),
         "heard bad news this month"),
        ("telling", dict(s=170, color="#D55E00", edgecolor="#000000", linewidth=1.0, marker="^"),
         "tells others about a failure"),
        ("left", dict(s=70, color="#000000", linewidth=2.0, marker="x"), f"has left {firm_name}"),
    )
    scatters = {name: ax.scatter([], [], zorder=z + 2, **style) for z, (name, style, _) in enumerate(kinds)}
    handles = [Line2D([], [], linestyle="", marker=style["marker"], markersize=10 if name != "other" else 7,
                      markerfacecolor=style["color"], markeredgecolor=style.get("edgecolor", style["color"]),
                      markeredgewidth=2 if name == "left" else 1, label=label) for name, style, label in kinds]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3, fontsize=12)
    title = ax.set_title("", loc="left", fontsize=16)
    xs = np.arange(months + 1)
    bars = bars_ax.bar(xs, messages, color="#bbbbbb", edgecolor="#333333")
    bars_ax.set_xticks(xs)
    bars_ax.set_xlabel("month")
    bars_ax.set_ylabel("negative\nmessages")
    bars_ax.set_title(f"Negative messages about {firm_name} per month", loc="left", fontsize=13)
    bars_ax.grid(axis="x", visible=False)
    bars_ax.annotate("wave of failures", xy=(wave_month, messages[wave_month]), xytext=(0, 4),
                     textcoords="offset points", ha="center", va="bottom", fontsize=11, color="#D55E00")

    def draw(i: int):
        telling = data["wave_telling"][i]
        heard = data["wave_heard"][i] & ~telling
        left = data["wave_left"][i]
        customer = data["wave_customer"][i] & ~telling & ~heard
        other = ~(telling | heard | left | customer)
        for name, mask in (("other", other), ("customer", customer), ("heard", heard), ("telling", telling),
                           ("left", left)):
            scatters[name].set_offsets(xy[mask] if mask.any() else np.empty((0, 2)))
        for j, bar in enumerate(bars):
            bar.set_facecolor("#D55E00" if j == i else "#bbbbbb" if j < i else "#f2f2f2")
            bar.set_hatch("//" if j == wave_month else "")
        wave = (f"WAVE OF FAILURES: failure rate {normal_rate:.0%} -> {wave_failure_rate:.0%} this month"
                if i == wave_month else f"failure rate {normal_rate:.0%} a month" if i else "before: a settled market")
        text = (f"Month {i}: {wave}\n{int(telling.sum())} telling, {int(heard.sum())} hearing bad "
                f"news, {int(left.sum())} of {int(start_customer.sum())} customers gone")
        title.set_text("\n".join(textwrap.fill(line, title_width[0], break_long_words=False)
                                 for line in text.split("\n")))
        return [*scatters.values(), title, *bars]

    title_width = [200]  # characters a line of the title may have: what `fit` leaves room for

    draw(min(wave_month, months))  # the widest title: fit the figure to it, and every frame to that
    fit(figure)
    title_width[0] = max(len(line) for line in title.get_text().split("\n"))
    animation = FuncAnimation(figure, draw, frames=months + 1, interval=1000 / fps, blit=False)
    if path is not None:
        animation.save(str(path), writer=PillowWriter(fps=fps), dpi=dpi)
    draw(min(wave_month, months))
    figure.animation = animation
    return figure


# --- 8. what each verdict hinges on (the robustness pass) -----------------------------------------
TORNADO_ROWS = 12  # settings shown per panel, those that move the difference most


@figure("robustness", order=7, applies=lambda results: results.robustness is not None and not results.robustness.empty)
@styled
def robustness(results: Results) -> Figure:
    """Per compared arm and verdict: the paired difference at the low and the high end of each
    assumption's range (a bar between them), on the other networks (diamonds), and in the run itself
    (the vertical line); the settings that move it most on top."""
    robust = results.robustness
    groups = [g for g in results.names if g in set(robust["compared"])]
    kpis = [results.groups.share_measure, "npv"]
    figure = new_figure(17, 1.2 + 0.5 * TORNADO_ROWS * len(groups))
    axes = figure.subplots(len(groups), len(kpis), squeeze=False)
    for row, group in enumerate(groups):
        for column, kpi in enumerate(kpis):
            ax = axes[row][column]
            part = robust[(robust["compared"] == group) & (robust["kpi"] == kpi)]
            main = float(part["main_diff"].iloc[0])
            ends = part[part["end"] != "network"]
            spans = ends.groupby("setting")["diff"].agg(["min", "max"])  # with the run's own estimate in
            spans = spans.assign(min=spans["min"].clip(upper=main), max=spans["max"].clip(lower=main))
            spans = spans.assign(reach=(spans["max"] - spans["min"]))
            shown = spans.sort_values("reach", ascending=False).head(TORNADO_ROWS).iloc[::-1]
            colour = group_style(results, group)["color"]
            y = np.arange(len(shown))
            ax.barh(y, shown["max"] - shown["min"], left=shown["min"], color=colour, alpha=0.35, height=0.6,
                    edgecolor=colour)
            wide = float(max(part["diff"].max(), main, 0) - min(part["diff"].min(), main, 0)) or 1.0
            for k, setting in enumerate(shown.index):
                if shown.loc[setting, "reach"] < 0.04 * wide:
                    continue  # too short to label
                for _, end in ends[ends["setting"] == setting].iterrows():
                    ax.annotate(str(end["value"]), xy=(end["diff"], k), xytext=(0, 7), textcoords="offset points",
                                ha="center", fontsize=9, color="#333333")
            labels = [name.split(".", 1)[1] for name in shown.index]
            networks = part[part["end"] == "network"]
            for k, (_, net) in enumerate(networks.iterrows()):
                ax.plot(net["diff"], len(shown) + k, marker="D", color=colour, markersize=9, linestyle="")
                labels.append(f"network: {str(net['value']).replace('_', '-')}")
            ax.set_yticks(range(len(labels)), labels, fontsize=10)
            ax.axvline(main, color=colour, linewidth=2, label=f"{group} in the run")
            ax.axvline(0, color="#000000", linewidth=1)
            ax.grid(axis="y", visible=False)
            if kpi in MONEY:
                money_axis(ax.xaxis)
                unit = _currency(results)
            else:
                unit = "percentage points"
            what = "NPV" if kpi == "npv" else {"retention": "kept from month 0", "customer_base": "customer base",
                                               "share_gain": "share gained"}[kpi]
            ax.set_title(f"{group} minus {results.baseline}: {what}", loc="left", fontsize=13)
            ax.set_xlabel(unit)
    n = int(robust["n"].iloc[0])
    footnote(figure, f"Each bar spans the paired difference at the ends of an assumption's plausible range "
                     f"(the end's value above it) and in the run, everything else as in the run; {n} replication"
                     f"{'s' if n != 1 else ''} per end. Vertical line: the run's own estimate; black: zero.")
    figure.suptitle(f"What each verdict hinges on: {results.scenario.name}", x=0.01, ha="left")
    return figure


# --- 9. the poster -------------------------------------------------------------------------------
def question(results: Results) -> str:
    """The scenario's question: the 'Question:' paragraph of the file's header, else its description."""
    source = results.manifest.get("scenario_file") or ""
    candidates = [Path(source)]
    if results.path is not None:
        candidates.append(results.path / Path(source).name)
    for candidate in candidates:
        try:
            text = candidate.read_text()
        except (OSError, ValueError):
            continue
        comments = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            comments.append(line[1:].strip())
        body = " ".join(comments)
        if "Question:" in body:
            answer = body.split("Question:", 1)[1]
            for stop in (" Compare,", "   -", " - ", "`grapevine", " Read the", " Every arm", " Edit any"):
                answer = answer.split(stop)[0]
            answer = answer.strip().rstrip(":")
            return answer[:1].upper() + answer[1:]
    return results.scenario.description


@figure("poster", order=0)
@styled
def poster(results: Results, verdicts: list[str] | None = None) -> Figure:
    """The verdict for a scenario on one page: the question, the answer, and the pictures behind it."""
    if verdicts is None:
        verdicts = results.verdicts
    asked = textwrap.wrap(question(results), 140)
    said = [textwrap.fill(f"\u2022 {_keep_units(v)}", 135, subsequent_indent="   ") for v in verdicts]
    figure = new_figure(18, 11)
    grid = figure.add_gridspec(3, 2, height_ratios=[0.3 + 0.11 * len(asked), 0.18 + 0.1 * "\n".join(said).count("\n")
                                                    + 0.1 * len(said), 2.6], width_ratios=[1.1, 1.6])
    right = grid[2, 1].subgridspec(2, 2, height_ratios=[1.25, 1])
    head = figure.add_subplot(grid[0, :])
    head.axis("off")
    head.text(0, 1.0, results.scenario.description or results.scenario.name, fontsize=23, fontweight="bold",
              va="top", ha="left", transform=head.transAxes)
    head.text(0, 0.62 - 0.05 * len(asked), "\n".join(asked), fontsize=14, va="top", ha="left",
              transform=head.transAxes, color="#222222", style="italic")

    words = figure.add_subplot(grid[1, :])
    words.axis("off")
    text = "\n".join(said)
    words.text(0, 1, "Verdict", fontsize=16, fontweight="bold", va="top", ha="left", transform=words.transAxes)
    words.text(0.075, 1, text, fontsize=14 if len(verdicts) <= 3 else 12, va="top", ha="left",
               transform=words.transAxes, linespacing=1.35,
               bbox=dict(boxstyle="round,pad=0.5", facecolor="#f4f4f4", edgecolor="#bbbbbb"))

    # 1: the verdict's measure (or the market share, head to head) over time
    ax = figure.add_subplot(grid[2, 0])
    kpi = results.groups.share_measure
    if results.head_to_head:
        tables = share_tables(results)
        ylabel, title = "share of all customers (%)", "Market share"
    elif kpi == "customer_base":
        focal = results.focal()
        first = focal[focal["month"] == 0].set_index(["group", "replication"])["customers"]
        base = focal.set_index(["group", "replication"]).index.map(first)
        tables = results.wide(100.0 * focal["customers"] / pd.Series(base, index=focal.index).clip(lower=1.0))
        ylabel, title = "customers (% of month 0: kept, won back, new)", "Customer base"
    else:
        tables = results.wide(results.focal()["retained"] * 100.0)
        ylabel, title = "customers kept (% of month-0 customers)", "Customers kept"
    _lines(ax, results, tables)
    ax.set_xlim(0, results.months)
    if kpi == "retention":
        ax.set_ylim(0, 102)
    _label_ends(ax, [(float(tables[g].mean(axis=1).iloc[-1]), g, group_style(results, g)["color"])
                     for g in results.names], "{:.1f}%", results.months)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_title(f"{title} over time", loc="left")
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left", title=f"band: range of {results.replications} runs", fontsize=11.5)

    # 2, 3: paired differences from the baseline at the horizon
    others = [g for g in results.names if g != results.baseline]
    ax = figure.add_subplot(right[0, 0])
    _forest(ax, results, kpi, others)
    ax.set_title(f"{'Share gained since month 0' if results.head_to_head else title}: vs baseline", loc="left")
    ax.set_xlabel(f"percentage points vs\n{results.baseline}")
    ax = figure.add_subplot(right[0, 1], sharey=ax)
    _forest(ax, results, "npv", others)
    ax.tick_params(labelleft=False)
    ax.set_title("NPV: vs baseline", loc="left")
    ax.set_xlabel(f"{_currency(results)} vs\n{results.baseline}")

    # 4: the mood at the horizon
    ax = figure.add_subplot(right[1, :])
    counts = mood_counts(results)
    left = np.zeros(len(results.names))
    for mood in MOOD_ORDER:
        values = np.array([counts[g][mood].iloc[-1] for g in results.names])
        colour, hatch = MOOD_STYLE[mood]
        ax.barh(range(len(results.names)), values, left=left, color=colour, hatch=hatch, edgecolor="white",
                label=MOOD_LABEL[mood])
        left += values
    ax.set_yticks(range(len(results.names)), [name_lines(g) for g in results.names])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("people (mean over runs)")
    ax.set_title(f"Mood of the customers at month {results.months}, and everyone who left since month 0",
                 loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=5, fontsize=11.5)

    footnote(figure, f"{_subtitle(results)}; arms share network and luck (common random numbers).\n"
                f"Filled marker: the 95% interval of the paired difference excludes zero; hollow: no clear "
                f"difference. Made with Grapevine.")
    return figure


def _currency(results: Results) -> str:
    """What money is counted in: the scenario's currency, or plain units."""
    return "currency units" if results.scenario.currency == "units" else results.scenario.currency


def _keep_units(sentence: str) -> str:
    """No line break between a number and its unit (12.3 K)."""
    import re

    return re.sub(r"(\d) (K|M|bn)\b", "\\1\u00a0\\2", sentence)
