"""The sections of a scenario that tie it to a firm's own data (docs/CALIBRATION.md):

    observed:    what the firm measured about itself (its statistics: `sim.observations`)
    calibrate:   which assumptions are free, with their prior ranges, and how to fit them
    posterior:   written by `grapevine calibrate` into calibrated.yaml: a sample of the fitted
                 assumptions; `grapevine run` draws each replication's values from it

`observed` and `calibrate` are not part of a run (like `sweep`); `posterior` is.

A free parameter is named as an arm's `set` names settings: `market.NAME` (a market parameter),
`firm.NAME` (a setting of the observed firm) or `Kind.NAME` (a setting of a policy the observed
firm runs). Its prior is uniform over [low, high] (on a log scale with `log: true`); left out,
the range is the plausible range recorded beside the default (`sim.parameters.uncertain()`).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ..errors import Located
from ..firm import Firm
from ..parameters import MarketParameters, provenance
from ..policies import Policy

_STRICT = ConfigDict(extra="forbid")
SHARES_ADD_UP = 0.015  # survey shares may miss 1 by this much (rounding)


# --- observed ----------------------------------------------------------------------------------
class _Figure(BaseModel):
    """One statistic as the firm states it: its value, its period and what it rests on."""

    model_config = _STRICT
    months: int | None = Field(None, ge=1, le=120, description="the period: the first `months` months after "
                                                                "month 0 (default: observed.months)")
    sample: int | None = Field(None, ge=1, le=10**12, description="the count behind the figure (binomial); default "
                                                                  "as the statistic says")
    tolerance: float | None = Field(None, gt=0, allow_inf_nan=False,
                                    description="a figure without its count: the standard deviation of a normal "
                                                "likelihood, in the figure's unit")

    @model_validator(mode="after")
    def _one_kind(self):
        if self.sample is not None and self.tolerance is not None:
            raise ValueError("give sample (the count behind the figure) or tolerance (a figure only), not both")
        return self


class Share(_Figure):
    value: float = Field(ge=0, le=1, allow_inf_nan=False, description="a share, 0 to 1 (0.02 is 2%)")


class PerThousand(_Figure):
    value: float = Field(ge=0, le=1000, allow_inf_nan=False, description="per 1,000 customers a month")


class PerMonth(_Figure):
    value: float = Field(ge=0, le=1e9, allow_inf_nan=False, description="new customers a month")


class Survey(BaseModel):
    """A survey's shares of promoters (answer 9-10), passives (7-8) and detractors (0-6)."""

    model_config = _STRICT
    promoters: float = Field(ge=0, le=1, allow_inf_nan=False)
    passives: float = Field(ge=0, le=1, allow_inf_nan=False)
    detractors: float = Field(ge=0, le=1, allow_inf_nan=False)
    respondents: int = Field(ge=1, le=10**9, description="people who answered")
    months: int | None = Field(None, ge=1, le=120, description="taken at the end of this month (default: "
                                                                "observed.months)")

    @model_validator(mode="after")
    def _add_up(self):
        total = self.promoters + self.passives + self.detractors
        if abs(total - 1) > SHARES_ADD_UP:
            raise ValueError(f"promoters + passives + detractors = {total:.3g}: a survey's shares add up to 1")
        return self

    @property
    def shares(self) -> tuple[float, float, float]:
        total = self.promoters + self.passives + self.detractors
        return self.promoters / total, self.passives / total, self.detractors / total


class Observed(BaseModel):
    """What the firm measured about itself, each figure over the first months after month 0
    (docs/CALIBRATION.md, sim/observations.py)."""

    model_config = _STRICT
    firm: str | None = Field(None, description="whose figures (default: the compared firm, or the only one)")
    months: int = Field(12, ge=1, le=120, description="the period of every figure that gives none")
    churn: Share | None = Field(None, description="monthly churn: customers who left / customers at the start")
    complaints: PerThousand | None = Field(None, description="complaints per 1,000 customers a month")
    complaints_resolved: Share | None = Field(None, description="share of complaints resolved that month")
    new_customers: PerMonth | None = Field(None, description="new customers a month")
    referral_share: Share | None = Field(None, description="share of new customers who came through a referral")
    nps_survey: Survey | None = Field(None, description="NPS survey: shares of promoters, passives, detractors")
    recommended: Share | None = Field(None, description="share of customers who recommended the firm in the period")

    @model_validator(mode="after")
    def _something(self):
        if not self.statistics():
            raise ValueError("observed: give at least one statistic (churn, complaints, complaints_resolved, "
                             "new_customers, referral_share, nps_survey, recommended)")
        return self

    def statistics(self) -> dict[str, Any]:
        """The statistics given, by name, in a fixed order."""
        names = ("churn", "complaints", "complaints_resolved", "new_customers", "referral_share", "nps_survey",
                 "recommended")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def period(self, name: str) -> int:
        return getattr(self, name).months or self.months

    @property
    def horizon(self) -> int:
        """The months to simulate after month 0: the longest period."""
        return max(self.period(name) for name in self.statistics())


