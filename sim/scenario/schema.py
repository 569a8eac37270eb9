"""The scenario schema: what a scenario file may say, as typed pydantic models.

The schema reuses the engine's models: `market` is `MarketParameters`, each firm has the
fields of `Firm`, and each policy is checked against its own class, looked up in
`Policy.registry` when the file is read (so a policy plug-in defined anywhere, even in a
notebook or a test, is accepted without touching this file).

What is compared is decided once, here: `Scenario.groups` says whether the scenario compares
arms (variants of one firm's policies) or firms head to head, and everything downstream
(runs, statistics, verdicts, figures) reads that decision instead of making it again.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, WrapValidator, create_model,
                      field_validator, model_validator)

from ..errors import Located, pattern, short
from ..firm import Firm
from ..parameters import MarketParameters
from ..policies import Policy, make_policy
from ..sectors import SectorName

ARM_NAME = pattern(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,59}$",
                   "letters, digits and _ . + - (at most 60, starting with a letter or digit)")
SCENARIO_NAME = pattern(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$",
                        "letters, digits, _ and - (at most 60, starting with a letter or digit)")
HEAD_TO_HEAD = "head_to_head"  # the label of the one run per replication of a head-to-head comparison
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)  # an infinite or NaN number is never a setting


# --- policies: looked up by kind in the live registry -------------------------------------
def _policy(value: Any, handler, info) -> Policy:
    """A policy from a mapping {kind: Name, setting: value}, a name or 'Name(setting=value)'.
    A bad setting raises pydantic's own error, so the problem keeps its exact field path."""
    if isinstance(value, Policy):
        return value
    if isinstance(value, str):
        if "(" in value:
            return make_policy(value)  # a ValueError here names the setting
        value = {"kind": value.strip()}
    if not isinstance(value, dict):
        raise ValueError("a policy is a name (SmallGifts), Name(setting=value) or {kind: Name, setting: value}")
    settings = dict(value)
    kind = settings.pop("kind", None)
    cls = Policy.registry.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(Policy.registry))
        if kind is None:
            raise ValueError(f"a policy needs a name: write a plain name (SmallGifts) or "
                             f"{{kind: Name, setting: value}}; policies: {known}")
        import difflib

        guess = difflib.get_close_matches(str(kind), sorted(Policy.registry), n=1)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        problem = ValueError(f"{kind!r} is not a known policy{hint}; choose one of {known}")
        raise ValidationError.from_exception_data("policy", [  # located at the policy's `kind`
            {"type": "value_error", "loc": ("kind",), "input": kind, "ctx": {"error": problem}}])
    return cls.model_validate(settings)


def policy_data(policy: Policy) -> dict:
    """A policy as plain data: {kind: Name, every setting} (what a scenario file would say)."""
    return {"kind": type(policy).__name__, **policy.model_dump(mode="json")}


PolicyEntry = Annotated[Any, WrapValidator(_policy), PlainSerializer(policy_data)]


def _policy_list(value: Any) -> Any:
    if value is None:
        return []
    return [value] if isinstance(value, (str, dict, Policy)) else value


_firm_fields = {name: (info.annotation, info) for name, info in Firm.model_fields.items() if name != "policies"}
FirmSpec = create_model(
    "Firm", __config__=ConfigDict(extra="forbid", title="Firm", allow_inf_nan=False),
    __validators__={"_listed": field_validator("policies", mode="before")(lambda cls, v: _policy_list(v))},
    **_firm_fields,
    policies=(list[PolicyEntry], Field(default_factory=list,
                                       description="policies: names or {kind: Name, setting: value}")),
)


class Arm(BaseModel):
    """One variant of the compared firm: its policies, everything else equal."""

    model_config = _STRICT
    name: str = Field(pattern=ARM_NAME, description="letters, digits, _ - . + (used in file names)")
    policies: list[PolicyEntry] = Field(default_factory=list, description="[] = no policy")
    description: str = Field("", max_length=200)

    _listed = field_validator("policies", mode="before")(lambda cls, v: _policy_list(v))


