"""Decisions under the firm's uncertainty: the verdicts of a calibrated scenario as probabilities.

In a run of a calibrated scenario (one with a `posterior`, written by `grapevine calibrate`),
replication r of every arm takes posterior draw r of the fitted parameters, so each paired
difference between arms is one draw from what the firm's data leave possible, the market's luck
included. Over the replications:

    P(X beats Y on NPV | your data) = the share of replications in which X's NPV exceeds Y's
                                      (a tie counts half)
    the 90% interval                = the 5th to the 95th percentile of the paired differences

(the interval of what may happen, not of a mean: it does not shrink with more replications).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..formatting import amounts
from ..scenario import Scenario

WORDS = {"retention": ("keeps more of its month-0 customers than", "points"),
         "customer_base": ("grows its customer base more than", "points"),
         "share_gain": ("gains more market share than", "points")}


def given_the_data(summary: pd.DataFrame, scenario: Scenario) -> list[str]:
    """One sentence per compared arm (or firm): P(it beats the baseline on NPV | the data), the
    mean paired difference and its 90% interval; the same for the scenario's measure."""
    groups = scenario.groups
    if scenario.posterior is None or summary is None or summary.empty:
        return []
    measure = groups.share_measure
    wide = groups.rows(summary).pivot(index="replication", columns="group", values=["npv", measure])
    currency = "" if scenario.currency == "units" else scenario.currency
    n = len(wide)
    lines = []
    for group in groups.others():
        npv = (wide[("npv", group)] - wide[("npv", groups.baseline)]).to_numpy(float)
        share = (wide[(measure, group)] - wide[(measure, groups.baseline)]).to_numpy(float)
        mean, low, high = amounts([npv.mean(), *np.quantile(npv, [0.05, 0.95])], currency="", sign=True)
        verb, unit = WORDS[measure]
        lines.append(
            f"P({group} beats {groups.baseline} on NPV | your data) = {_probability(npv):.2f}; {mean} "
            f"{currency} (90% interval {low} to {high}). P({group} {verb} {groups.baseline} | your data) = "
            f"{_probability(share):.2f}; {share.mean():+.1f} {unit} (90% interval {np.quantile(share, 0.05):+.1f} "
            f"to {np.quantile(share, 0.95):+.1f}). Over {n} replications, each drawing {scenario.posterior.firm}'s "
            f"fitted parameters from the posterior (the same draw in every arm).".replace("  ", " "))
    return lines


def _probability(differences: np.ndarray) -> float:
    return float(np.mean((differences > 0) + 0.5 * (differences == 0)))
