"""What a fit found: its tables, its warnings and calibrated.yaml, from trials.db and the saved runs.

    outcome = finalize(folder)     # after calibration.calibrate(folder, executor)

writes into the calibration folder

    trials.csv          every trial: stage, the parameters, the log-likelihood and its parts,
                        the simulated figures, and (posterior draws) the importance weight
    parameters.csv      each free parameter: prior, the scenario's value, best fit, posterior
                        mean and 5% / 50% / 95%, and how much of its prior range the data leave
    posterior.csv       the posterior sample (sampling-importance resampling; `posterior.py`)
    fit.csv             each figure: observed with its 95% sampling interval, simulated at the
                        best fit and with parameters from the posterior (median, 90% interval)
    calibrated.yaml     the scenario with the best-fit values and the posterior sample: `grapevine
                        run calibrated.yaml` draws each replication's values from it
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from .. import observations
from ..scenario import validate
from ..scenario.calibration import sample_of
from . import posterior
from .calibration import Fit, _table, open_study, proposals, unit_values
from .folder import RunFolder, atomic_text

LEVEL = 0.90  # the posterior intervals
UNPINNED = 0.5  # the posterior's 90% interval, as a share of the prior's, above this: hardly pinned down
TRADE_OFF = 0.6  # |posterior correlation| from this: a pair trades off
EDGE = 0.02  # a posterior quantile this close to an end of the prior range presses against it
FEW_DRAWS = 10  # effective posterior draws below this: too few
FILES = ("trials.csv", "parameters.csv", "posterior.csv", "fit.csv", "calibrated.yaml")


@dataclass
class Outcome:
    """A finished fit, as tables and sentences."""

    fit: Fit
    trials: pd.DataFrame
    parameters: pd.DataFrame
    sample: pd.DataFrame
    fit_table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    effective_draws: float = 0.0
    best: dict = field(default_factory=dict)
    calibrated: dict = field(default_factory=dict)


def finalize(folder: RunFolder) -> Outcome:
    fit: Fit = folder.plan
    study = open_study(folder)
    trials = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
    names = [p.name for p in fit.free]
    z, loglik, drawn = _table(fit, trials, "posterior")
    weights = np.zeros(0)
    if drawn:
        used = proposals(fit, trials)
        counts = [sum(t.user_attrs.get("round") == r + 1 for t in drawn) for r in range(len(used))]
        used, counts = [p for p, c in zip(used, counts) if c], [c for c in counts if c]
        weights = posterior.normalised(posterior.log_weights(z, loglik, used, counts))
    table = _trials_table(fit, trials, drawn, weights)
    best = max(trials, key=lambda t: (t.value, -t.number))
    rng = np.random.default_rng(np.random.SeedSequence([fit.seed, 0x5A3B]))
    if drawn:
        values = np.array([[t.params[n] for n in names] for t in drawn])
        chosen = posterior.resample(weights, fit.settings.posterior_draws, rng)
        sample_values, effective = values[chosen], posterior.effective_size(weights)
    else:  # too few trials for a posterior stage: the best fit alone
        values, weights = np.array([[best.params[n] for n in names]]), np.ones(1)
        sample_values, effective = values, 1.0
    sample = pd.DataFrame([[p.setting(_nice(v)) for p, v in zip(fit.free, row)] for row in sample_values],
                          columns=names)
    sample.insert(0, "draw", range(len(sample)))
    parameters = _parameters_table(fit, best, values, weights)
    fit_table = _fit_table(fit, best, drawn, weights)
    warnings = _warnings(fit, parameters, values, weights, effective, fit_table)
    outcome = Outcome(fit, table, parameters, sample, fit_table, warnings, effective,
                      {n: best.params[n] for n in names} | {"log_likelihood": best.value, "trial": best.number})
    outcome.calibrated = calibrated_scenario(outcome, str(folder.path))
    for name, frame in (("trials.csv", table), ("parameters.csv", parameters), ("posterior.csv", sample),
                        ("fit.csv", fit_table)):
        folder.write(name, frame)
    atomic_text(folder.path / "calibrated.yaml", calibrated_yaml(outcome))
    folder.finish(calibration={"trials": len(trials), "best": outcome.best, "effective_draws": round(effective, 1),
                               "warnings": warnings})
    return outcome


def calibrate_scenario(scenario, workers: int = 1, out=None, progress: bool = False) -> Outcome:
    """Fit a scenario (with observed and calibrate sections) in one call: in `out`, kept, or in a
    temporary folder that is removed (the Outcome holds every table; `outcome.calibrated` is the
    calibrated scenario as data, `sim.scenario.from_data(outcome.calibrated)` makes it a Scenario)."""
    from .calibration import calibrate, design
    from .executors import make_executor
    from .folder import kept_or_temporary

    with kept_or_temporary(out, scenario.name) as where:
        folder = RunFolder.create(design(scenario), where)
        calibrate(folder, make_executor(workers), progress=progress)
        return finalize(folder)


def _nice(x: float, digits: int = 6) -> float:
    return float(f"{float(x):.{digits}g}")


def _trials_table(fit: Fit, trials, drawn, weights) -> pd.DataFrame:
    weight_of = {t.number: w for t, w in zip(drawn, weights)}
    rows = []
    for t in trials:
        row = {"trial": t.number, "stage": t.user_attrs.get("stage", "search"), "round": t.user_attrs.get("round"),
               **{p.name: t.params[p.name] for p in fit.free}, "log_likelihood": t.value}
        row |= {f"loglik_{k}": v for k, v in (t.user_attrs.get("loglik_parts") or {}).items()}
        for k, v in (t.user_attrs.get("simulated") or {}).items():
            for label, x in zip(_labels(k), v):
                row[f"simulated_{label}"] = x
        row["weight"] = weight_of.get(t.number, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _labels(name: str) -> list[str]:
    return list(observations.SURVEY) if name == "nps_survey" else [name]


def _parameters_table(fit: Fit, best, values: np.ndarray, weights: np.ndarray) -> pd.DataFrame:
    u = unit_values(fit, values)
    rows = []
    for j, p in enumerate(fit.free):
        q = [posterior.weighted_quantile(values[:, j], weights, level) for level in (0.05, 0.5, 0.95)]
        mean = float(np.average(values[:, j], weights=weights))
        # the posterior's 90% interval as a share of the prior's (on the prior's scale): 1 = no narrower
        width = (posterior.weighted_quantile(u[:, j], weights, 0.95) - posterior.weighted_quantile(u[:, j], weights,
                                                                                                   0.05)) / 0.9
        rows.append({"parameter": p.name, "prior_low": p.low, "prior_high": p.high, "log": p.log,
                     "scenario_value": p.default, "best_fit": best.params[p.name], "posterior_mean": mean,
                     "posterior_5": q[0], "posterior_50": q[1], "posterior_95": q[2], "prior_range_left": width})
    return pd.DataFrame(rows)


def _observed_interval(fit: Fit, name: str) -> list[tuple[float, float, float]]:
    """The firm's figure (each share of a survey) with its 95% sampling interval."""
    figure = getattr(fit.observed, name)
    months = fit.observed.period(name)
    if name == "nps_survey":
        n = figure.respondents
        return [(p, max(0.0, p - 1.96 * math.sqrt(p * (1 - p) / n)), min(1.0, p + 1.96 * math.sqrt(p * (1 - p) / n)))
                for p in figure.shares]
    if figure.tolerance is not None:
        return [(figure.value, figure.value - 1.96 * figure.tolerance, figure.value + 1.96 * figure.tolerance)]
    if name == "new_customers":
        half = 1.96 * math.sqrt(max(figure.value * months, 1.0)) / months
        return [(figure.value, max(0.0, figure.value - half), figure.value + half)]
    scale = observations.STATISTICS[name].scale
    n = sample_of(fit.original, name)
    p = figure.value / scale
    half = 1.96 * math.sqrt(max(p * (1 - p), 1.0 / n) / n)
    return [(figure.value, scale * max(0.0, p - half), scale * min(1.0, p + half))]


