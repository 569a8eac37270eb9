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
from ..policies import Policy, check_together, make_policy
from ..sectors import SectorName
from .calibration import Calibrate, Observed, Posterior, check_sections

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


def _together(policies: list) -> list:
    check_together(policies)
    return policies


_firm_fields = {name: (info.annotation, info) for name, info in Firm.model_fields.items() if name != "policies"}
FirmSpec = create_model(
    "Firm", __config__=ConfigDict(extra="forbid", title="Firm", allow_inf_nan=False),
    __validators__={"_listed": field_validator("policies", mode="before")(lambda cls, v: _policy_list(v)),
                    "_together": field_validator("policies")(lambda cls, v: _together(v))},
    **_firm_fields,
    policies=(list[PolicyEntry], Field(default_factory=list,
                                       description="policies: names or {kind: Name, setting: value}; in an arms "
                                                   "comparison, the compared firm's policies are the baseline")),
)

CHANGES = ("add", "remove", "replace", "set")


class Arm(BaseModel):
    """One variant of the compared firm: what it changes from the baseline, the firm as written.

    Everything an arm does not name is the baseline's, so no policy can go missing unnoticed:
    `add` policies, `remove` policies by kind, `replace` a policy by one or more others, or
    `set` settings of the market, the firm or one of its policies (`market.price`,
    `firm.quality`, `ServiceRecovery.effort`). The baseline arm changes nothing."""

    model_config = _STRICT
    name: str = Field(pattern=ARM_NAME, description="letters, digits, _ - . + (used in file names)")
    description: str = Field("", max_length=200)
    add: list[PolicyEntry] = Field(default_factory=list, description="policies the arm adds to the baseline's")
    remove: list[str] = Field(default_factory=list, description="kinds of baseline policies the arm drops")
    replace: dict[str, list[PolicyEntry]] = Field(
        default_factory=dict, description="kind of a baseline policy: the policy (or list) that takes its place")
    set: dict[str, Any] = Field(
        default_factory=dict, description="setting: value, for this arm only (market.x, firm.x, Kind.x)")

    @model_validator(mode="before")
    @classmethod
    def _not_a_policy_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and "policies" in data:
            raise Located(("policies",), "an arm says what it changes from the baseline (the firm's own "
                                         "policies): write add: [...], remove: [Kind], replace: {Kind: New} or "
                                         "set: {path: value}")
        if isinstance(data, dict) and isinstance(data.get("replace"), dict):
            data = {**data, "replace": {k: _policy_list(v) for k, v in data["replace"].items()}}
        return data

    _listed = field_validator("add", mode="before")(lambda cls, v: _policy_list(v))

    @property
    def changes_anything(self) -> bool:
        return bool(self.add or self.remove or self.replace or self.set)

    def policies_from(self, baseline: list[Policy]) -> list[Policy]:
        """The baseline's policies with this arm's changes (raises Located, relative to the arm)."""
        kinds = [type(p).__name__ for p in baseline]
        for i, kind in enumerate(self.remove):
            if kind not in kinds:
                raise Located(("remove", i), f"{kind!r} is not a baseline policy: the baseline runs "
                                             f"{', '.join(kinds) or 'no policy'}")
        policies: list[Policy] = []
        for policy in baseline:
            kind = type(policy).__name__
            if kind in self.remove:
                continue
            if kind in self.replace:
                new = self.replace[kind]
                lost = set(type(policy).jobs) - {job for p in new for job in type(p).jobs}
                if lost:
                    raise Located(("replace", kind), f"replacing {kind} by {', '.join(p.label() for p in new)} "
                                                     f"drops what {kind} did ({', '.join(sorted(lost))}); "
                                                     f"replace it with a list that keeps it (e.g. add RenewalCall)"
                                                     f", or remove {kind} and add the new policies")
                policies += new
                continue
            policies.append(policy)
        for kind in self.replace:
            if kind not in kinds:
                raise Located(("replace", kind), f"{kind!r} is not a baseline policy: the baseline runs "
                                                 f"{', '.join(kinds) or 'no policy'}")
        for i, policy in enumerate(self.add):
            if type(policy).__name__ in kinds and type(policy).__name__ not in self.remove:
                raise Located(("add", i), f"{type(policy).__name__} is already a baseline policy: to change its "
                                          f"settings write set: {{{type(policy).__name__}.setting: value}} or "
                                          f"replace it")
        policies += self.add
        try:
            check_together(policies)
        except ValueError as error:
            raise Located(("add",) if self.add else ("replace",), str(error)) from None
        return policies

    def changes(self) -> str:
        """The arm in words: 'baseline + ServiceRecovery(effort=0.8) - IgnoreUntilRenewal'."""
        text = "baseline" + "".join(f" + {p.label()}" for p in self.add) + "".join(f" - {k}" for k in self.remove)
        parts = [f"{kind} replaced by {' + '.join(p.label() for p in new)}" for kind, new in self.replace.items()]
        parts += [f"{path} = {value}" for path, value in self.set.items()]
        return "; ".join([text, *parts]) if parts or text != "baseline" else "the baseline"