class Compare(BaseModel):
    """What to compare: `arms` (variants of one firm's policies) or `head_to_head` (the firms)."""

    model_config = _STRICT
    kind: Literal["arms", "head_to_head"] = Field("arms", description="arms | head_to_head")
    firm: str | None = Field(None, description="arms: the firm whose policies the arms set (default: the only firm)")
    baseline: str | None = Field(None, description="the arm (or firm) the others are compared with (default: the first)")
    arms: list[Arm] = Field(default_factory=list, description="arms: two or more named variants")


KPI_NAMES = ("retention", "customers", "market_share", "revenue", "cost", "profit", "npv", "nps")
OUTPUT_KPIS = Literal["retention", "customers", "market_share", "revenue", "cost", "profit", "npv", "nps"]


class Sensitivity(BaseModel):
    """`grapevine sensitivity`: which uncertain settings drive the outcomes and the verdict."""

    model_config = _STRICT
    parameters: dict[str, tuple[float, float]] = Field(
        min_length=1, max_length=40,
        description="setting: [low, high]; a --set path (market.complaint_probability, firms[0].failure_rate) "
                    "or firms.NAME.setting / arms.NAME.policies[0].setting")
    method: Literal["morris", "sobol"] = Field("morris", description="morris (screening) | sobol (variance shares)")
    samples: int = Field(8, ge=2, le=100_000, description="morris: trajectories; sobol: base sample N (a power of 2)")
    replications: int = Field(2, ge=1, le=1000, description="paired runs per arm at each sample point")
    outputs: list[OUTPUT_KPIS] = Field(["retention", "npv"], min_length=1, description="KPIs to analyse")
    compare: list[str] | None = Field(None, min_length=2, max_length=2,
                                      description="[X, Y]: arms (or firms) whose paired difference X - Y is analysed; "
                                                  "default: the first other arm and the baseline")
    winner_by: Literal["retention", "customers", "market_share", "revenue", "profit", "npv", "nps"] = Field(
        "npv", description="the KPI that decides which of X and Y wins at a sample point")

    @field_validator("parameters", mode="before")
    @classmethod
    def _pairs(cls, value):
        """Each range is [low, high]: said in one line, not as pydantic's per-item complaints."""
        for name, pair in (value.items() if isinstance(value, dict) else ()):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in pair)):
                raise ValueError(f"{name} = {pair!r} is not allowed: give [low, high], two finite numbers")
        return value

    @field_validator("parameters")
    @classmethod
    def _ranges(cls, value):
        for name, (low, high) in value.items():
            if not low < high:
                raise ValueError(f"{name}: [low, high] needs low < high, got [{low}, {high}]")
        return value


