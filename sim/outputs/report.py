"""Figures and a self-contained report for a run folder, from saved results only.

    grapevine plot RUN_DIR          # or, in Python:
    from sim.outputs.report import write_outputs
    write_outputs("results/renewal-neglect/20250101-120000")

writes into the run folder

    figures/<name>.png, figures/<name>.svg   one per figure of `sim.plots`
    figures/negative-talk.gif                word of mouth after a wave of failures (animated)
    report.html                              the scenario in words, the verdicts, the comparison
                                             table and every figure inlined: opens offline, can be mailed

A figure that fails is reported and skipped; the others and the report are still written.
"""

from __future__ import annotations

import base64
import html
import io
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..experiments.folder import atomic_text, atomic_write
from ..experiments.robustness import cost_sentence
from ..experiments.run import replications_sentence
from ..experiments.verdicts import comparison_rows
from ..scenario import policy_data
from . import plots, posterior_section
from .firm_size import market_sentence
from .results import Results

DPI = 110
ANIMATION = "negative-talk"

CAPTIONS = {
    "robustness": ("What each verdict hinges on",
                   "The paired difference from the baseline when one assumption at a time moves to an end of its "
                   "plausible range (bars), on other network families (diamonds), and in the run (the line). "
                   "An assumption whose bar crosses zero can flip the verdict."),
    "poster": ("The verdict on one page",
               "The question, the verdict sentences, and the pictures behind them: customers kept over time, "
               "the paired differences from the baseline with their 95% intervals, and the mood at the horizon."),
    "retention": ("Customers kept over time",
                  "Each line is the mean share of the month-0 customers still with the firm; the band spans the "
                  "lowest to the highest replication. The value at the right edge is the retention in the table."),
    "market-share": ("Market share over time",
                     "Each firm's share of all customers, mean and range across replications. The value at the "
                     "right edge is the share in the table."),
    "money": ("Revenue, profit and NPV",
              "Top: money earned to date per arm. Bottom: the paired difference from the baseline at the horizon "
              "with its 95% interval (hollow marker: the interval includes zero, no clear difference)."),
    "moods": ("Mood composition over time",
              "Customers by mood, stacked, with everyone who left since month 0 on top (mean of replications)."),
    "word-of-mouth": ("Word of mouth and acquisitions",
                      "What people say each month (negative messages, referrals, defences) and where customers "
                      "come from (advertising, referral) and how many leave; 3-month moving averages."),
    "network": ("The social network of a small market",
                "A market of 400 people with this scenario's settings: who knows whom, and how the customers feel."),
    ANIMATION: ("Negative talk after a wave of failures",
                "The same small market; for one month the firm fails far more often. Triangles tell 10-15 people, "
                "squares hear bad news, crosses have left. The bars count negative messages per month."),
}


@dataclass
class Outputs:
    """What `write_outputs` wrote, and what failed."""

    figures: dict[str, list[Path]] = field(default_factory=dict)
    report: Path | None = None
    problems: list[str] = field(default_factory=list)


