"""The page's pictures as SVG text: the network coloured by mood, and line charts.

Drawn as SVG in the browser, not as matplotlib images: a frame costs microseconds to write
and little to send, text stays sharp on a projector, and nothing is fetched from the internet.

The network: a market of thousands cannot be drawn person by person, so the page draws a
sample (`SAMPLE` people reached from one person outwards, friends of friends, with the ties
among them) laid out once per network and cached: a frame only recolours the people.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from html import escape

import numpy as np
from matplotlib.ticker import MaxNLocator

from ...customers import MOODS
from ...formatting import money_ticks
from ..plots import GROUP_COLOURS, MOOD_STYLE

SAMPLE = 400  # people drawn
SIZE = 400  # the network's drawing is SIZE x SIZE units
MOOD_COLOURS = {mood: MOOD_STYLE[mood][0] for mood in MOODS}
PROSPECT, OTHER_FIRM, TALKER = "#d6d6d6", "#8c8c8c", "#7a0000"
DASHES = ("", "9 4", "2 3", "9 3 2 3")  # the baseline solid, then as in the report's figures


def side_styles(names: list[str], reference: str) -> dict[str, tuple[str, str]]:
    """(colour, dash pattern) of each side: the reference black and solid, the others in the
    colours of the report's figures, in order."""
    others = [name for name in names if name != reference]
    styles = {reference: ("#000000", "")}
    styles.update({name: (GROUP_COLOURS[i % len(GROUP_COLOURS)], DASHES[1 + i % (len(DASHES) - 1)])
                   for i, name in enumerate(others)})
    return styles


# --- the network --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """Where the sampled people are drawn, and the ties among them as one SVG path."""

    people: np.ndarray  # indices of the people drawn
    xy: np.ndarray  # their positions, in drawing units
    ties: str  # the SVG path of the ties
    n_ties: int


_LAYOUTS: OrderedDict[str, Layout] = OrderedDict()  # by the network's fingerprint; a few networks per server
_CACHE = threading.Lock()  # pages in several tabs draw at once
KEEP = 8


def layout(network, seed: int = 7) -> Layout:
    """The sample's layout for `network`, computed once per network (cached by its fingerprint)."""
    key = _fingerprint(network)
    with _CACHE:
        if key not in _LAYOUTS:
            _LAYOUTS[key] = _lay_out(network, seed)
            while len(_LAYOUTS) > KEEP:
                _LAYOUTS.popitem(last=False)
        _LAYOUTS.move_to_end(key)
        return _LAYOUTS[key]


def _lay_out(network, seed: int) -> Layout:
    people = sample(network)
    if network.complete:  # everyone meets everyone: no ties are stored, people on a sunflower
        xy, a, b = _sunflower(people.size), np.empty(0, int), np.empty(0, int)
    else:
        owner, ties = network.ties_of(people)
        position = np.full(network.n, -1)
        position[people] = np.arange(people.size)
        other = position[network.indices[ties]]
        keep = other > owner  # ties inside the sample, each once
        a, b = owner[keep], other[keep]
        xy = _spring(people.size, a, b, seed)
    path = "".join(f"M{xy[i, 0]:.1f} {xy[i, 1]:.1f}L{xy[j, 0]:.1f} {xy[j, 1]:.1f}" for i, j in zip(a, b))
    return Layout(people, xy, path, int(a.size))


def _fingerprint(network) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.array([network.n, network.complete], np.int64).tobytes())
    digest.update(network.indptr.tobytes())
    digest.update(network.indices.tobytes())
    return digest.hexdigest()


def sample(network, size: int = SAMPLE) -> np.ndarray:
    """Up to `size` people: person 0, their contacts, the contacts' contacts, ... (whole circles
    of acquaintance until the sample is full; then everyone else if the network falls apart)."""
    if network.n <= size or network.complete:
        return np.arange(min(size, network.n))
    seen = np.zeros(network.n, bool)
    seen[0] = True
    frontier, taken = np.array([0]), [np.array([0])]
    count = 1
    while count < size:
        if frontier.size == 0:  # a separate component: go on from the next person not yet drawn
            frontier = np.flatnonzero(~seen)[:1]
            seen[frontier] = True
            taken.append(frontier)
            count += 1
            continue
        _, ties = network.ties_of(frontier)
        found = np.unique(network.indices[ties])
        found = found[~seen[found]][: size - count]
        seen[found] = True
        taken.append(found)
        count += found.size
        frontier = found
    return np.sort(np.concatenate(taken))


def _spring(n: int, a: np.ndarray, b: np.ndarray, seed: int) -> np.ndarray:
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(a.tolist(), b.tolist()))
    positions = nx.spring_layout(graph, seed=seed, iterations=60)
    return _fit(np.array([positions[i] for i in range(n)]))


def _sunflower(n: int) -> np.ndarray:
    turn = math.pi * (3 - math.sqrt(5))
    i = np.arange(n)
    radius = np.sqrt((i + 0.5) / max(n, 1))
    return _fit(np.column_stack([radius * np.cos(i * turn), radius * np.sin(i * turn)]))


