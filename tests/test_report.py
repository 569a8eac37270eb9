"""The report: self-contained, with every arm, every verdict and every figure; `grapevine plot`."""

from __future__ import annotations

import base64
import html
import re
import shutil

import pytest

from sim.cli import main
from sim.experiments import stats
from sim.experiments.verdicts import comparison_rows
from sim.outputs import report
from sim.outputs.results import Results
from sim.sectors import churn_sentence
from test_plots import tiny_run


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    return tiny_run(tmp_path_factory)  # made by `grapevine run`, figures and report by `grapevine plot`


@pytest.fixture(scope="session")
def page(run_dir) -> str:
    return (run_dir / "report.html").read_text()


def test_run_writes_figures_and_report(run_dir):
    figures = run_dir / "figures"
    for name in ("poster", "retention", "money", "moods", "word-of-mouth", "network"):
        for suffix in ("png", "svg"):
            assert (figures / f"{name}.{suffix}").stat().st_size > 1000, (name, suffix)
    assert (figures / "negative-talk.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    assert not list(figures.glob(".*"))  # no temp files left
    assert (figures / "poster.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_has_every_arm_verdict_and_figure(run_dir, page):
    results = Results.load(run_dir)
    for arm in results.names:
        assert f"<td>{html.escape(arm)}</td>" in page
        assert f"<b>{html.escape(arm)}</b>" in page  # described in words too
    for sentence in results.verdicts:
        assert f"<li>{html.escape(sentence)}</li>" in page
    names = [*results.figures(), report.ANIMATION]
    for name in names:
        assert f'<figure id="{name}">' in page
    images = re.findall(r'src="data:(image/(?:png|gif));base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(names)
    assert base64.b64decode(images[0][1])[:4] == b"\x89PNG"
    assert ("image/gif" in [mime for mime, _ in images])


def test_report_sets_the_baselines_churn_beside_its_sectors(run_dir, page):
    results = Results.load(run_dir)
    sentence = results.churn_sentence()
    assert "postpaid mobile" in sentence and "1.0%-1.7% of their customers a month" in sentence
    churn = stats.baseline_churn(results.timeseries, results.scenario)  # ignore's mean monthly churn
    verdict = "within that range" if 0.010 <= churn <= 0.017 else "outside that range"
    assert f"Here ignore loses {churn:.2%} a month, {verdict}" in sentence
    assert html.escape(sentence) in page


@pytest.mark.parametrize("churn, verdict", [(0.0125, "within that range"), (0.0305, "outside that range")])
def test_the_churn_sentence_says_whether_the_churn_is_inside_the_sectors_range(churn, verdict):
    sentence = churn_sentence("postpaid_mobile", "ignore", churn)
    assert f"Here ignore loses {churn:.2%} a month, {verdict}" in sentence


def test_report_table_matches_the_comparison(run_dir, page):
    results = Results.load(run_dir)
    header, rows = comparison_rows(results.comparison, results.scenario)
    assert header[0] == "arm" and len(rows) == len(results.names)
    recover = results.comparison_row("recover", "retention")
    assert f"<td>{recover['mean']:.1f}</td>" in page
    assert html.escape(f"{recover['diff']:+.1f} [{recover['diff_low']:+.1f}, {recover['diff_high']:+.1f}]") in page


def test_report_is_self_contained(page):
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing to fetch: opens offline, can be mailed
    assert "<script" not in page
    assert "With two-year contracts" in page  # the question
    assert "10,000" not in page and "600 people" in page  # the scenario as run (with its overrides)


def test_run_draws_figures_and_report_at_the_end(tmp_path, monkeypatch, capsys):
    called = []

    def writer(run_dir, **kwargs):
        called.append(run_dir)
        return report.Outputs(report=run_dir / "report.html")

    monkeypatch.setattr(report, "write_outputs", writer)
    out = tmp_path / "run"
    args = ["run", "quickstart", "--out", str(out), "--set", "market.n_people=300", "--set", "market.months=3",
            "--replications", "2", "--quiet"]
    assert main(args) == 0 and called == [out]
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    assert main([*args[:3], str(tmp_path / "again"), *args[4:], "--no-figures"]) == 0 and called == [out]


def test_plot_refuses_a_folder_that_is_not_a_finished_run(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a finished run folder" in capsys.readouterr().err


def test_a_failing_figure_costs_only_itself(run_dir, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("figures", "report.html", "runs"))

    def broken(results):
        raise RuntimeError("boom")

    from sim.outputs import results as results_module

    for name in ("money", "moods", "word-of-mouth", "network"):  # (fewer figures to draw: a faster test)
        order, _, applies = results_module.FIGURES[name]
        monkeypatch.setitem(results_module.FIGURES, name, (order, broken, applies))
    outputs = report.write_outputs(copy, animation=False)
    assert [p.split(":")[0] for p in outputs.problems] == ["money", "moods", "word-of-mouth", "network"]
    assert (copy / "figures" / "poster.png").exists() and not (copy / "figures" / "moods.png").exists()
    page = (copy / "report.html").read_text()
    assert "boom" in page and '<figure id="poster">' in page


def test_run_keeps_its_results_when_figures_fail(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("no figures today")

    monkeypatch.setattr(report, "write_outputs", broken)
    out = tmp_path / "run"
    args = ["run", "quickstart", "--out", str(out), "--set", "market.n_people=300", "--set", "market.months=3",
            "--replications", "2", "--quiet"]
    assert main(args) == 0
    assert "retry with `grapevine plot" in capsys.readouterr().err
    assert (out / "summary.csv").exists() and (out / "comparison.csv").exists()