# --- calibrate ---------------------------------------------------------------------------------
class Prior(BaseModel):
    model_config = _STRICT
    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)
    log: bool = Field(False, description="uniform on a log scale (needs low > 0)")

    @model_validator(mode="after")
    def _ordered(self):
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither (the recorded plausible range)")
        if self.low is not None and not self.low < self.high:
            raise ValueError(f"a prior needs low < high, got low {self.low}, high {self.high}")
        if self.log and self.low is not None and self.low <= 0:
            raise ValueError("log: true needs low > 0")
        return self


class Calibrate(BaseModel):
    """`grapevine calibrate`: the free parameters and how to fit them."""

    model_config = _STRICT
    parameters: dict[str, Prior | None] = Field(
        min_length=1, max_length=20,
        description="market.NAME, firm.NAME or Kind.NAME: {low, high[, log]}, or nothing for the plausible range "
                    "recorded beside the default")
    trials: int = Field(200, ge=8, le=100_000, description="parameter sets to simulate in all (search, then posterior)")
    replications: int = Field(4, ge=1, le=1000, description="runs per trial, on the same seeds in every trial")
    batch: int = Field(8, ge=1, le=10_000, description="trials proposed at a time; the fit depends on it, not on "
                                                       "the number of workers")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="the sampler's seed (default: the scenario's)")
    posterior_draws: int = Field(200, ge=10, le=10_000, description="the posterior sample written to calibrated.yaml")


# --- posterior ---------------------------------------------------------------------------------
class Posterior(BaseModel):
    """A sample of the fitted assumptions (written by `grapevine calibrate`): replication r of a
    run takes draw r (in a seeded order), the same in every arm."""

    model_config = _STRICT
    firm: str = Field(description="the firm the data are about")
    parameters: list[str] = Field(min_length=1, max_length=20)
    draws: list[list[float]] = Field(min_length=1, max_length=100_000)
    method: str = Field("", max_length=300)
    source: str = Field("", max_length=500, description="the calibration folder")
    fit: list[dict[str, Any]] = Field(default_factory=list, description="observed against simulated (the report)")
    warnings: list[str] = Field(default_factory=list)
    effective_draws: float | None = None

    @model_validator(mode="after")
    def _rectangular(self):
        for i, draw in enumerate(self.draws):
            if len(draw) != len(self.parameters):
                raise Located(("draws", i), f"has {len(draw)} values for {len(self.parameters)} parameters")
            if not all(math.isfinite(v) for v in draw):
                raise Located(("draws", i), "values must be finite numbers")
        return self


# --- free parameters: where they live and what they may be ------------------------------------
@dataclass(frozen=True)
class FreeParameter:
    """A parameter to fit: its name as written, its place in the scenario's data, its prior."""

    name: str
    path: tuple
    low: float
    high: float
    log: bool
    integer: bool
    default: Any

    def from_unit(self, u: float) -> float:
        """The value at `u` in [0, 1] of the prior's range (on its scale)."""
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def to_unit(self, value: float) -> float:
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def setting(self, value: float):
        """The value as the scenario takes it (whole numbers rounded)."""
        return int(round(value)) if self.integer else float(value)