class SweepRange(BaseModel):
    """A range of numbers for `grapevine sweep`: low to high (a grid takes `steps` values)."""

    model_config = _STRICT
    low: float
    high: float
    steps: int | None = Field(None, ge=2, le=10_000, description="grid: this many evenly spaced values, ends included")
    integer: bool = Field(False, description="whole numbers (rounded)")
    log: bool = Field(False, description="even on a log scale (needs low > 0)")

    @model_validator(mode="after")
    def _ordered(self) -> SweepRange:
        if not self.low < self.high:
            raise ValueError(f"a range needs low < high, got low {self.low}, high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("log: true needs low > 0")
        return self


def _values_or_range(value: Any, handler, info) -> Any:
    """A list is values, a mapping a range: validated as that one (one error, not one per form)."""
    if isinstance(value, dict):
        return SweepRange.model_validate(value)
    if not isinstance(value, list):
        raise ValueError(f"{short(value)} is not allowed: give a list of values or a range {{low, high, steps}}")
    return handler(value)


class Sweep(BaseModel):
    """`grapevine sweep`: the scenario at every point of a grid or a sample, each with its replications."""

    model_config = _STRICT
    method: Literal["grid", "random", "latin_hypercube"] = Field(
        "grid", description="grid: every combination | random | latin_hypercube: `samples` points over the ranges")
    samples: int | None = Field(None, ge=1, le=1_000_000, description="random / latin_hypercube: number of points")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="seed of the sample (default: the scenario seed)")
    parameters: dict[str, Annotated[list[Any] | SweepRange, WrapValidator(_values_or_range)]] = Field(
        min_length=1, max_length=40,
        description="setting: [values] or {low, high, steps}; a --set path (market.n_people, firms[0].quality) "
                    "or firms.NAME.setting / arms.NAME.policies[0].setting")

    @model_validator(mode="after")
    def _method(self) -> Sweep:
        for name, spec in self.parameters.items():
            if isinstance(spec, list) and not spec:
                raise ValueError(f"parameters.{name}: give one or more values")
            if isinstance(spec, SweepRange) and self.method == "grid" and spec.steps is None:
                raise ValueError(f"parameters.{name}: a grid needs steps (how many values from low to high) "
                                 f"or a list of values")
            if isinstance(spec, SweepRange) and self.method != "grid" and spec.steps is not None:
                raise ValueError(f"parameters.{name}: steps is for a grid; {self.method} samples the range")
        if self.method == "grid" and self.samples is not None:
            raise ValueError("samples is for method random or latin_hypercube; a grid takes every combination")
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"method {self.method} needs samples: the number of points")
        return self


@dataclass(frozen=True)
class Groups:
    """What a scenario compares, decided once: arms of one firm, or firms head to head.

    `word` is the summary column that names a group ('arm' or 'firm'); `runs` are the labels of
    the runs each replication makes (one per arm, or one run in which the firms compete)."""

    word: str
    names: tuple[str, ...]
    baseline: str
    runs: tuple[str, ...]
    focal_firm: str | None  # arms: the firm whose policies vary; head to head: None (every firm)
    kpis: tuple[str, ...]
    share_measure: str  # the KPI a verdict's first clause reports

    @property
    def head_to_head(self) -> bool:
        return self.focal_firm is None

    def rows(self, table):
        """The rows of a summary or time series that belong to the compared groups, with a
        `group` column (each firm head to head; the focal firm in every arm)."""
        if self.head_to_head:
            return table.assign(group=table["firm"])
        mine = table[table["firm"] == self.focal_firm]
        return mine.assign(group=mine["arm"])

    def others(self) -> list[str]:
        return [g for g in self.names if g != self.baseline]


ARM_KPIS = ("retention", "customers", "revenue", "cost", "profit", "npv", "nps")
HEAD_TO_HEAD_KPIS = ("market_share", "share_gain", "customers", "retention", "revenue", "cost", "profit", "npv", "nps")


