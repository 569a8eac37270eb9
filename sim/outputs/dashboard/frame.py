"""One frame of the stage: everything the page shows of the markets now, as text and SVG.

Kept apart from the Solara page so that the bench times exactly what a frame costs the
server, and tests read it without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .live import Difference, SideBySide
from .pictures import layout, line_chart, mood_legend, network_people, network_ties, side_styles

CHARTS = (  # (metric, title, money, difference from the reference)
    ("customers", "Customers ({whose})", False, False),
    ("customers", "Customers: difference from {reference}", False, True),
    ("cumulative_profit", "Profit to date{in_currency}", True, False),
    ("negative_listeners", "People who heard bad news, a month", False, False),
)
FLOWS = ("negative_listeners",)  # counted over a month: from month 1 (month 0 opens the books)


@dataclass(frozen=True)
class SideNow:
    name: str
    colour: str
    customers: float
    changes: str  # what the side is (its arm's change from the baseline, or its firm's policies)
    policies: str  # what its firm runs now, under the controls
    month: str  # what happened to it this month
    ties: str  # SVG: the sample's ties (the same text while the network is)
    people: str  # SVG: the sample's people now


@dataclass(frozen=True)
class Frame:
    headline: str
    differences: list[tuple[Difference, str]]  # with the side's colour
    sides: list[SideNow]
    charts: list[tuple[str, str]]  # (title, SVG)
    mood_legend: str
    side_legend: str
    currency: str


def draw(live: SideBySide) -> Frame:
    """The stage now (under the markets' lock, so that no month passes while it is drawn)."""
    settings = live.settings
    currency = settings.get("currency", "")
    with live.lock:
        styles = side_styles([side.name for side in live.sides], live.reference)
        sides = []
        for side in live.sides:
            market = live.market_of(side)
            found = layout(market.network)
            sides.append(SideNow(side.name, styles[side.name][0], live.now(side, "customers"), side.changes,
                                 live.policies(side), live.month_of(side), network_ties(found),
                                 network_people(found, market, side.firm)))
        titles = {"whose": settings["focal_firm"] or "each firm", "reference": live.reference,
                  "in_currency": f" ({currency})" if currency else ""}  # in the title: the ticks stay short
        charts = [(title.format(**titles), chart(live, metric, money, difference, styles))
                  for metric, title, money, difference in CHARTS]
        return Frame(live.headline(), [(d, styles[d.side][0]) for d in live.differences()], sides, charts,
                     mood_legend(), _side_legend(live, styles), currency)


def chart(live: SideBySide, metric: str, money: bool, difference: bool, styles: dict) -> str:
    series = live.series(metric)
    if difference:  # the paired difference: the reference is the zero line
        series = {name: line - series[live.reference] for name, line in series.items() if name != live.reference}
    return line_chart(series, styles, live.months, money_axis=money, first_month=1 if metric in FLOWS else 0)


def _side_legend(live: SideBySide, styles: dict) -> str:
    keys = []
    for side in live.sides:
        colour, dash = styles[side.name]
        keys.append(f'<span><svg width="34" height="10"><line x1="1" x2="33" y1="5" y2="5" stroke="{colour}" '
                    f'stroke-width="3" stroke-dasharray="{dash}"/></svg>{escape(side.name)}</span>')
    return "".join(keys) + f'<span style="color:#666">(network: {_sample_note(live)})</span>'


def _sample_note(live: SideBySide) -> str:
    market = live.markets[live.runs[0]]
    found = layout(market.network)
    drawn, people = found.people.size, market.network.n
    if drawn >= people:
        return f"all {people:,} people and their {found.n_ties:,} ties"
    return f"{drawn:,} of {people:,} people, friends of friends of one person, and the ties among them"