def _fit(xy: np.ndarray, margin: float = 12.0) -> np.ndarray:
    """Scaled alike in both directions into the drawing, centred."""
    low, high = xy.min(axis=0), xy.max(axis=0)
    scale = (SIZE - 2 * margin) / max(float((high - low).max()), 1e-9)
    return SIZE / 2 + (xy - (low + high) / 2) * scale


def network_ties(found: Layout) -> str:
    """The ties: drawn once per network, under the people (it never changes while playing)."""
    return (f'<svg class="ties" viewBox="0 0 {SIZE} {SIZE}" preserveAspectRatio="xMidYMid meet">'
            f'<path d="{found.ties}" stroke="#9a9a9a" stroke-width="0.6" stroke-opacity="0.45" fill="none"/></svg>')


def network_people(found: Layout, market, firm: int) -> str:
    """The sampled people now: `firm`'s customers by mood, other firms' customers grey,
    prospects light; a dark ring round those who told others about a bad experience this month."""
    c = market.customers
    people = found.people
    mood = c.mood(market.parameters)[people]
    customer = c.is_customer[people]
    mine = customer & (c.firm[people] == firm)
    groups = [(TALKER, 12.5, mine & c.talks_negative[people]), (PROSPECT, 5.0, ~customer),
              (OTHER_FIRM, 6.0, customer & ~mine)]
    groups += [(MOOD_COLOURS[name], 9.0, mine & (mood == code)) for code, name in enumerate(MOODS)]
    paths = "".join(_dots(found.xy[mask], colour, width) for colour, width, mask in groups if mask.any())
    return f'<svg class="people" viewBox="0 0 {SIZE} {SIZE}" preserveAspectRatio="xMidYMid meet">{paths}</svg>'


def _dots(xy: np.ndarray, colour: str, width: float) -> str:
    """Dots as one path: a zero-length segment per person with a round cap (a few bytes each)."""
    points = "".join(f"M{x:.0f} {y:.0f}h0" for x, y in xy)
    return (f'<path d="{points}" stroke="{colour}" stroke-width="{width}" stroke-linecap="round" '
            f'fill="none"/>')


def mood_legend() -> str:
    items = [(MOOD_COLOURS[m], m) for m in reversed(MOODS)]
    items += [(OTHER_FIRM, "another firm's customer"), (PROSPECT, "not a customer")]
    dots = "".join(f'<span class="key"><i style="background:{colour}"></i>{escape(label)}</span>'
                   for colour, label in items)
    return dots + (f'<span class="key"><i style="background:#fff;box-shadow:0 0 0 3px {TALKER} inset">'
                   f'</i>told others about a bad experience this month</span>')


# --- line charts --------------------------------------------------------------------------------
WIDTH, HEIGHT = 440, 270  # drawing units; the page scales the chart to its column, text with it
LEFT, RIGHT, TOP, BOTTOM = 84, 14, 14, 52


def line_chart(series: dict[str, np.ndarray], styles: dict[str, tuple[str, str]], months: int,
               money_axis: bool = False, currency: str = "", first_month: int = 0) -> str:
    """Lines month by month (x from 0 to the horizon, so the room sees how far the play is), on
    a y-axis that starts at zero (and goes below it if a line does) with exact tick labels.
    A flow (counted over a month) starts at `first_month` 1."""
    series = {name: np.asarray(line, float)[first_month:] for name, line in series.items()}
    values = np.concatenate([*series.values(), np.zeros(1)])
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    if high - low < 1e-9:
        high = low + 1.0
    ticks = MaxNLocator(5, steps=[1, 2, 2.5, 5, 10], integer=not money_axis).tick_values(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])
    ticks = [t for t in ticks if low - 1e-9 <= t <= high + 1e-9]
    labels = money_ticks(ticks, currency) if money_axis else [f"{t:,.0f}" for t in ticks]
    x_ticks = [t for t in MaxNLocator(6, integer=True).tick_values(0, months) if 0 <= t <= months]

    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(month):
        return LEFT + inner_w * month / max(months, 1)

    def y(value):
        return TOP + inner_h * (1 - (value - low) / (high - low))

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMinYMin meet">']
    for tick, label in zip(ticks, labels):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="{"#444" if tick == 0 else "#e2e2e2"}" stroke-width="1"/>'
                     f'<text x="{LEFT - 6}" y="{y(tick):.1f}" text-anchor="end" dominant-baseline="middle">'
                     f'{escape(label)}</text>')
    for tick in x_ticks:
        parts.append(f'<text x="{x(tick):.1f}" y="{TOP + inner_h + 22}" text-anchor="middle">{tick:.0f}</text>')
    parts.append(f'<text x="{LEFT + inner_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" class="axis">month'
                 f'</text>')
    for name, line in series.items():
        colour, dash = styles[name]
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in enumerate(line, start=first_month))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.6" '
                     f'stroke-dasharray="{dash}" stroke-linejoin="round"><title>{escape(name)}</title></polyline>')
    parts.append("</svg>")
    return "".join(parts)
