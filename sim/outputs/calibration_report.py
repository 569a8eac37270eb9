"""The calibration's pictures and page: a calibration folder's report.html (the section a run's
report gains when its scenario carries a posterior is `posterior_section.py`).

    write_report(folder, outcome)     # fit.png, posterior.png and report.html in a calibration folder
    fit_figure(fit_table)             # observed against simulated, one panel per figure
    posterior_figure(sample, parameters)

Like every figure of `sim.outputs.plots`, these read saved tables only.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiments.folder import atomic_text, atomic_write
from .plots import footnote, new_figure, styled
from .posterior_section import _g, _table
from .report import STYLE, _png

OBSERVED, SIMULATED = "#000000", "#0072B2"


@styled
def fit_figure(fit: pd.DataFrame, title: str = "Observed against simulated"):
    """Each figure the firm gave: its value with a 95% sampling interval (black), the simulated
    value at the best fit (blue diamond) and with parameters from the posterior (blue bar, 90%)."""
    rows = len(fit)
    figure = new_figure(10, 1.15 * rows + 1.6)
    axes = figure.subplots(rows, 1, squeeze=False)[:, 0]
    for ax, row in zip(axes, fit.itertuples()):
        ax.plot([row.observed_low, row.observed_high], [1, 1], color=OBSERVED, lw=2)
        ax.plot([row.observed], [1], "o", color=OBSERVED, ms=8, label="observed, 95% sampling interval")
        ax.plot([row.simulated_5, row.simulated_95], [0, 0], color=SIMULATED, lw=6, alpha=0.45, solid_capstyle="butt",
                label="simulated, parameters from the posterior (90%)")
        ax.plot([row.simulated_best], [0], "D", color=SIMULATED, ms=8, label="simulated at the best fit")
        ax.set_ylim(-0.8, 1.8)
        ax.set_yticks([])
        ax.set_title(f"{row.label} (months 1-{row.months})", loc="left", fontsize=12)
        low = min(row.observed_low, row.simulated_5, row.simulated_best)
        high = max(row.observed_high, row.simulated_95, row.simulated_best)
        pad = 0.15 * max(high - low, 1e-9 + 0.02 * abs(high))
        ax.set_xlim(low - pad, high + pad)
        ax.grid(axis="y", visible=False)
    axes[0].legend(loc="lower left", bbox_to_anchor=(0, 1.35), ncol=3, fontsize=10)
    figure.suptitle(title)
    footnote(figure, "Each panel on its own scale. Black: the firm's figure and its sampling error.")
    return figure


@styled
def posterior_figure(sample: pd.DataFrame, parameters: pd.DataFrame):
    """The posterior sample: each parameter's distribution over its prior range (diagonal), and
    every pair (below): a tilted cloud is a pair the data trade off."""
    names = list(parameters["parameter"])
    d = len(names)
    figure = new_figure(2.6 * d + 1.2, 2.6 * d + 0.8)
    axes = figure.subplots(d, d, squeeze=False)
    ranges = {r.parameter: (r.prior_low, r.prior_high, bool(r.log)) for r in parameters.itertuples()}
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            low, high, log = ranges[x]
            if log:
                ax.set_xscale("log")
            ax.set_xlim(low, high)
            if i == j:
                bins = np.geomspace(low, high, 21) if log else np.linspace(low, high, 21)
                ax.hist(sample[x], bins=bins, color=SIMULATED, alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(sample[x], sample[y], s=10, color=SIMULATED, alpha=0.35, edgecolors="none")
                ylow, yhigh, ylog = ranges[y]
                if ylog:
                    ax.set_yscale("log")
                ax.set_ylim(ylow, yhigh)
            if i == d - 1:
                ax.set_xlabel(x.split(".", 1)[1], fontsize=10)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(y.split(".", 1)[1], fontsize=10)
            elif i != j:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=9)
    figure.suptitle("The posterior over the prior ranges")
    footnote(figure, f"{len(sample)} draws (sampling-importance resampling; repeated draws overlap). Axes span each "
                     f"parameter's prior range.")
    return figure


# --- the calibration folder's report -------------------------------------------------------------
def write_report(folder: str | Path, outcome) -> Path:
    """fit.png, posterior.png and report.html in the calibration folder."""
    folder = Path(folder)
    images = {}
    for name, figure in (("fit", fit_figure(outcome.fit_table)),
                         ("posterior", posterior_figure(outcome.sample, outcome.parameters))):
        png = _png(figure)
        atomic_write(folder / f"{name}.png", lambda temp, png=png: temp.write_bytes(png))
        images[name] = png
    report = folder / "report.html"
    atomic_text(report, render(outcome, images))
    return report


def _image(name: str, png: bytes, caption: str) -> str:
    return (f'<figure id="{name}"><img alt="{html.escape(name)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(caption)}</figcaption></figure>')


def render(outcome, images: dict[str, bytes]) -> str:
    e = html.escape
    fit = outcome.fit
    scenario = fit.original
    firm = scenario.firms[fit.firm]
    path = outcome.calibrated["posterior"]["source"]
    observed = [[row.label, row.months, row.observed, f"{_g(row.observed_low)} to {_g(row.observed_high)}"]
                for row in outcome.fit_table.itertuples()]
    parameters = [[r.parameter, f"{_g(r.prior_low)} to {_g(r.prior_high)}{' (log)' if r.log else ''}",
                   r.scenario_value, r.best_fit, f"{_g(r.posterior_5)} to {_g(r.posterior_95)}",
                   f"{100 * r.prior_range_left:.0f}%"] for r in outcome.parameters.itertuples()]
    simulated = [[row.label, row.observed, row.simulated_best, f"{_g(row.simulated_5)} to {_g(row.simulated_95)}",
                  "yes" if row.best_within_observed else "no"] for row in outcome.fit_table.itertuples()]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(scenario.name)} - Grapevine calibration</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(firm.name)} in its own numbers</h1>",
        f'<p class="meta">Calibration of <b>{e(scenario.name)}</b> ({e(scenario.description)}) - '
        f'{len(outcome.trials)} trials x {fit.experiment.reps} replications of the firm as written, on the same '
        f'seeds in every trial - folder {e(path)}</p>',
        "<h2>What the firm measured</h2>",
        f"<p>{e(firm.name)}'s own figures over the first months after month 0, each with the 95% interval its "
        f"sample allows (docs/MODEL.md 7.11 defines each as the model counts it):</p>",
        _table(["figure", "months", "value", "95% sampling interval"], observed),
        "<h2>What the data say about the free assumptions</h2>",
        _table(["parameter", "prior range", "was", "best fit", "posterior 90%", "prior range left"], parameters),
        '<p class="meta">Prior: uniform over the range (on a log scale where marked). "Prior range left": the '
        'posterior\'s 90% interval as a share of the prior\'s; near 100% the data do not pin the parameter down. '
        f'The posterior sample ({len(outcome.sample)} draws, {outcome.effective_draws:.0f} effective) comes from '
        'importance sampling around the best fit and resampling (docs/CALIBRATION.md).</p>',
        "<h2>Warnings</h2>", "<ul>", *([f"<li>{e(w)}</li>" for w in outcome.warnings] or
                                       ["<li>none: every parameter is pinned down, no pair trades off, every "
                                        "figure is reproduced</li>"]), "</ul>",
        "<h2>Observed against simulated</h2>",
        _table(["figure", "observed", "best fit", "posterior 90%", "best fit within the 95% interval"], simulated),
        _image("fit", images["fit"], "The firm's figures (black) and the model's (blue) at the best fit and "
                                     "over the posterior."),
        _image("posterior", images["posterior"], "The posterior sample; a tilted cloud is a pair of parameters the "
                                                 "data trade off."),
        "<h2>Next</h2>",
        f"<p><code>grapevine run {e(str(Path(path) / 'calibrated.yaml'))}</code>: every replication of every arm "
        f"draws its parameters from the posterior (the same draw in every arm), and the verdicts give the "
        f"probability that one policy beats another given these data.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
