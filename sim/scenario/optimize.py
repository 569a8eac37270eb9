"""The `optimize:` section of a scenario: the best policy mix for a budget (`grapevine optimize`).

    optimize:
      levers:                                  # the compared firm's policy decisions to choose
        RetentionOffers.discount: {low: 0, high: 0.4}
        RetentionOffers.target: {choices: [everyone, churn_risk, responsive]}
        ProactiveCheckIns: {choices: [on, off]} # a switch: run the policy or not
        ProactiveCheckIns.every_months: {low: 3, high: 12, integer: true}
      objective: npv                           # or customers_kept
      budget: 20000                            # policy spending a month, in the scenario's currency
      robust_against: plausible                # none | posterior | plausible
      robust_score: mean                       # or p10: the 10th percentile over the futures

A lever is `Kind.setting` (a decision of a policy: its lever, not an assumption about customers)
or `Kind` alone (a switch). A policy the baseline does not run is added by every mix that has it
on. Each mix is the baseline firm with the levers' values, written as an arm (`add`, `remove`,
`set`), so the recommended mix is a runnable arm of a scenario file.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ..errors import Located
from ..policies import Policy

_STRICT = ConfigDict(extra="forbid")
SWITCH = ("on", "off")


class LeverRange(BaseModel):
    """What a lever may be: numbers from low to high, or one of `choices`."""

    model_config = _STRICT
    low: float | None = Field(None, allow_inf_nan=False)
    high: float | None = Field(None, allow_inf_nan=False)
    integer: bool = Field(False, description="whole numbers")
    log: bool = Field(False, description="searched on a log scale (needs low > 0)")
    choices: list[Any] | None = Field(None, min_length=1, max_length=50, description="the values to choose from")

    @model_validator(mode="after")
    def _one_kind(self):
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give low and high (a range) or choices, not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high (a range), or choices")
        if not self.low < self.high:
            raise ValueError(f"a range needs low < high, got low {self.low:g}, high {self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError("log: true needs low > 0")
        return self


class Optimize(BaseModel):
    """`grapevine optimize`: the levers, the objective, the budget and the futures to be robust against."""

    model_config = _STRICT
    levers: dict[str, LeverRange | None] = Field(
        min_length=1, max_length=20,
        description="Kind.setting: {low, high[, integer, log]} or {choices: [...]}; Kind: {choices: [on, off]} "
                    "(or nothing) switches a policy")
    objective: Literal["npv", "customers_kept"] = Field(
        "npv", description="npv: net present value of the firm's profits; customers_kept: month-0 customers "
                           "still with the firm at the horizon")
    budget: float | None = Field(None, ge=0, allow_inf_nan=False,
                                 description="the most the firm's policies may cost a month, on average, in the "
                                             "scenario's currency (a constraint)")
    robust_against: Literal["none", "posterior", "plausible"] = Field(
        "none", description="the futures each mix is scored in: none (the replications' luck only), posterior "
                            "(the calibrated posterior: one draw per replication) or plausible (every weakly "
                            "sourced market assumption drawn from its plausible range, per replication)")
    robust_score: Literal["mean", "p10"] = Field(
        "mean", description="a mix's score over the futures: mean, or p10 (the 10th percentile: a bad future)")
    multi_objective: bool = Field(False, description="search the front of objective against policy cost "
                                                     "(NSGA-II) instead of the best objective within the budget (TPE)")
    trials: int = Field(60, ge=4, le=100_000, description="mixes to simulate in all")
    replications: int = Field(4, ge=2, le=1000, description="futures per mix, the same for every mix")
    batch: int = Field(8, ge=1, le=10_000, description="mixes proposed at a time; the search depends on it, "
                                                       "not on the number of workers")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="the sampler's seed (default: the scenario's)")


def switch_choices(spec: LeverRange | None) -> tuple:
    """A switch's choices ('on', 'off'); YAML reads a bare on/off as true/false, taken as on/off."""
    if spec is None or spec.choices is None:
        return SWITCH
    return tuple("on" if c is True else "off" if c is False else c for c in spec.choices)


def check_optimize(scenario) -> None:
    """The cross-field checks of `optimize` (called by the scenario's validator): every lever names a
    decision of a policy, with values that setting allows."""
    section = scenario.optimize
    if section is None:
        return
    if scenario.compare.kind != "arms":
        raise Located(("optimize",), "optimize chooses one firm's policies: use compare.kind arms (the baseline "
                                     "arm is the firm as written)")
    if section.robust_against == "posterior" and scenario.posterior is None:
        raise Located(("optimize", "robust_against"), "posterior needs a calibrated scenario (a posterior section, "
                                                      "written by `grapevine calibrate` into calibrated.yaml)")
    for name, spec in section.levers.items():
        where = ("optimize", "levers", name)
        kind, _, setting = name.partition(".")
        cls = Policy.registry.get(kind)
        if cls is None:
            guess = difflib.get_close_matches(kind, sorted(Policy.registry), n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise Located(where, f"{kind!r} is not a known policy{hint}; write Kind.setting or Kind (a switch)")
        if not setting:
            choices = switch_choices(spec)
            if spec is not None and spec.low is not None or not set(choices) <= set(SWITCH) or len(choices) < 2:
                raise Located(where, f"{kind} alone is a switch: write {{choices: [on, off]}} (or nothing); "
                                     f"a setting is {kind}.NAME")
            continue
        field = cls.model_fields.get(setting)
        if field is None or setting == "kind":
            guess = difflib.get_close_matches(setting, list(cls.model_fields), n=1)
            hint = f" (did you mean '{kind}.{guess[0]}'?)" if guess else ""
            raise Located(where, f"{kind} has no setting {setting!r}{hint}")
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if not extra.get("decision"):
            raise Located(where, f"{name} is an assumption about customers, not the firm's decision; levers are a "
                                 f"policy's decisions (its levers, its targeting)")
        if spec is None:
            raise Located(where, "give {low, high} or {choices: [...]}")
        values = spec.choices if spec.choices is not None else [spec.low, spec.high]
        for i, value in enumerate(values):
            value = int(round(value)) if field.annotation is int and isinstance(value, float) else value
            why = _allowed(field, value)
            if why:
                end = ("choices", i) if spec.choices is not None else (("low",), ("high",))[i]
                raise Located(where + end, f"{value!r} is not allowed for {name}: {why}")


def _allowed(field, value) -> str | None:
    """None if the policy's field takes `value`, else why not."""
    kind = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    try:
        TypeAdapter(kind).validate_python(value)
        return None
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        return problem[:1].lower() + problem[1:]