def _fit_table(fit: Fit, best, drawn, weights) -> pd.DataFrame:
    rows = []
    for name in fit.observed.statistics():
        statistic = observations.STATISTICS[name]
        at_best = best.user_attrs["simulated"][name]
        for k, (label, (value, low, high)) in enumerate(zip(_labels(name), _observed_interval(fit, name))):
            sims = np.array([t.user_attrs["simulated"][name][k] for t in drawn]) if drawn else np.array([at_best[k]])
            w = weights if drawn else np.ones(1)
            q = [posterior.weighted_quantile(sims, w, level) for level in (0.05, 0.5, 0.95)]
            rows.append({"statistic": label, "label": statistic.label if name != "nps_survey" else f"NPS survey: {label}",
                         "unit": statistic.unit, "months": fit.observed.period(name), "observed": value,
                         "observed_low": low, "observed_high": high, "simulated_best": at_best[k],
                         "simulated_5": q[0], "simulated_50": q[1], "simulated_95": q[2],
                         "best_within_observed": bool(low <= at_best[k] <= high),
                         "log_likelihood_best": best.user_attrs["loglik_parts"][name]})
    return pd.DataFrame(rows)


def _warnings(fit: Fit, parameters: pd.DataFrame, values, weights, effective, fit_table) -> list[str]:
    out = []
    if len(weights) > 1 and effective < FEW_DRAWS:
        out.append(f"the posterior sample rests on {effective:.1f} effective draws: run more trials (--trials) for "
                   f"a posterior that is not a handful of points")
    for _, row in parameters.iterrows():
        low, high = row["prior_low"], row["prior_high"]
        if row["prior_range_left"] > UNPINNED:
            out.append(f"the data hardly pin down {row['parameter']}: its 90% posterior interval "
                       f"{_g(row['posterior_5'])} to {_g(row['posterior_95'])} is {row['prior_range_left']:.0%} as "
                       f"wide as the prior's (range {_g(low)} to {_g(high)}); results that depend on it rest on the "
                       f"prior")
        width = high - low
        if row["posterior_95"] <= low + EDGE * width or row["posterior_5"] >= high - EDGE * width or \
                (row["prior_range_left"] <= UNPINNED and (row["posterior_5"] <= low + EDGE * width or
                                                          row["posterior_95"] >= high - EDGE * width)):
            end = "low" if row["posterior_50"] - low < high - row["posterior_50"] else "high"
            out.append(f"{row['parameter']} presses against the {end} end of its prior range "
                       f"({_g(low if end == 'low' else high)}): the data may want a value outside it; widen the "
                       f"range if such a value is plausible")
    if len(weights) > 2 and values.shape[1] > 1:
        u = unit_values(fit, values)
        cov = np.cov(u, rowvar=False, aweights=np.maximum(weights, 1e-300))
        sd = np.sqrt(np.maximum(np.diag(cov), 1e-300))
        names = [p.name for p in fit.free]
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rho = cov[i, j] / (sd[i] * sd[j])
                if abs(rho) >= TRADE_OFF:
                    how = "one up, the other down" if rho < 0 else "both up or both down"
                    out.append(f"{names[i]} and {names[j]} trade off (posterior correlation {rho:+.2f}, {how}): the "
                               f"data fix a combination of them more than either")
    for _, row in fit_table.iterrows():
        inside = row["simulated_5"] <= row["observed_high"] and row["observed_low"] <= row["simulated_95"]
        if not row["best_within_observed"] and not inside:
            out.append(f"the model does not reproduce {row['label']}: observed {_g(row['observed'])}, simulated "
                       f"{_g(row['simulated_best'])} at the best fit ({_g(row['simulated_5'])} to "
                       f"{_g(row['simulated_95'])} over the posterior); free a parameter that moves it, or check "
                       f"the figure's definition (docs/MODEL.md 7.11)")
    return out


