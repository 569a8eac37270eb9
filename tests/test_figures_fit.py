"""Figures never clip: with arm and firm names as long as a scenario allows, every artist of
every figure of a run folder lies inside the canvas, and money ticks say exactly where they are."""

from __future__ import annotations

import re
import textwrap
import warnings

import pytest
from matplotlib.axes import Axes
from matplotlib.axis import Axis

from sim.cli import main
from sim.formatting import money_ticks
from sim.outputs import plots
from sim.outputs.results import Results

LONG = "-every-complaint-until-the-contract-renewal-date-and-then"  # arm names may be 60 characters
ARMS = textwrap.dedent(f"""
    name: long-names
    description: Arms with names as long as allowed, so that every label is at its widest.
    seed: 3
    replications: 2
    market: {{n_people: 500, months: 12, contract_months: 12, warm_up_months: 12}}
    firms:
      - name: The-Very-Long-Named-Telecommunications-Firm-Of-The-North-Sea
        policies: [RenewalCall]
    compare:
      kind: arms
      baseline: ignore{LONG[:54]}
      arms:
        - name: ignore{LONG[:54]}
        - name: recover{LONG[:53]}
          add: [{{kind: ServiceRecovery, effort: 0.8}}]
        - name: gifts{LONG[:55]}
          add: [{{kind: SmallGifts, value_share: 0.005}}]
    """)
FIRMS = textwrap.dedent("""
    name: long-firms
    description: Three firms with long names, head to head.
    seed: 3
    replications: 2
    market: {n_people: 500, months: 12, contract_months: 12, warm_up_months: 12}
    firms:
      - {name: Carer-Of-Every-Customer-Who-Ever-Complained-About-Anything, policies: [ServiceRecovery]}
      - {name: Ignorer-Of-Every-Complaint-Until-The-Contract-Renewal-Date, policies: [IgnoreUntilRenewal]}
      - {name: Gift-Giver-To-Every-Customer-Every-Three-Months-Without-Fail, policies: [SmallGifts]}
    compare: {kind: head_to_head}
    """)


def run_folder(tmp_path_factory, text: str) -> Results:
    folder = tmp_path_factory.mktemp("long")
    scenario = folder / "scenario.yaml"
    scenario.write_text(text)
    assert main(["run", str(scenario), "--out", str(folder / "run"), "--quiet", "--no-figures"]) == 0
    return Results.load(folder / "run")


@pytest.fixture(scope="module", params=[ARMS, FIRMS], ids=["long-arm-names", "long-firm-names"])
def results(request, tmp_path_factory) -> Results:
    return run_folder(tmp_path_factory, request.param)


def drawn_artists(figure):
    """Every artist the figure draws: its own children, and the children of each axes
    (an axes' axis is drawn only while the axes is on)."""
    for artist in figure.get_children():
        if not artist.get_visible() or artist is figure.patch:
            continue
        if isinstance(artist, Axes):
            for child in artist.get_children():
                if child.get_visible() and child is not artist.patch and (artist.axison or not isinstance(child, Axis)):
                    yield child
        else:
            yield artist


def outside_the_canvas(figure) -> list[str]:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="constrained_layout not applied")  # a squashed layout fails
        figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    out = []
    for artist in drawn_artists(figure):
        box = artist.get_tightbbox(renderer)  # clipped artists: the part inside their clip box
        if box is None or box.width == box.height == 0:
            continue
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
            text = artist.get_text() if hasattr(artist, "get_text") else ""
            out.append(f"{type(artist).__name__} {text[:50]!r} at {[round(v) for v in box.extents]} "
                       f"on a {width:.0f} x {height:.0f} canvas")
    return out


def test_every_figure_of_a_run_folder_lies_inside_its_canvas(results):
    drawn = {name: draw(results) for name, draw in results.figures().items()}
    animated = drawn["negative-talk (animation)"] = plots.negative_talk_animation(results)
    animated.canvas.draw()  # starts the animation at its first frame; the check draws it as the GIF writer does
    assert {"poster", "retention", "money", "moods", "word-of-mouth", "network", "robustness"} <= set(drawn)
    problems = {name: outside_the_canvas(figure) for name, figure in drawn.items()}
    assert not {name: found for name, found in problems.items() if found}


def test_a_long_title_is_wrapped_not_cut(results):
    figure = plots.money(results)
    title = figure.get_suptitle()
    whole = f"the paired difference from {results.baseline} at month {results.months}"
    assert "\n" in title and "".join(whole.split()) in "".join(title.split())


def test_short_names_leave_a_figure_as_drawn():
    figure = plots.new_figure(6, 3)
    ax = figure.add_subplot()
    ax.set_title("Customers kept", loc="left")
    ax.legend(handles=ax.plot([0, 1], [0, 1], label="recover"))
    plots.fit(figure)
    assert ax.get_title(loc="left") == "Customers kept" and ax.get_legend().get_texts()[0].get_text() == "recover"


# --- exact money ticks ---------------------------------------------------------------------------
def test_money_ticks_show_every_tick_exactly():
    assert money_ticks([0, 0.25e6, 0.5e6, 0.75e6, 1e6, 1.25e6]) == ["0", "0.25 M", "0.50 M", "0.75 M", "1.00 M",
                                                                    "1.25 M"]
    assert money_ticks([0, 1.75e6, 3.5e6]) == ["0", "1.75 M", "3.50 M"]
    assert money_ticks([-2000, 0, 2000, 4000]) == ["-2 K", "0", "2 K", "4 K"]
    assert money_ticks([0, 50, 100]) == ["0", "50", "100"]
    assert money_ticks([0, 0.5e9, 1e9], currency="EUR") == ["0", "0.5 bn EUR", "1.0 bn EUR"]


UNITS = {"": 1.0, "K": 1e3, "M": 1e6, "bn": 1e9}


def test_every_money_axis_label_reads_back_as_its_tick(results):
    figure = plots.money(results)
    checked = 0
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not isinstance(axis.get_major_formatter(), plots.MoneyFormatter):
                continue
            low, high = sorted(axis.get_view_interval())
            ticks = [t for t in axis.get_majorticklocs() if low <= t <= high]
            labels = axis.get_major_formatter().format_ticks(ticks)
            for tick, label in zip(ticks, labels):
                number, unit = re.fullmatch(r"(-?[\d,.]+)\s?(K|M|bn)?", label).groups()
                assert float(number.replace(",", "")) * UNITS[unit or ""] == pytest.approx(tick, abs=1e-6), label
                checked += 1
    assert checked >= 12