class Compare(BaseModel):
    """What to compare: `arms` (variants of one firm's policies) or `head_to_head` (the firms)."""

    model_config = _STRICT
    kind: Literal["arms", "head_to_head"] = Field("arms", description="arms | head_to_head")
    measure: Literal["retention", "customer_base"] = Field(
        "retention", description="arms: what a verdict's first clause reports: retention (customers kept from "
                                 "month 0) or customer_base (customers at the horizon vs month 0: kept, won back "
                                 "and new; the measure for win-back or acquisition)")
    firm: str | None = Field(None, description="arms: the firm whose policies the arms set (default: the only firm)")
    baseline: str | None = Field(None, description="the arm (or firm) the others are compared with (default: the first)")
    arms: list[Arm] = Field(default_factory=list, description="arms: two or more named variants")


KPI_NAMES = ("retention", "customer_base", "customers", "market_share", "share_gain", "revenue", "cost", "profit",
             "npv", "nps")
OUTPUT_KPIS = Literal["retention", "customer_base", "customers", "market_share", "share_gain", "revenue", "cost",
                      "profit", "npv", "nps"]


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
    winner_by: Literal["retention", "customer_base", "customers", "market_share", "share_gain", "revenue", "profit",
                       "npv", "nps"] = Field(
        "npv", description="the KPI that decides which of X and Y wins at a sample point")

    @field_validator("parameters", mode="before")
    @classmethod
    def _pairs(cls, value):
        """Each range is [low, high]: said in one line, not as pydantic's per-item complaints."""
        for name, pair in (value.items() if isinstance(value, dict) else ()):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(map(_finite_number, pair))):
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


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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


class Precision(BaseModel):
    """`replications: auto` stops once every verdict is clear or at least this precise (95% half-width)."""

    model_config = _STRICT
    points: float = Field(0.5, gt=0, allow_inf_nan=False,
                          description="retention, customer base or share: percentage points")
    money: float | None = Field(None, gt=0, allow_inf_nan=False,
                                description="NPV, in the scenario's currency (default: 1% of the baseline's NPV)")


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


ARM_KPIS = ("retention", "customer_base", "customers", "revenue", "cost", "profit", "npv", "nps")
HEAD_TO_HEAD_KPIS = ("market_share", "share_gain", "customers", "retention", "revenue", "cost", "profit", "npv", "nps")