def write_outputs(run_dir: str | Path, animation: bool = True, log: Callable[[str], None] | None = None) -> Outputs:
    """Draw every figure of the run folder into figures/ (PNG and SVG) and write report.html."""
    results = Results.load(run_dir)
    folder = Path(run_dir) / "figures"
    folder.mkdir(exist_ok=True)
    outputs = Outputs()
    inline: dict[str, tuple[str, bytes]] = {}
    for name, draw in results.figures().items():
        try:
            figure = draw(results)
            png = _png(figure)
            atomic_write(folder / f"{name}.png", lambda temp: temp.write_bytes(png))
            atomic_write(folder / f"{name}.svg", lambda temp: figure.savefig(temp, format="svg"))
            outputs.figures[name] = [folder / f"{name}.png", folder / f"{name}.svg"]
            inline[name] = ("image/png", png)
        except Exception as error:  # one figure must not cost the others or the report
            outputs.problems.append(f"{name}: {type(error).__name__}: {error}")
            if log:
                log(f"warning: figure {name} failed: {''.join(traceback.format_exception_only(error)).strip()}")
    if animation and results.showcase is not None:
        try:
            gif, temp = folder / f"{ANIMATION}.gif", folder / f".{ANIMATION}.tmp.gif"  # Pillow needs .gif
            try:
                plots.negative_talk_animation(results, path=temp)
                temp.replace(gif)
            finally:
                temp.unlink(missing_ok=True)
            outputs.figures[ANIMATION] = [gif]
            inline[ANIMATION] = ("image/gif", gif.read_bytes())
        except Exception as error:
            outputs.problems.append(f"{ANIMATION}: {type(error).__name__}: {error}")
            if log:
                log(f"warning: the animation failed: {type(error).__name__}: {error}")
    report = Path(run_dir) / "report.html"
    atomic_text(report, render(results, inline, outputs.problems))
    outputs.report = report
    return outputs


def _png(figure) -> bytes:
    """The PNG; the layout is computed once here and then frozen, so the SVG reuses it."""
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


# --- the report ---------------------------------------------------------------------------------
def _policy_text(policy: dict) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in policy.items() if k != "kind")
    return f"{policy['kind']}({settings})" if settings else policy["kind"]


def _money_words(scenario) -> str:
    return "the unit of the price" if scenario.currency == "units" else scenario.currency


def _percent(value: float) -> str:
    return f"{100 * value:.3g}%"


def describe(results: Results) -> list[str]:
    """The scenario in plain sentences (HTML-escaped)."""
    s, m = results.scenario, results.scenario.market
    e = html.escape
    only = s.firms[0] if len(s.firms) == 1 else None  # one firm: its own contract and price, if it states them
    months = only.contract_months if only is not None and only.contract_months is not None else m.contract_months
    price = only.price if only is not None and only.price is not None else m.price
    text = [e(f"{market_sentence(results)} Contracts last {months} months; "
              f"the price is {price:g} {'' if s.currency == 'units' else s.currency + ' '}a month; NPV discounts profits at {_percent(m.discount_rate)} a year.")]
    text.append(e(results.churn_sentence()))
    firms = []
    for firm in s.firms:
        policies = ", ".join(_policy_text(policy_data(p)) for p in firm.policies)
        firms.append(f"{firm.name}: quality {firm.quality:g} (0-1), a service failure for "
                     f"{_percent(firm.failure_rate)} of its customers a month"
                     + (f", policies {policies}" if policies else ""))
    text.append(e("The firms: " + "; ".join(firms) + "."))
    if results.head_to_head:
        text.append(e(f"The firms compete on one network; the comparison is with {s.baseline}."))
    else:
        arms = []
        for arm in s.compare.arms:
            what = f"{arm.description} - " if arm.description else ""
            changes = "the firm as written" if arm.name == s.baseline else arm.changes()
            arms.append(f"<li><b>{e(arm.name)}</b>{' (baseline)' if arm.name == s.baseline else ''}: {e(what)}"
                        f"<code>{e(changes)}</code></li>")
        text.append(e(f"Each arm is {results.groups.focal_firm} as written (the baseline) with the changes it "
                      f"names, everything else equal:") + f"<ul>{''.join(arms)}</ul>")
    text.append(e(f"Every {results.groups.word} runs {results.replications} replications over {m.months} months. "
                  f"Replication r of every {results.groups.word} meets the same network and the same luck "
                  f"(common random numbers), so differences are paired; intervals are 95% t-intervals of the "
                  f"paired differences (seed {s.seed})."))
    decided = replications_sentence(results.manifest)
    if decided:
        text.append(e(decided))
    return text


STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; font-size: 18px;
       line-height: 1.5; color: #1a1a1a; max-width: 1250px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 2px solid #ddd; }
