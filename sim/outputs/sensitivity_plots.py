"""Figures of a sensitivity analysis: which settings matter (indices), and where each arm wins.

    result = sim.experiments.sensitivity.sensitivity(scenario)
    indices(result); winners(result)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..experiments.sensitivity import Design, SensitivityResult
from .plots import new_figure


def indices(result: SensitivityResult):
    """A bar (tornado-style) chart per output: parameters by importance, with 95% intervals."""
    return plot_indices(result.design, result.indices)


def winners(result: SensitivityResult):
    """Left: the share of the space each wins. Right: the winner over the two deciding parameters."""
    return plot_winners(result.design, result.points, result.shares, result.deciders)


def plot_indices(design: Design, table: pd.DataFrame):
    """A bar (tornado-style) chart per output: parameters by importance, with 95% intervals."""
    outputs = list(dict.fromkeys(table["output"]))
    cols = 3 if len(outputs) % 3 == 0 else 2 if len(outputs) > 1 else 1
    rows = math.ceil(len(outputs) / cols)
    height = max(2.2, 0.32 * len(design.names) + 1.0)
    fig = new_figure(5.2 * cols, height * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    morris = design.spec.method == "morris"
    for ax, output in zip(axes, outputs):
        part = table[table["output"] == output].sort_values("importance")
        y = np.arange(len(part))
        if morris:
            ax.barh(y, part["mu_star"], xerr=part["mu_star_conf"], color="tab:blue", alpha=0.8, label="mu*")
            ax.plot(part["sigma"], y, "k|", markersize=12, label="sigma")
            ax.set_xlabel("Morris mu* (change over the range)")
        else:
            ax.barh(y + 0.2, part["ST"], height=0.4, xerr=part["ST_conf"], color="tab:blue", label="total ST")
            ax.barh(y - 0.2, part["S1"], height=0.4, xerr=part["S1_conf"], color="tab:orange", label="first order S1")
            ax.set_xlabel("Sobol index (share of variance)")
        ax.set_yticks(y, part["parameter"], fontsize=8)
        ax.set_title(output, fontsize=10)
        ax.axvline(0, color="grey", lw=0.5)
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{design.scenario.name}: sensitivity ({design.spec.method}, {design.spec.samples} samples, "
                 f"{design.spec.replications} replications per point)", fontsize=11)
    return fig


def plot_winners(design: Design, points: pd.DataFrame, shares: pd.DataFrame, decide: pd.DataFrame):
    """Left: the share of the space each wins. Right: the winner over the two deciding parameters."""
    fig = new_figure(11, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=[1, 2.2])
    colors = {design.x: "tab:green", design.y: "tab:red", "tie": "tab:grey"}
    left.bar(shares["winner"], shares["share"], color=[colors[w] for w in shares["winner"]], alpha=0.4,
             label="wins")
    left.bar(shares["winner"], shares["clear_share"], color=[colors[w] for w in shares["winner"]],
             label="wins clearly")
    left.set_ylim(0, 1)
    left.set_ylabel(f"share of the sampled space (by {design.spec.winner_by})")
    left.legend(fontsize=8)
    top = list(decide["parameter"][:2])
    rng = np.random.default_rng(0)
    if len(top) == 1:
        top = top * 2
    jitter = [0.01 * np.ptp(points[p].to_numpy(float)) or 0.01 for p in top]
    for who, color in colors.items():
        mine = points[points["winner"] == who]
        if mine.empty:
            continue
        xs = mine[top[0]] + rng.normal(0, jitter[0], len(mine))
        ys = mine[top[1]] + rng.normal(0, jitter[1], len(mine))
        right.scatter(xs, ys, c=color, s=np.where(mine["clear"], 28, 10), alpha=0.7, label=f"{who} wins")
    first = decide.iloc[0]
    if first["rule"] and first["balanced_accuracy"] >= 0.6:
        right.axvline(first["threshold"], color="k", ls="--", lw=1,
                      label=f"{first['rule']}: {design.x} wins {first['density']:.0%}")
    right.set_xlabel(top[0])
    right.set_ylabel(top[1])
    right.legend(fontsize=7, loc="best")
    right.set_title("winner at each sample point (large: clear)", fontsize=10)
    fig.suptitle(f"When does {design.x} beat {design.y}?", fontsize=11)
    return fig
