"""The verdict: one plain sentence per compared arm (or firm), and the comparison as a text table.

Every number in a sentence comes from the paired comparison (`stats.compare`): the mean
difference from the baseline over replications with its 95% interval, and a warning when
the interval includes zero.
"""

from __future__ import annotations

import pandas as pd

from ..formatting import amounts, money, text_table
from ..scenario import Scenario


def row(comparison: pd.DataFrame, group: str, kpi: str) -> pd.Series:
    return comparison[(comparison["compared"] == group) & (comparison["kpi"] == kpi)].iloc[0]


def _noise(found: pd.Series) -> str:
    return "; the interval includes zero, so no clear difference" if found["diff_includes_zero"] else ""


def verdicts(comparison: pd.DataFrame, scenario: Scenario, summary: pd.DataFrame | None = None) -> list[str]:
    """One plain sentence per arm (or firm): the paired differences from the baseline."""
    groups, months = scenario.groups, scenario.market.months
    base = groups.baseline
    lines = []
    for group in comparison["compared"].drop_duplicates():
        if group == base:
            continue
        kept = row(comparison, group, groups.share_measure)
        more = kept["diff"] >= 0
        if groups.head_to_head:  # share gained since month 0, so a starting gap left by the warm-up does not count
            what = f"gains {abs(kept['diff']):.1f} points {'more' if more else 'less'} market share"
        else:
            what = f"keeps {abs(kept['diff']):.1f} points {'more' if more else 'fewer'} of its customers"
        npv = row(comparison, group, "npv")
        amount, low, high = amounts([abs(npv["diff"]), npv["diff_low"], npv["diff_high"]])
        gains = "adds" if npv["diff"] >= 0 else "loses"
        sentence = (f"{group} {what} than {base} after {months} months "
                    f"(95% CI {kept['diff_low']:.1f} to {kept['diff_high']:.1f}{_noise(kept)}) "
                    f"and {gains} {amount} in NPV ({low} to {high}{_noise(npv)}).")
        if groups.head_to_head and summary is not None:
            wide = summary.pivot(index="replication", columns="firm", values="customers")
            wins = int((wide[group] > wide[base]).sum())
            sentence += f" {group} has more customers than {base} in {wins} of {len(wide)} replications."
        lines.append(sentence)
    return lines


def _money_diff(found: pd.Series) -> str:
    d, low, high = amounts([found["diff"], found["diff_low"], found["diff_high"]], sign=True)
    return f"{d} [{low}, {high}]"


def comparison_rows(comparison: pd.DataFrame, scenario: Scenario) -> tuple[list[str], list[list[str]]]:
    """Per arm (or firm) the means, and the paired differences from the baseline: header and rows."""
    groups = scenario.groups
    first = "market_share" if groups.head_to_head else "retention"
    headers = [groups.word, "share %" if groups.head_to_head else "retention %", "diff pts [95% CI]", "customers",
               "revenue", "revenue diff [95% CI]", "NPV", "NPV diff [95% CI]", "NPS"]
    rows = []
    for group in groups.names:
        kept, revenue, npv, customers, nps = (row(comparison, group, kpi)
                                              for kpi in (first, "revenue", "npv", "customers", "nps"))
        base = group == groups.baseline
        kept_diff = "baseline" if base else f"{kept['diff']:+.1f} [{kept['diff_low']:+.1f}, {kept['diff_high']:+.1f}]"
        rows.append([group, f"{kept['mean']:.1f}", kept_diff, f"{customers['mean']:,.0f}",
                     money(revenue["mean"]), "baseline" if base else _money_diff(revenue),
                     money(npv["mean"]), "baseline" if base else _money_diff(npv), f"{nps['mean']:.1f}"])
    return headers, rows


def comparison_table(comparison: pd.DataFrame, scenario: Scenario) -> str:
    """The comparison as a text table for the terminal."""
    return text_table(*comparison_rows(comparison, scenario))