.meta { color: #555; font-size: 0.85em; } .question { font-style: italic; font-size: 1.1em; }
.verdicts li { margin: 0.5em 0; } .verdicts { background: #f4f4f4; padding: 0.8em 0.8em 0.8em 2em; border-radius: 6px; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; } th, td { padding: 0.35em 0.7em; }
th { background: #e9e9e9; text-align: left; } td { text-align: right; border-bottom: 1px solid #ddd; }
td:first-child { text-align: left; font-weight: bold; } tr.baseline td { background: #fafafa; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #333; font-size: 0.9em; margin-top: 0.3em; } code { font-size: 0.8em; color: #444; }
.problems { color: #a33; }
"""


def render(results: Results, images: dict[str, tuple[str, bytes]], problems: list[str] = ()) -> str:
    """The report as one HTML page with every image inlined (base64)."""
    e = html.escape
    s, manifest = results.scenario, results.manifest
    verdicts = results.verdicts
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(s.name)} - Grapevine report</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(s.description or s.name)}</h1>",
        f'<p class="meta">Scenario <b>{e(s.name)}</b> ({e(str(manifest.get("scenario_file") or ""))}'
        f'{"; overrides " + e(" ".join(manifest.get("overrides") or [])) if manifest.get("overrides") else ""})'
        f' - run finished {e(str(manifest.get("finished") or "?"))} - grapevine '
        f'{e(str((manifest.get("versions") or {}).get("grapevine", "?")))}'
        f'{" at commit " + e(manifest["git"]["commit"][:10]) if manifest.get("git") else ""}</p>',
        "<h2>The question</h2>", f'<p class="question">{e(plots.question(results))}</p>',
        "<h2>The scenario in words</h2>", *[f"<p>{p}</p>" for p in describe(results)],
        "<h2>Verdict</h2>", '<ul class="verdicts">', *[f"<li>{e(v)}</li>" for v in verdicts], "</ul>",
        *(["<h2>What each verdict hinges on</h2>", "<ul>", *[f"<li>{e(line)}</li>" for line in results.robustness_lines],
           "</ul>", f'<p class="meta">{e(cost_sentence(manifest["robustness"]))} Every variant is in robustness.csv; '
           'the figure below shows the largest.</p>'] if results.robustness_lines else []),
        *posterior_section.run_section(results),  # a calibrated scenario: what it was fitted to
        "<h2>Comparison</h2>", _table_html(results),
        '<p class="meta">Means over the replications at the horizon; differences are paired, with 95% intervals '
        f'in brackets. Money is in {e(_money_words(s))}; K = thousand, M = million.</p>',
        "<h2>Figures</h2>",
    ]
    for name, (mime, data) in images.items():
        title, caption = CAPTIONS.get(name, (name, ""))
        parts.append(f'<figure id="{e(name)}"><h3>{e(title)}</h3>'
                     f'<img alt="{e(title)}" src="data:{mime};base64,{base64.b64encode(data).decode()}">'
                     f"<figcaption>{e(caption)}</figcaption></figure>")
    if problems:
        parts += ['<h2>Problems</h2><ul class="problems">', *[f"<li>{e(p)}</li>" for p in problems], "</ul>"]
    parts += [f'<p class="meta">Redraw the figures and this report from the saved data with '
              f'<code>grapevine plot {e(str(results.path or "RUN_DIR"))}</code>. The data: summary.csv, '
              f'comparison.csv, timeseries.parquet and manifest.json beside this file.</p>', "</body></html>"]
    return "\n".join(parts) + "\n"


def _table_html(results: Results) -> str:
    e = html.escape
    header, rows = comparison_rows(results.comparison, results.scenario)
    out = ["<table><thead><tr>", *[f"<th>{e(h)}</th>" for h in header], "</tr></thead><tbody>"]
    for row in rows:
        css = ' class="baseline"' if row[0] == results.baseline else ""
        out += [f"<tr{css}>", *[f"<td>{e(cell)}</td>" for cell in row], "</tr>"]
    return "".join(out + ["</tbody></table>"])