class Scenario(BaseModel):
    """A scenario file: the market, the firms, what to compare, how many replications, the seed."""

    model_config = ConfigDict(extra="forbid", title="Grapevine scenario", allow_inf_nan=False)
    name: str = Field(pattern=SCENARIO_NAME, description="names the results folder")
    description: str = Field("", max_length=300, description="one line: the question the scenario answers")
    seed: int = Field(1, ge=0, le=2**63 - 1, description="same seed, same results")
    replications: int | Literal["auto"] = Field(
        "auto", description="paired runs per arm: a number (2 or more), or auto: batches of 8 until every "
                            "verdict is clear or precise (see precision), at most max_replications")
    precision: Precision = Field(default_factory=Precision, description="replications: auto stops at this precision")
    max_replications: int = Field(64, ge=2, le=10_000, description="replications: auto stops here at the latest")
    currency: str = Field("units", pattern=pattern(r"^([A-Z]{3}|units)$", "a three-letter code such as EUR, or units"),
                          description="the firm's money: an ISO 4217 code (EUR, USD, GBP), or units")
    sector: SectorName = Field(
        "postpaid_mobile", description="the sector modelled: its published churn is the check on the market")
    market: MarketParameters = Field(default_factory=MarketParameters, description="market parameters")
    firms: list[FirmSpec] = Field(min_length=1, max_length=50, description="the firms of the market")
    compare: Compare = Field(default_factory=Compare)
    sensitivity: Sensitivity | None = Field(  # not part of a run: kept out of resolved() and digest()
        None, exclude=True, description="uncertain settings and their ranges, for `grapevine sensitivity`")
    sweep: Sweep | None = Field(  # not part of a run: kept out of resolved() and digest()
        None, exclude=True, description="a grid or sample of settings, for `grapevine sweep`")
    # --- the firm's own data (sim/scenario/calibration.py, docs/CALIBRATION.md) ---
    observed: Observed | None = Field(  # not part of a run
        None, exclude=True, description="the firm's own figures, for `grapevine calibrate`")
    calibrate: Calibrate | None = Field(  # not part of a run
        None, exclude=True, description="the free parameters and their priors, for `grapevine calibrate`")
    posterior: Posterior | None = Field(
        None, description="written by `grapevine calibrate`: each replication draws the fitted parameters from it")

    @field_validator("replications")
    @classmethod
    def _enough(cls, value):
        if isinstance(value, int) and not 2 <= value <= 10_000:
            raise ValueError(f"give 2 to 10,000 replications (2 or more for an interval) or auto, not {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        self._size_from_customers()
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
            check_sections(self)
            return self
        if len(c.arms) < 2:
            raise Located(("compare", "arms"), "an arms comparison needs two or more arms")
        if c.firm is None and len(self.firms) > 1:
            raise Located(("compare", "firm"), f"say whose policies the arms set: one of {', '.join(names)}")
        if c.firm is not None and c.firm not in names:
            raise Located(("compare", "firm"), f"{c.firm!r} is not a firm: choose one of {', '.join(names)}")
        arms = [arm.name for arm in c.arms]
        for i, arm in enumerate(arms):
            if arm in arms[:i]:
                raise Located(("compare", "arms", i, "name"), f"arm name {arm!r} is used twice")
        if c.baseline is not None and c.baseline not in arms:
            raise Located(("compare", "baseline"), f"{c.baseline!r} is not an arm: choose one of {', '.join(arms)}")
        baseline = c.baseline or arms[0]
        for i, arm in enumerate(c.arms):
            where = ("compare", "arms", i)
            if arm.name == baseline and arm.changes_anything:
                raise Located(where, f"{arm.name!r} is the baseline: the firm as written, so it changes nothing; "
                                     f"put its policies and settings on the firm")
            if arm.name != baseline and not arm.changes_anything:
                raise Located(where, f"{arm.name!r} changes nothing from the baseline: give it add, remove, "
                                     f"replace or set")
            try:
                self.run_settings(arm.name)
            except Located as error:
                raise Located(where + error.loc, error.message) from None
        check_sections(self)  # observed, calibrate, posterior (sim/scenario/calibration.py)
        return self

    def _size_from_customers(self) -> None:
        """Firms stated in their own numbers (customers at month 0): the market's people follow
        (`sim.population`); n_people written as well must agree."""
        from ..population import sized

        market = self.market.model_dump(mode="json", exclude_unset=False)
        given = market["n_people"] if "n_people" in self.market.model_fields_set else None
        try:
            settings = sized({**market, "n_people": given}, self.firms)
        except ValueError as error:
            field = str(error).split(":", 1)[0].split(" ", 1)[0]
            where = ("market", field) if field in MarketParameters.model_fields else ("firms",)
            raise Located(where, str(error).split(": ", 1)[1] if field in ("customers", "penetration") else str(error))
        if settings["n_people"] is not None and settings["n_people"] != self.market.n_people:
            self.market = self.market.model_copy(update={"n_people": settings["n_people"]})

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
                      c.measure)

    @property
    def baseline(self) -> str:
        return self.groups.baseline

    def arm(self, name: str) -> Arm:
        return next(a for a in self.compare.arms if a.name == name)

    def run_settings(self, run: str) -> tuple[list[dict], dict]:
        """The firms (engine keywords) and the market settings of one run: an arm (the baseline
        with the arm's changes), or the head-to-head run (the firms as written)."""
        firms = [firm.model_dump(mode="json") for firm in self.firms]
        market = self.market.model_dump(mode="json")
        if self.groups.head_to_head:
            return firms, market
        arm = self.arm(run)
        k = next(i for i, f in enumerate(self.firms) if f.name == self.groups.focal_firm)
        firms[k]["policies"] = [policy_data(p) for p in arm.policies_from(list(self.firms[k].policies))]
        for path, value in arm.set.items():
            _set_for_arm(path, value, firms, k, market)
        if arm.set:  # the changed settings must be valid where they land
            try:
                MarketParameters.model_validate(market)
                Firm.model_validate(firms[k])
            except ValidationError as error:
                problem = error.errors()[0]
                if problem["type"] == "value_error":
                    raise Located(("set",), problem["msg"].removeprefix("Value error, ")) from None
                raise Located(("set",), f"{problem['loc'][-1] if problem['loc'] else 'value'} = "
                                        f"{problem.get('input')!r} is not allowed: "
                                        f"{problem['msg'][:1].lower()}{problem['msg'][1:]}") from None
        return firms, market

    def firms_for(self, run: str) -> list[dict]:
        """The firms of one run as engine keywords (see `run_settings`)."""
        return self.run_settings(run)[0]

    def resolved(self) -> dict:
        """Every setting, defaults included, as plain JSON data (the manifest keeps this)."""
        data = self.model_dump(mode="json")
        if data.get("posterior") is None:  # a scenario without one reads (and hashes) as before
            data.pop("posterior", None)
        if any(f.customers is not None for f in self.firms) and self.market.network != "edge_list":
            data["market"].pop("n_people")  # it follows from the customers: a change of them moves it
        return data

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()