def observed_firm(scenario, observed: Observed | None = None, posterior: Posterior | None = None) -> int:
    """The index of the firm the data are about (Located if it cannot be told)."""
    names = [f.name for f in scenario.firms]
    wanted = (observed.firm if observed is not None else posterior.firm if posterior is not None else None)
    if wanted is None:
        wanted = scenario.compare.firm if scenario.compare.kind == "arms" else None
    if wanted is None:
        if len(names) > 1:
            raise Located(("observed", "firm"), f"say whose figures these are: one of {', '.join(names)}")
        return 0
    if wanted not in names:
        where = ("observed", "firm") if observed is not None else ("posterior", "firm")
        raise Located(where, f"{wanted!r} is not a firm: choose one of {', '.join(names)}")
    return names.index(wanted)


def locate(name: str, scenario, firm: int, where: tuple) -> tuple[tuple, Any]:
    """('market', 'base_churn') and the pydantic field of a free parameter (Located if unknown)."""
    owner, _, setting = name.partition(".")
    if not setting or "." in setting:
        raise Located(where, "write market.NAME, firm.NAME or Kind.NAME (a policy the firm runs)")
    if owner == "market":
        model, path = MarketParameters, ("market", setting)
    elif owner == "firm":
        model, path = Firm, ("firms", firm, setting)
    elif owner in Policy.registry:
        kinds = [type(p).__name__ for p in scenario.firms[firm].policies]
        if owner not in kinds:
            raise Located(where, f"{owner} is not a policy {scenario.firms[firm].name} runs (it runs "
                                 f"{', '.join(kinds) or 'no policy'}): the data describe the firm as written")
        model, path = Policy.registry[owner], ("firms", firm, "policies", kinds.index(owner), setting)
    else:
        guess = difflib.get_close_matches(owner, ["market", "firm", *Policy.registry], n=1)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        raise Located(where, f"{owner!r} is not market, firm or a policy{hint}")
    field = model.model_fields.get(setting)
    if field is None or setting in ("name", "policies", "kind"):
        guess = difflib.get_close_matches(setting, list(model.model_fields), n=1)
        hint = f" (did you mean '{owner}.{guess[0]}'?)" if guess else ""
        raise Located(where, f"the model has no parameter {name!r}{hint}")
    return path, field


def _allowed(field, value: float) -> str | None:
    """None if the field takes `value`, else why not."""
    try:
        TypeAdapter(Annotated[field.annotation, *field.metadata]).validate_python(value)
        return None
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        return problem[:1].lower() + problem[1:]


def free_parameters(scenario, calibrate: Calibrate, firm: int) -> list[FreeParameter]:
    """The free parameters with their priors, checked against the model (Located naming the field)."""
    recorded = {row.path: row for row in provenance()}
    found = []
    for name, prior in calibrate.parameters.items():
        where = ("calibrate", "parameters", name)
        path, field = locate(name, scenario, firm, where)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        row = recorded.get(name)
        if extra.get("decision"):
            raise Located(where, f"{name} is the firm's decision, not an assumption to fit: set it in the scenario")
        annotation = str(field.annotation)
        if "Literal" in annotation or field.annotation in (str, bool):
            raise Located(where, f"{name} is not a number; only numbers can be fitted")
        low, high, log = (prior.low, prior.high, prior.log) if prior is not None else (None, None, False)
        if low is None:
            if row is None or row.low is None or not row.low < row.high:
                quality = f" (its source is {row.quality})" if row is not None else ""
                raise Located(where, f"no plausible range is recorded for {name}{quality}: give low and high")
            low, high = float(row.low), float(row.high)
            if log and low <= 0:
                raise Located(where, "log: true needs low > 0")
        for end, value in (("low", low), ("high", high)):
            why = _allowed(field, int(round(value)) if field.annotation is int else value)
            if why:
                raise Located(where + (end,) if prior is not None and prior.low is not None else where,
                              f"the prior's {end} end {value:g} is outside what {name} allows: {why}")
        default = scenario.resolved()
        for part in path:
            default = default[part]
        found.append(FreeParameter(name, path, float(low), float(high), bool(log), field.annotation is int, default))
    return found