def _g(x: float) -> str:
    return f"{x:.3g}"


def printout(outcome: Outcome) -> str:
    """The fit for the terminal: the parameters, the figures, the warnings, the files."""
    from ..formatting import text_table

    g = lambda x: f"{x:.3g}"  # noqa: E731
    params = text_table(["parameter", "prior", "was", "best fit", "posterior 90%"],
                        [[r.parameter, f"{g(r.prior_low)} to {g(r.prior_high)}", g(r.scenario_value), g(r.best_fit),
                          f"{g(r.posterior_5)} to {g(r.posterior_95)}"] for r in outcome.parameters.itertuples()])
    figures = text_table(["figure", "months", "observed [95%]", "best fit", "posterior 90%"],
                         [[r.label, str(r.months), f"{g(r.observed)} [{g(r.observed_low)}, {g(r.observed_high)}]",
                           g(r.simulated_best), f"{g(r.simulated_5)} to {g(r.simulated_95)}"]
                          for r in outcome.fit_table.itertuples()])
    lines = [params, "", figures, ""]
    lines += [f"- warning: {w}" for w in outcome.warnings] or ["- no warnings: every parameter is pinned down, no "
                                                                "pair trades off, every figure is reproduced"]
    path = outcome.calibrated["posterior"]["source"]
    lines += ["", f"files: {path}/ ({', '.join(FILES)}, trials.db, manifest.json)"]
    return "\n".join(lines)