class Scenario(BaseModel):
    """A scenario file: the market, the firms, what to compare, how many replications, the seed."""

    model_config = ConfigDict(extra="forbid", title="Grapevine scenario", allow_inf_nan=False)
    name: str = Field(pattern=SCENARIO_NAME, description="names the results folder")
    description: str = Field("", max_length=300, description="one line: the question the scenario answers")
    seed: int = Field(1, ge=0, le=2**63 - 1, description="same seed, same results")
    replications: int = Field(10, ge=2, le=10_000, description="paired runs per arm (2 or more for an interval)")
    sector: SectorName = Field(
        "postpaid_mobile", description="the sector modelled: its published churn is the check on the market")
    market: MarketParameters = Field(default_factory=MarketParameters, description="market parameters")
    firms: list[FirmSpec] = Field(min_length=1, max_length=50, description="the firms of the market")
    compare: Compare = Field(default_factory=Compare)
    sensitivity: Sensitivity | None = Field(  # not part of a run: kept out of resolved() and digest()
        None, exclude=True, description="uncertain settings and their ranges, for `grapevine sensitivity`")
    sweep: Sweep | None = Field(  # not part of a run: kept out of resolved() and digest()
        None, exclude=True, description="a grid or sample of settings, for `grapevine sweep`")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        names = [firm.name for firm in self.firms]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise Located(("firms", i, "name"), f"firm name {name!r} is used twice: each firm needs its own name")
        c = self.compare
        if c.kind == "head_to_head":
            if len(self.firms) < 2:
                raise Located(("firms",), "head_to_head needs two or more firms")
            if c.arms:
                raise Located(("compare", "arms"), "head_to_head compares the firms: remove arms (or use kind: arms)")
            if c.baseline is not None and c.baseline not in names:
                raise Located(("compare", "baseline"), f"{c.baseline!r} is not a firm: choose one of {', '.join(names)}")
            return self
        if len(c.arms) < 2:
            raise Located(("compare", "arms"), "an arms comparison needs two or more arms")
        if c.firm is None and len(self.firms) > 1:
            raise Located(("compare", "firm"), f"say whose policies the arms set: one of {', '.join(names)}")
        if c.firm is not None and c.firm not in names:
            raise Located(("compare", "firm"), f"{c.firm!r} is not a firm: choose one of {', '.join(names)}")
        focal = names.index(c.firm) if c.firm else 0
        if self.firms[focal].policies:
            raise Located(("firms", focal, "policies"),
                          "the arms set this firm's policies: move these policies into each arm")
        arms = [arm.name for arm in c.arms]
        for i, arm in enumerate(arms):
            if arm in arms[:i]:
                raise Located(("compare", "arms", i, "name"), f"arm name {arm!r} is used twice")
        if c.baseline is not None and c.baseline not in arms:
            raise Located(("compare", "baseline"), f"{c.baseline!r} is not an arm: choose one of {', '.join(arms)}")
        return self

    # --- what the experiment needs -------------------------------------------------
    @property
    def groups(self) -> Groups:
        c = self.compare
        if c.kind == "head_to_head":
            names = tuple(f.name for f in self.firms)
            return Groups("firm", names, c.baseline or names[0], (HEAD_TO_HEAD,), None, HEAD_TO_HEAD_KPIS,
                          "share_gain")
        names = tuple(arm.name for arm in c.arms)
        return Groups("arm", names, c.baseline or names[0], names, c.firm or self.firms[0].name, ARM_KPIS,
                      "retention")

    @property
    def baseline(self) -> str:
        return self.groups.baseline

    def firms_for(self, run: str) -> list[dict]:
        """The firms of one run (an arm, or the head-to-head run) as engine keywords."""
        firms = [firm.model_dump(mode="json") for firm in self.firms]
        if not self.groups.head_to_head:
            chosen = next(a for a in self.compare.arms if a.name == run)
            focal = next(f for f in firms if f["name"] == self.groups.focal_firm)
            focal["policies"] = [policy_data(p) for p in chosen.policies]
        return firms

    def resolved(self) -> dict:
        """Every setting, defaults included, as plain JSON data (the manifest keeps this)."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()


def json_schema() -> dict:
    """The JSON Schema of scenario files, with every registered policy's settings."""
    schema = Scenario.model_json_schema()
    names = "|".join(sorted(Policy.registry))
    by_name = {"type": "string", "pattern": rf"^\s*({names})\s*(\(.*\))?\s*$",
               "description": "a policy name, or Name(setting=value, ...)"}
    refs = []
    for name, cls in sorted(Policy.registry.items()):
        fields = {field: (info.annotation, info) for field, info in cls.model_fields.items()}
        spec = create_model(name, __config__=ConfigDict(extra="forbid", title=name),
                            kind=(Literal[name], Field(description="the policy")), **fields)
        body = spec.model_json_schema()
        body["description"] = (cls.__doc__ or name).strip()
        schema["$defs"][name] = body
        refs.append({"$ref": f"#/$defs/{name}"})
    for model in ("Firm", "Arm"):
        schema["$defs"][model]["properties"]["policies"]["items"] = {"anyOf": [by_name, *refs]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