def check_sections(scenario) -> None:
    """The cross-field checks of observed, calibrate and posterior (called by the scenario's validator)."""
    if scenario.observed is None and scenario.calibrate is not None:
        raise Located(("calibrate",), "needs an observed section: the firm's figures to fit")
    if scenario.observed is not None:
        firm = observed_firm(scenario, scenario.observed)
        stated = scenario.firms[firm].customers
        for name, figure in scenario.observed.statistics().items():
            if name in ("churn", "complaints") and figure.sample is None and figure.tolerance is None and not stated:
                raise Located(("observed", name), f"give sample (customer-months behind the figure), tolerance, or "
                                                  f"the firm's customers (firms[{firm}].customers)")
            if name == "new_customers" and (figure.sample is not None or not stated):
                raise Located(("observed", name), "new customers are a count of their own: give no sample, and give "
                                                  f"the firm's customers (firms[{firm}].customers) to compare them at "
                                                  f"the firm's size")
            if name in ("complaints_resolved", "referral_share", "recommended") and \
                    figure.sample is None and figure.tolerance is None and _default_sample(scenario, name) is None:
                needs = {"complaints_resolved": "observed.complaints and the firm's customers",
                         "referral_share": "observed.new_customers", "recommended": "nothing: give the respondents"}
                raise Located(("observed", name), f"give sample (the count behind the figure) or tolerance "
                                                  f"(a default needs {needs[name]})")
        if scenario.calibrate is not None:
            free_parameters(scenario, scenario.calibrate, firm)
    if scenario.posterior is not None:
        firm = observed_firm(scenario, None, scenario.posterior)
        for j, name in enumerate(scenario.posterior.parameters):
            _, field = locate(name, scenario, firm, ("posterior", "parameters", j))
            column = [draw[j] for draw in scenario.posterior.draws]
            for value in (min(column), max(column)):
                why = _allowed(field, int(round(value)) if field.annotation is int else value)
                if why:
                    raise Located(("posterior", "draws"), f"{name} = {value:g} is not allowed: {why}")


def _default_sample(scenario, name: str) -> float | None:
    """The count behind a figure that gives none, from the firm's customers and its other figures."""
    observed = scenario.observed
    firm = observed_firm(scenario, observed)
    customers = scenario.firms[firm].customers
    months = observed.period(name)
    if name in ("churn", "complaints", "new_customers"):
        return customers * months if customers else None
    if name == "complaints_resolved" and observed.complaints is not None and customers:
        return observed.complaints.value / 1000 * customers * months
    if name == "referral_share" and observed.new_customers is not None:
        return observed.new_customers.value * months
    return None


def sample_of(scenario, name: str) -> float | None:
    """The count behind figure `name`: its own sample, else the default (None with a tolerance)."""
    figure = getattr(scenario.observed, name)
    if name == "nps_survey":
        return float(figure.respondents)
    if figure.tolerance is not None:
        return None
    return float(figure.sample) if figure.sample is not None else _default_sample(scenario, name)


# --- a run of a calibrated scenario: each replication's draw ---------------------------------------
def draw_index(scenario, replication: int) -> int:
    """The posterior draw replication r takes: r-th of a seeded shuffle of the draws (cycling), the
    same in every arm, so the arms' differences stay paired."""
    import numpy as np

    count = len(scenario.posterior.draws)
    order = np.random.default_rng(np.random.SeedSequence([int(scenario.seed), 0xD2A3, count])).permutation(count)
    return int(order[replication % count])


def with_posterior_draw(scenario, run: str, replication: int, firms: list[dict], market: dict) -> tuple[list, dict]:
    """The run's firms and market with replication r's posterior draw applied (unchanged without a
    posterior). A setting the arm sets itself keeps the arm's value; a policy setting applies to
    every policy of that kind the observed firm runs in this arm."""
    import copy

    post = scenario.posterior
    if post is None:
        return firms, market
    firm = observed_firm(scenario, None, post)
    own = set() if scenario.groups.head_to_head else set(scenario.arm(run).set)
    firms, market = copy.deepcopy(list(firms)), dict(market)
    for name, value in zip(post.parameters, post.draws[draw_index(scenario, replication)]):
        if name in own:
            continue
        owner, _, setting = name.partition(".")
        if owner == "market":
            market[setting] = _typed(MarketParameters, setting, value)
        elif owner == "firm":
            firms[firm][setting] = _typed(Firm, setting, value)
        else:
            for policy in firms[firm]["policies"]:
                if policy["kind"] == owner:
                    policy[setting] = _typed(Policy.registry[owner], setting, value)
    return firms, market


def _typed(model, setting: str, value: float):
    return int(round(value)) if model.model_fields[setting].annotation is int else float(value)