def _set_for_arm(path: str, value: Any, firms: list[dict], focal: int, market: dict) -> None:
    """Apply one `set` of an arm: market.x, firm.x (the compared firm), firms.NAME.x or Kind.x
    (a setting of one of the compared firm's policies)."""
    head, _, setting = path.partition(".")
    if not setting or "." in setting and head != "firms":
        raise Located(("set", path), "write market.setting, firm.setting, firms.NAME.setting or Kind.setting")
    if head == "market":
        if setting not in MarketParameters.model_fields:
            raise Located(("set", path), f"market has no setting {setting!r}")
        market[setting] = value
        return
    if head in ("firm", "firms"):
        if head == "firms":
            name, _, setting = setting.rpartition(".")
            target = next((f for f in firms if f["name"] == name), None)
            if target is None:
                raise Located(("set", path), f"no firm {name!r}: choose one of {', '.join(f['name'] for f in firms)}")
        else:
            target = firms[focal]
        if setting not in Firm.model_fields or setting in ("name", "policies"):
            raise Located(("set", path), f"a firm has no setting {setting!r} an arm can set")
        target[setting] = value
        return
    policy = next((p for p in firms[focal]["policies"] if p["kind"] == head), None)
    if policy is None:
        kinds = ", ".join(p["kind"] for p in firms[focal]["policies"]) or "no policy"
        raise Located(("set", path), f"{head!r} is not market, firm or a policy of this arm (it runs {kinds})")
    if setting not in Policy.registry[head].model_fields:
        raise Located(("set", path), f"{head} has no setting {setting!r}")
    policy[setting] = value


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
    entry = {"anyOf": [by_name, *refs]}
    schema["$defs"]["Firm"]["properties"]["policies"]["items"] = entry
    arm = schema["$defs"]["Arm"]["properties"]
    arm["add"]["items"] = entry
    arm["replace"]["additionalProperties"] = {"anyOf": [entry, {"type": "array", "items": entry}]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
