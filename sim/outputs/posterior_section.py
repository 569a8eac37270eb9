"""The section a run's report gains when its scenario was calibrated (it carries a posterior):
what the firm's assumptions were fitted to, how well, and what the data leave uncertain."""

from __future__ import annotations

import html
import math

import numpy as np


def _g(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}" if isinstance(x, float) else str(x)


def _table(headers: list[str], rows: list[list]) -> str:
    e = html.escape
    out = ["<table><thead><tr>", *[f"<th>{e(h)}</th>" for h in headers], "</tr></thead><tbody>"]
    for row in rows:
        out += ["<tr>", *[f"<td>{e(_g(cell))}</td>" for cell in row], "</tr>"]
    return "".join(out + ["</tbody></table>"])


def run_section(results) -> list[str]:
    """HTML parts for report.html of a run whose scenario has a posterior: what it was fitted
    to, how well, and what it leaves uncertain (empty without a posterior)."""
    post = results.scenario.posterior
    if post is None:
        return []
    e = html.escape
    rows = [[row.get("label", ""), row.get("observed"), row.get("simulated_best"),
             f"{_g(row.get('simulated_5'))} to {_g(row.get('simulated_95'))}"] for row in post.fit]
    draws = np.array(post.draws)
    spread = [[name, f"{_g(float(np.quantile(draws[:, j], 0.05)))} to {_g(float(np.quantile(draws[:, j], 0.95)))}"]
              for j, name in enumerate(post.parameters)]
    return [
        "<h2>Calibrated to the firm's data</h2>",
        f"<p>{e(post.firm)}'s free assumptions were fitted to its own figures (<code>{e(post.source)}</code>). "
        f"Every replication of every arm draws them from the posterior sample ({len(post.draws)} draws, "
        f"{_g(post.effective_draws)} effective), the same draw in every arm, so the differences between arms carry "
        f"the uncertainty the data leave as well as the market's luck.</p>",
        _table(["parameter", "posterior 90%"], spread),
        _table(["figure", "observed", "simulated at the best fit", "posterior 90%"], rows) if rows else "",
        *(["<ul>", *[f"<li>{e(w)}</li>" for w in post.warnings], "</ul>"] if post.warnings else []),
    ]

