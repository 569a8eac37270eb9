"""The optimisation's picture and page: pareto.png and report.html in an optimisation folder.

    write_report(folder, outcome)     # after optimize_results.finalize
    pareto_figure(outcome)            # every mix: objective against policy cost, the front, the budget

Like every figure of `sim.outputs.plots`, it reads the saved tables only.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..experiments.folder import atomic_text, atomic_write
from .calibration_report import _image
from .plots import footnote, new_figure, styled
from .posterior_section import _table
from .report import STYLE, _png

TRIED, FRONT, OVER, CHOSEN, BASE = "#999999", "#0072B2", "#D55E00", "#009E73", "#000000"


@styled
def pareto_figure(outcome):
    """Every mix tried: its NPV (or customers kept) against its policy cost a month; the front of
    mixes no other beats, the budget, the recommended mix and the baseline."""
    s, trials = outcome.search, outcome.trials
    y = s.settings.objective
    label = {"npv": f"NPV ({s.original.currency})", "customers_kept": "month-0 customers kept"}[y]
    figure = new_figure(9, 6)
    ax = figure.subplots()
    within = trials[trials["within_budget"]]
    over = trials[~trials["within_budget"]]
    ax.scatter(within["policy_cost"], within[y], s=28, color=TRIED, label="mix within the budget")
    if len(over):
        ax.scatter(over["policy_cost"], over[y], s=28, marker="x", color=OVER, label="mix over the budget")
    front = trials[trials["on_front"]].sort_values("policy_cost")
    ax.plot(front["policy_cost"], front[y], "-o", color=FRONT, label="front (no mix beats it on NPV, cost and kept)")
    if s.settings.budget is not None:
        ax.axvline(s.settings.budget, color=OVER, linestyle="--", linewidth=1.5, label="budget")
    if outcome.best:
        best = outcome.best
        ax.scatter([best["policy_cost"][0]], [best[y][0]], s=220, marker="*", color=CHOSEN, zorder=5,
                   label="recommended")
        ax.scatter([best["baseline"]["policy_cost"]], [best["baseline"][y]], s=90, marker="s", color=BASE, zorder=5,
                   label="baseline (the firm as written)")
    ax.set_xlabel(f"policy spending a month ({s.original.currency})")
    ax.set_ylabel(label)
    ax.set_title(f"{s.original.name}: {len(trials)} mixes, each over the same {s.reps} futures")
    ax.legend(loc="best")
    footnote(figure, "Each point is a mix's mean over the futures; the recommended mix has the best "
                     f"{'mean' if s.settings.robust_score == 'mean' else '10th percentile'} within the budget.")
    return figure


def write_report(folder: str | Path, outcome) -> Path:
    from ..experiments.optimize_results import lever_text, sentence

    folder = Path(folder)
    png = _png(pareto_figure(outcome))
    atomic_write(folder / "pareto.png", lambda temp: temp.write_bytes(png))
    e, s = html.escape, outcome.search
    levers = [lever.name for lever in s.levers]
    rows = [[*[row[name] for name in levers], f"{row.score:,.0f}", f"{row.npv:,.0f}", f"{row.policy_cost:,.0f}",
             f"{row.customers_kept:,.0f}"] for _, row in outcome.pareto.iterrows()]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(s.original.name)} - Grapevine optimisation</title><style>{STYLE}</style></head><body>",
        f"<h1>The best policy mix for {e(s.original.name)}</h1>",
        f'<p class="meta">{len(outcome.trials)} mixes x {s.reps} futures (the same in every mix), levers: '
        f'{e(", ".join(levers))} - folder {e(outcome.path)}</p>',
        f"<p>{e(sentence(outcome))}</p>",
        _image("pareto", png, "Every mix tried; the front; the budget; the recommended mix and the baseline."),
        "<h2>The front</h2>",
        _table([*levers, "score", "NPV", "policy cost a month", "customers kept"], rows),
        "<h2>Next</h2>",
        (f"<p><code>grapevine run {e(str(Path(outcome.path) / 'recommended.yaml'))}</code> compares the recommended "
         f"mix ({e(lever_text(outcome.best['values']))}) with the baseline on fresh replications, and "
         f"<code>grapevine pilot {e(str(Path(outcome.path) / 'recommended.yaml'))} --arm recommended</code> designs "
         f"the test that would prove it.</p>") if outcome.best else "<p>No mix stays within the budget.</p>",
        "</body></html>",
    ]
    report = folder / "report.html"
    atomic_text(report, "\n".join(parts) + "\n")
    return report
