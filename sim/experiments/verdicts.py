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


MEASURES = {  # kpi: (the label in tables, more / fewer, the clause of a verdict)
    "retention": ("kept from month 0 %", "keeps {amount} points {more} of its customers"),
    "customer_base": ("customer base vs month 0 %", "grows its customer base {amount} points {more}"),
    "share_gain": ("share gained since month 0, pts", "gains {amount} points {more} market share since month 0"),
}


def money_unit(scenario: Scenario) -> str:
    """The currency shown after amounts ('' for plain units)."""
    return "" if scenario.currency == "units" else scenario.currency


def verdicts(comparison: pd.DataFrame, scenario: Scenario, summary: pd.DataFrame | None = None) -> list[str]:
    """One plain sentence per arm (or firm): the paired differences from the baseline, in the
    scenario's measure and in NPV."""
    groups, months = scenario.groups, scenario.market.months
    base, measure = groups.baseline, groups.share_measure
    lines = []
    for group in comparison["compared"].drop_duplicates():
        if group == base:
            continue
        kept = row(comparison, group, measure)
        more = kept["diff"] >= 0
        words = {"more": "more" if more else ("less" if measure == "share_gain" else "fewer")}
        if measure == "customer_base":
            words["more"] = "more" if more else "less"
        what = MEASURES[measure][1].format(amount=f"{abs(kept['diff']):.1f}", **words)
        npv = row(comparison, group, "npv")
        amount, low, high = amounts([abs(npv["diff"]), npv["diff_low"], npv["diff_high"]])
        amount = f"{amount} {money_unit(scenario)}".rstrip()
        gains = "adds" if npv["diff"] >= 0 else "loses"
        sentence = (f"{group} {what} than {base} after {months} months "
                    f"(95% CI {kept['diff_low']:.1f} to {kept['diff_high']:.1f}{_noise(kept)}) "
                    f"and {gains} {amount} in NPV ({low} to {high}{_noise(npv)}).")
        if groups.head_to_head and summary is not None:
            wide = summary.pivot(index="replication", columns="firm", values="customers")
            wins = int((wide[group] > wide[base]).sum())
            sentence += f" {group} has more customers than {base} in {wins} of {len(wide)} replications."
        lines.append(sentence)
    if scenario.posterior is not None:  # calibrated to the firm's data: the verdicts as probabilities
        from .decision import given_the_data

        lines += given_the_data(summary, scenario)
    return lines


def _money_diff(found: pd.Series) -> str:
    d, low, high = amounts([found["diff"], found["diff_low"], found["diff_high"]], sign=True)
    return f"{d} [{low}, {high}]"


def _points_diff(found: pd.Series) -> str:
    return f"{found['diff']:+.1f} [{found['diff_low']:+.1f}, {found['diff_high']:+.1f}]"


def comparison_rows(comparison: pd.DataFrame, scenario: Scenario) -> tuple[list[str], list[list[str]]]:
    """Per arm (or firm) the means, and the paired differences from the baseline: header and rows.
    Arms show both customers kept from month 0 and the customer base vs month 0; head to head,
    the share at the horizon and the share gained since month 0 (the verdict's measure)."""
    groups = scenario.groups
    unit = f" ({money_unit(scenario)})" if money_unit(scenario) else ""
    shares = ("market_share", "share_gain") if groups.head_to_head else ("retention", "customer_base")
    labels = (("share %", "share gained since month 0, pts [95% CI]") if groups.head_to_head else
              ("kept from month 0 %", "diff pts [95% CI]", "customer base vs month 0 %", "diff pts [95% CI]"))
    # NPS is in comparison.csv but not here: it hardly moves when a policy moves retention (docs/MODEL.md)
    headers = [groups.word, *labels, "customers", f"NPV{unit}", "NPV diff [95% CI]"]
    rows = []
    for group in groups.names:
        first, second, npv, customers = (row(comparison, group, kpi) for kpi in (*shares, "npv", "customers"))
        base = group == groups.baseline
        if groups.head_to_head:
            cells = [f"{first['mean']:.1f}", "baseline" if base else _points_diff(second)]
        else:
            cells = [f"{first['mean']:.1f}", "baseline" if base else _points_diff(first),
                     f"{second['mean']:.1f}", "baseline" if base else _points_diff(second)]
        rows.append([group, *cells, f"{customers['mean']:,.0f}", money(npv["mean"]),
                     "baseline" if base else _money_diff(npv)])
    return headers, rows


def comparison_table(comparison: pd.DataFrame, scenario: Scenario) -> str:
    """The comparison as a text table for the terminal."""
    return text_table(*comparison_rows(comparison, scenario))
