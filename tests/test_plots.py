"""Figures: each is drawn from a small saved run, and what it draws matches the saved data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.cli import main
from sim.outputs import plots
from sim.outputs.results import Results

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--set", "market.n_people=600", "--set", "market.months=12", "--replications", "3", "--quiet"]
_RUNS: dict[str, Path] = {}


def tiny_run(factory, name: str = "renewal-neglect", figures: bool = True) -> Path:
    """A small run folder of a shipped scenario, made once per test session (shared with test_report)."""
    if name not in _RUNS:
        out = factory.mktemp(name) / "run"
        assert main(["run", str(ROOT / "scenarios" / f"{name}.yaml"), "--out", str(out), *TINY, "--no-figures"]) == 0
        if figures:  # `grapevine plot` (test_report checks that `run` calls the same writer)
            assert main(["plot", str(out)]) == 0
        _RUNS[name] = out
    return _RUNS[name]


@pytest.fixture(scope="session")
def arms(tmp_path_factory) -> Results:
    return Results.load(tiny_run(tmp_path_factory))


@pytest.fixture(scope="session")
def duel(tmp_path_factory) -> Results:
    return Results.load(tiny_run(tmp_path_factory, "head-to-head", figures=False))


def line(ax, label: str):
    found = [l for l in ax.get_lines() if l.get_label() == label]
    assert len(found) == 1, f"no single line labelled {label!r}"
    return found[0]


def focal_summary(results: Results) -> pd.DataFrame:
    return results.focal_summary()


def test_load_reads_the_run_folder(arms):
    assert arms.names == ["ignore", "recover", "check-in"]
    assert arms.baseline == "ignore"
    assert arms.replications == 3 and arms.months == 12


def test_retention_lines_end_at_the_summary_values(arms):
    figure = plots.retention(arms)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    summary = focal_summary(arms)
    for group in arms.names:
        drawn = line(ax, plots.group_label(arms, group))
        assert drawn.get_xdata()[-1] == arms.months
        expected = summary.loc[summary["arm"] == group, "retention"].mean()
        assert drawn.get_ydata()[-1] == pytest.approx(expected)
        assert drawn.get_ydata()[0] == pytest.approx(100.0)  # everyone is kept at month 0
    assert ax.get_title(loc="left") and ax.get_xlabel() == "month" and "%" in ax.get_ylabel()
    assert ax.get_legend() is not None
    bands = ax.collections  # one band across replications per arm
    assert len(bands) == len(arms.names)


def test_every_arm_has_its_own_colour_and_line_style(arms):
    styles = [plots.group_style(arms, g) for g in arms.names]
    assert len({s["color"] for s in styles}) == len(styles)
    assert len({str(s["linestyle"]) for s in styles}) == len(styles)
    assert len({s["marker"] for s in styles}) == len(styles)
    assert plots.group_style(arms, arms.baseline)["color"] == "#000000"


def test_money_lines_end_at_the_totals_and_the_forest_shows_the_paired_differences(arms):
    figure = plots.money(arms)
    top = figure.axes[0::2]  # revenue, forest, profit, forest, npv, forest: added in that order
    forests = figure.axes[1::2]
    for ax, forest, kpi in zip(top, forests, ("revenue", "profit", "npv")):
        for group in arms.names:
            drawn = line(ax, plots.group_label(arms, group))
            assert drawn.get_ydata()[-1] == pytest.approx(arms.comparison_row(group, kpi)["mean"])
        others = [g for g in arms.names if g != arms.baseline]
        markers = [c.lines[0] for c in forest.containers]
        assert len(markers) == len(others)
        for marker, group in zip(markers, others):
            row = arms.comparison_row(group, kpi)
            assert marker.get_xdata()[0] == pytest.approx(row["diff"])
            assert marker.get_ydata()[0] == others.index(group)
        assert forest.get_xlabel() and ax.get_ylabel()


def test_moods_stack_to_customers_and_everyone_who_left(arms):
    counts = plots.mood_counts(arms)
    summary = focal_summary(arms)
    focal = arms.focal()
    for group in arms.names:
        last = counts[group].iloc[-1]
        customers = summary.loc[summary["arm"] == group, "customers"].mean()
        assert last[["delighted", "satisfied", "neutral", "dissatisfied"]].sum() == pytest.approx(customers)
        mine = focal[focal["group"] == group]
        left = mine[[c for c in mine.columns if c.startswith("churned_")]].sum(axis=1).groupby(mine["replication"]).sum()
        assert last["churned"] == pytest.approx(left.mean())
    figure = plots.moods(arms)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == len(arms.names)
    for ax, group in zip(panels, arms.names):
        assert len(ax.collections) == len(plots.MOOD_ORDER)
        top = ax.collections[-1].get_paths()[0].vertices[:, 1].max()
        assert top == pytest.approx(counts[group].sum(axis=1).max())
    assert len(figure.legends[0].get_texts()) == 5


def test_word_of_mouth_draws_the_monthly_means(arms):
    figure = plots.word_of_mouth(arms)
    assert [ax.get_title(loc="left") for ax in figure.axes] == [title for _, title, _ in plots.WORD_OF_MOUTH]
    focal = arms.focal()
    for ax, column in ((figure.axes[0], "messages_negative"), (figure.axes[4], "acquired_referral")):
        for group in arms.names:
            table = focal[focal["group"] == group].pivot(index="month", columns="replication", values=column)
            expected = table.loc[1:].rolling(3, center=True, min_periods=1).mean().mean(axis=1)
            drawn = line(ax, plots.group_label(arms, group))
            assert np.allclose(drawn.get_ydata(), expected.to_numpy())
            assert list(drawn.get_xdata()) == list(range(1, arms.months + 1))
        assert "month" in ax.get_ylabel()


def test_market_share_lines_end_at_the_summary_shares(duel):
    figure = plots.market_share(duel)
    ax = figure.axes[0]
    for firm in duel.names:
        drawn = line(ax, plots.group_label(duel, firm))
        expected = duel.summary.loc[duel.summary["firm"] == firm, "market_share"].mean()
        assert drawn.get_ydata()[-1] == pytest.approx(expected)
    shares = [line(ax, plots.group_label(duel, f)).get_ydata() for f in duel.names]
    assert np.allclose(np.sum(shares, axis=0), 100.0)


def test_market_share_needs_two_firms(arms):
    with pytest.raises(ValueError, match="two or more firms"):
        plots.market_share(arms)
    assert "market-share" not in arms.figures()


def test_head_to_head_figures_use_the_firms(duel):
    assert duel.names == ["Carer", "Ignorer"]
    for name, draw in duel.figures().items():
        if name != "network":
            figure = draw(duel)
            words = " ".join(text.get_text() for text in figure.findobj(Text))
            assert "Carer" in words and "Ignorer" in words, name  # both firms are named
            assert any(ax.lines or ax.collections or ax.patches for ax in figure.axes), name  # and drawn


def test_network_shows_everyone_coloured_by_mood(arms):
    data = arms.showcase
    customers = int(data["customer"].sum())
    figure = plots.network(arms)
    ax = figure.axes[0]
    points = sum(len(c.get_offsets()) for c in ax.collections[1:])  # after the ties
    assert points == data["firm"].size == 400
    assert len(ax.collections[-1].get_offsets()) == customers
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert f"customer of Telco ({customers})" in labels


def test_the_small_market_takes_the_scenario_settings(arms):
    from sim.experiments.showcase import small_market

    market = small_market(arms.scenario)
    assert market.network.n == 400
    assert market.parameters.contract_months == arms.scenario.market.contract_months == 24
    assert [p.__class__.__name__ for p in market.firms[0].policies] == ["RenewalCall"]
    assert market.firms[0].failure_rate == arms.scenario.firms[0].failure_rate


def test_animation_shows_negative_talk_after_the_wave(arms, tmp_path):
    from PIL import Image

    gif = tmp_path / "talk.gif"
    figure = plots.negative_talk_animation(arms, path=gif)
    data = arms.showcase
    wave_month = int(data["wave_month"])
    with Image.open(gif) as image:
        assert image.n_frames == data["wave_messages"].size
    telling, heard, messages = data["wave_telling"], data["wave_heard"], data["wave_messages"]
    assert telling[wave_month].sum() > telling[wave_month - 1].sum()
    assert messages[wave_month] > messages[wave_month - 1]
    assert heard[wave_month].sum() > telling[wave_month].sum()
    assert "WAVE" in figure.axes[0].get_title(loc="left")


def test_the_failure_wave_is_run_in_the_engine_and_restores_the_failure_rate(arms):
    from sim.experiments.showcase import failure_wave, small_market

    market = small_market(arms.scenario, n_people=300)
    frames = failure_wave(market, months=4, wave_month=2, wave_failure_rate=0.6)
    assert market.firm_failure_rate[0] == arms.scenario.firms[0].failure_rate
    assert frames["wave_telling"].shape == (5, 300)
    assert frames["wave_messages"][2] > frames["wave_messages"][1]


def test_poster_carries_the_verdict_and_the_numbers(arms):
    figure = plots.poster(arms)
    texts = " ".join(t.get_text() for ax in figure.axes for t in ax.texts).replace("\u00a0", " ").replace("\n", " ")
    flat = " ".join(texts.split())
    for sentence in arms.verdicts:
        assert " ".join(sentence.split()) in flat
    assert arms.scenario.description in flat
    retention = figure.axes[2]
    summary = focal_summary(arms)
    for group in arms.names:
        drawn = line(retention, plots.group_label(arms, group))
        assert drawn.get_ydata()[-1] == pytest.approx(summary.loc[summary["arm"] == group, "retention"].mean())


def test_question_is_read_from_the_scenario_file(arms):
    assert plots.question(arms).startswith("With two-year contracts a firm may think complaints can wait")


def test_money_text():
    assert plots.money_text(1_234_567) == "1.2 M"
    assert plots.money_text(-2_900) == "-2.9 K"
    assert plots.money_text(float("nan")) == "n/a"
