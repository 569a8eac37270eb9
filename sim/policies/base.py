"""The policy plug-in interface: what a policy declares, and the hook points of the month.

A policy is one class: its settings are pydantic fields, and as class attributes it declares

- `states`: the per-person arrays it keeps (`State`: name, dtype, initial value, and whether
  a person's value goes back to it when they join a firm and when they leave one; Starsim's
  `define_states`). The market makes each array once, as `market.customers.<name>`;
- `events`: the counts it adds to the month's tally (`market.tally.add(event, firm, n)`),
  each a column of the monthly table;
- `costs` and `revenues`: the ledger categories it books money in
  (`market.ledger.charge(firm, category, amount)`), columns `cost_<name>`, `revenue_<name>`;
- `levers`: the dashboard's controls of it (`Lever`);
- `jobs`: what only one policy of a firm can do ("answer complaints", "call at renewal"): a
  firm whose policies share a job is refused, so two ways of answering one complaint cannot
  run side by side unnoticed;
- `shares`: `Shared` parts it uses together with other policies (a running discount, a
  contact's annoyance). A part brings its own declarations and hooks, and the market makes
  its state once and calls its hooks once per firm and month, however many of the firm's
  policies list it.

The engine reads these declarations and never names a policy. Every policy class that
exists has its events and money categories in every market's tables (zero where no firm
runs it), so that the tables of different arms have the same columns.

Hooks, in the order they come in a month. Each receives the market, the firm's index `firm`
and the people concerned (an index array, the firm's own customers unless said otherwise);
the defaults do nothing. A firm's shared parts are called first, then its policies in the
order of its `policies` tuple. During the warm-up no hook is called.

1. `shape_experience(market, firm, members)`, phase 1 (experience), before satisfaction
   moves: add to `customers.surprise` (a delight beyond the service, e.g. a gift) or to
   `customers.experience` (the service itself).
2. `on_complaints(market, firm, complainers)`, phase 2 (complaints): answer this month's
   complaints (mark `customers.resolved` for those resolved).
3. `after_experience(market, firm, members)`, phase 2, after complaints: reach out to
   customers after they felt the month, before they talk (check-ins, upsell).
4. `churn_pressure(market, firm, members)`, phase 4 (churn), before anyone decides: a
   multiplier on each member's hazard of leaving this month, or None for none.
5. `before_leaving(market, firm, leavers, at_renewal)`, phase 4, after the leaving draw:
   return a boolean mask of the leavers the firm keeps.
6. `reach_former_customers(market, firm, former)`, phase 5 (acquisition), after prospects
   joined: prospects who once were this firm's customers (win-back).
7. `settle_month(market, firm, members)`, phase 6 (accounting), before the books close:
   book what the state implies for the month (a discount's cost, an upgrade's revenue).

Joining and leaving a firm reset the declared states (`State.on_join`, `State.on_leave`); no
hook is needed for that. Hooks change customer arrays with array expressions. Random draws
come from `market.streams` keyed by a decision name unique to the policy, so a policy never
shifts the luck of anything else (common random numbers across arms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..errors import validated
from ..provenance import decision, setting
from .targeting import Target, chosen


@dataclass(frozen=True)
class State:
    """A per-person array that a policy keeps on `market.customers` (one value per person).

    `initial` is everyone's value at set-up; a person's value goes back to it when they
    join a firm (`on_join`) and when they leave their firm (`on_leave`). Months are stored
    as ints, with `sim.customers.NEVER` for "not set"."""

    name: str
    dtype: Any = float
    initial: Any = 0
    on_join: bool = True
    on_leave: bool = False
    description: str = ""


@dataclass(frozen=True)
class Lever:
    """A control of a policy in the dashboard.

    With a `setting` (one of the policy's fields): a slider from `low` to `high` by `step`,
    in `unit`, or a choice among `choices`; at `off` the policy is not run (None: this
    control never turns it off). Without a setting: a switch that runs the policy or not."""

    setting: str | None
    label: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    unit: str = ""
    off: Any = None
    choices: tuple = ()


class Plugin:
    """What policies and shared parts have in common: declarations and the hooks of the month."""

    states: ClassVar[tuple[State, ...]] = ()
    events: ClassVar[tuple[str, ...]] = ()
    costs: ClassVar[tuple[str, ...]] = ()
    revenues: ClassVar[tuple[str, ...]] = ()

    # --- hook points, in month order -----------------------------------------
    def shape_experience(self, market, firm: int, members: np.ndarray) -> None:
        """Phase 1, before satisfaction moves: add to `customers.surprise` or `customers.experience`."""

    def on_complaints(self, market, firm: int, complainers: np.ndarray) -> None:
        """Phase 2: answer this month's complaints (mark `customers.resolved` for those resolved)."""

    def after_experience(self, market, firm: int, members: np.ndarray) -> None:
        """Phase 2, after complaints: reach out to customers before they talk (check-ins, upsell)."""

    def churn_pressure(self, market, firm: int, members: np.ndarray) -> np.ndarray | None:
        """Phase 4: a multiplier on each member's hazard of leaving this month (None: no effect)."""
        return None

    def before_leaving(self, market, firm: int, leavers: np.ndarray, at_renewal: np.ndarray) -> np.ndarray:
        """Phase 4: customers about to leave; return a boolean mask of those the firm keeps."""
        return np.zeros(leavers.size, bool)

    def reach_former_customers(self, market, firm: int, former: np.ndarray) -> None:
        """Phase 5: prospects who once were customers of this firm (win-back)."""

    def settle_month(self, market, firm: int, members: np.ndarray) -> None:
        """Phase 6, before the books close: book what the state implies for the month."""


class Shared(Plugin):
    """State and bookings that several policies share (e.g. a running discount).

    Make one instance and list it in the `shares` of every policy that uses it: the market
    makes its state once and calls its hooks once per firm and month."""

    def __repr__(self) -> str:
        return type(self).__name__


class Policy(Plugin, BaseModel):
    """Base class. Subclasses are registered by class name for scenario files and strings."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # inf and NaN are no settings
    registry: ClassVar[dict[str, type[Policy]]] = {}
    shares: ClassVar[tuple[Shared, ...]] = ()
    levers: ClassVar[tuple[Lever, ...]] = ()
    jobs: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__dict__.get("abstract", False):  # a base for policies (Contacting) is not one
            Policy.registry[cls.__name__] = cls

    def identity(self) -> str:
        """What a firm runs once: its kind (a pilot's wrapper: the kind and the group)."""
        return type(self).__name__

    def response(self, market, firm: int, people: np.ndarray) -> np.ndarray:
        """How strongly each of `people` would respond to this policy's contact (the `responsive`
        targeting rule, `targeting.py`): by default their loyalty, as offers are accepted."""
        return market.customers.loyalty[people]

    @classmethod
    def parts(cls) -> tuple:
        """The shared parts it uses, then the policy itself: whatever declares or hooks for it."""
        return (*cls.shares, cls)

    # --- presentation --------------------------------------------------------
    def label(self) -> str:
        """'ServiceRecovery(effort=0.8)': the class name and the settings that differ from default."""
        changed = {
            name: getattr(self, name)
            for name, field in type(self).model_fields.items()
            if getattr(self, name) != field.default
        }
        inside = ", ".join(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
                           for name, value in changed.items())
        return f"{type(self).__name__}({inside})" if inside else type(self).__name__


class Contacting(Policy):
    """A policy that contacts customers: whom it reaches is a lever (`targeting.py`). It contacts
    the `reach` share of the customers due, chosen by the `target` rule."""

    abstract: ClassVar[bool] = True
    target: Target = setting("everyone", "whom it contacts first when it reaches only some: everyone, churn_risk, "
                                         "responsive, connected or loyal (sim/policies/targeting.py)",
                             decision("the policy's lever"))
    reach: float = setting(1.0, "share of the customers due that it contacts", decision("the policy's lever"),
                           ge=0, le=1, allow_inf_nan=False)

    def contacted(self, market, firm: int, due: np.ndarray, rule: str | None = None) -> np.ndarray:
        """The due customers it contacts: its `reach` share of them by its `target` rule (or `rule`)."""
        return chosen(self, market, firm, due, type(self).__name__, rule)


def check_together(policies) -> None:
    """A firm runs each kind of policy once, and no two policies that do the same job."""
    kinds, jobs = {}, {}
    for policy in policies:
        kind = policy.identity()
        if kind in kinds:
            raise ValueError(f"{kind} is listed twice: a firm runs each policy once (set its settings in one entry)")
        kinds[kind] = policy
        for job in type(policy).jobs:
            if job in jobs:
                raise ValueError(f"{jobs[job]} and {kind} both {job}: a firm does that one way; keep one "
                                 f"(in an arm, replace one with the other)")
            jobs[job] = kind


def plugins_of(policies) -> tuple:
    """What a firm running `policies` calls each month: its shared parts (each once, in order
    of first listing), then the policies."""
    shared = []
    for policy in policies:
        shared += [part for part in policy.shares if not any(part is seen for seen in shared)]
    return (*shared, *policies)


def declared(kind: str, parts) -> tuple[str, ...]:
    """The names `parts` declare under `kind` ('events', 'costs' or 'revenues'), each once, in order."""
    return tuple(dict.fromkeys(name for part in parts for name in getattr(part, kind)))


def declared_states(parts) -> tuple[State, ...]:
    """The states `parts` declare, each once (a shared part's, however many policies list it).
    Two different declarations of one name clash: they would share an array unknowingly."""
    states: dict[str, tuple[State, Any]] = {}  # name -> (state, who declares it)
    for part in parts:
        for state in part.states:
            seen, owner = states.setdefault(state.name, (state, part))
            if seen is not state:
                raise ValueError(
                    f"state {state.name!r} of {type(part).__name__} is not allowed: {type(owner).__name__} declares "
                    f"a state of that name; share one declaration (a `Shared` part in both policies' `shares`) "
                    f"or rename it")
    return tuple(state for state, _ in states.values())


def known_parts() -> tuple:
    """Every policy class there is, each with its shared parts: what the tables have columns for."""
    return tuple(part for policy in Policy.registry.values() for part in policy.parts())


def offer_acceptance(base: float, discount: float, sensitivity: float, loyalty: np.ndarray) -> np.ndarray:
    """Chance that a customer accepts an offer: a same-terms ask is accepted with `base`, each
    unit of discount adds `sensitivity`, and loyalty scales it (Kumar, Bhagwat & Zhang 2015:
    win-back acceptance rises with the strength of the first relationship)."""
    return np.clip((base + sensitivity * discount) * (0.5 + loyalty), 0.0, 1.0)


_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


def make_policy(spec: Any) -> Policy:
    """A policy from an instance, a class name ('SmallGifts'), a call-like string
    ('ServiceRecovery(effort=0.8)') or a mapping ({'kind': 'ServiceRecovery', 'effort': 0.8})."""
    if isinstance(spec, Policy):
        return spec
    if isinstance(spec, str):
        match = _CALL.match(spec)
        if not match:
            raise ValueError(f"policy {spec!r} is not understood: write Name or Name(setting=value, ...)")
        name, inside = match.group(1), match.group(2) or ""
        settings = {}
        for part in filter(None, (piece.strip() for piece in inside.split(","))):
            key, _, value = part.partition("=")
            if not _:
                raise ValueError(f"policy {spec!r}: settings are written name=value")
            settings[key.strip()] = _number_or_text(value.strip())
        spec = {"kind": name, **settings}
    if isinstance(spec, dict):
        spec = dict(spec)
        kind = spec.pop("kind", None)
        cls = Policy.registry.get(kind)
        if cls is None:
            raise ValueError(
                f"policy = {kind!r} is not a known policy: choose one of {', '.join(sorted(Policy.registry))}"
            )
        return validated(cls, spec, (kind,))
    raise ValueError(f"policy {spec!r} is not understood: give a Policy, a name or a mapping with 'kind'")


def _number_or_text(text: str) -> Any:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text.strip("'\"")