# --- calibrated.yaml ------------------------------------------------------------------------------
def calibrated_scenario(outcome: Outcome, source: str) -> dict:
    """The scenario as written, with the best-fit values and the posterior sample."""
    import copy

    fit = outcome.fit
    data = copy.deepcopy(fit.experiment.extra["original"])
    name = f"{data['name']}-calibrated"
    data["name"] = name if len(name) <= 60 else data["name"][:49] + "-calibrated"
    for p in fit.free:
        target = data
        for part in p.path[:-1]:
            target = target[part]
        target[p.path[-1]] = p.setting(_nice(outcome.best[p.name]))
    data["posterior"] = {
        "firm": fit.original.firms[fit.firm].name,
        "parameters": [p.name for p in fit.free],
        "draws": outcome.sample[[p.name for p in fit.free]].values.tolist(),
        "method": "sampling-importance resampling of rounds of importance draws around the best fit "
                  "(docs/CALIBRATION.md)",
        "source": source,
        "fit": [{k: (_nice(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                 if k in ("label", "months", "observed", "observed_low", "observed_high", "simulated_best",
                          "simulated_5", "simulated_95")} for row in outcome.fit_table.to_dict("records")],
        "warnings": outcome.warnings,
        "effective_draws": round(outcome.effective_draws, 1),
    }
    validate(copy.deepcopy(data), "calibrated.yaml")  # what is written is a valid scenario
    return data


class _Dumper(yaml.SafeDumper):
    pass


def _row(dumper, values):
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return dumper.represent_sequence("tag:yaml.org,2002:seq", values, flow_style=True)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", values)


_Dumper.add_representer(list, _row)


def calibrated_yaml(outcome: Outcome) -> str:
    fit = outcome.fit
    head = [f"# {outcome.calibrated['name']}: {fit.original.name} calibrated to the firm's own figures by "
            f"`grapevine calibrate`.",
            f"# The free parameters are at their best fit ({', '.join(p.name for p in fit.free)});",
            "# `grapevine run` on this file draws each replication's values from the posterior sample below",
            "# (the same draw in every arm), and its verdicts give probabilities given the data.",
            f"# {len(outcome.sample)} posterior draws, {outcome.effective_draws:.0f} effective; trials: "
            f"{len(outcome.trials)}; see {outcome.calibrated['posterior']['source']}/report.html", ""]
    return "\n".join(head) + yaml.dump(outcome.calibrated, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                        width=120)
