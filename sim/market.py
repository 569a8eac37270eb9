"""The market: a Mesa model of customers on a social network, firms and word of mouth.

    market = Market(seed=1, n_people=10_000, policies=["ServiceRecovery"]).run()
    market.monthly()          # one row per month and firm
    market.customer_table()   # one row per person, now

One step is one month; `step` lists the month's phases in order (see `sim.phases`).
`market.month` is the month of the output: 0 when the comparison starts (the books open),
negative during the warm-up before it, one more after every step.
"""

from __future__ import annotations

import copy
import threading
from functools import partial
from typing import Any, Sequence

import mesa
import numpy as np

from . import allocation, compiled
from . import network as networks
from . import population
from .agents import Customer
from .mesa_compat import network_space
from .bookkeeping import COSTS, EVENTS, REVENUES, Ledger, Tally
from .customers import CHANNELS, INITIAL, NEVER, Customers
from .firm import Firm
from .metrics import likelihood_to_recommend, monthly_metrics
from .errors import InputError, validated
from .parameters import make_parameters
from .phases import MONTH
from .policies.base import declared, declared_states, known_parts, plugins_of
from .randomness import Streams

ACQUIRED = tuple(f"acquired_{channel}" for channel in CHANNELS[INITIAL + 1:])  # the tally's joins by channel
FIRM_SETTINGS = ("quality", "failure_rate", "advertising", "policies", "customers")


class Market(mesa.Model):
    """A market of `n_people` on a social network and one or more firms.

    Give `firms=[Firm(...), ...]` for several firms, or the single firm's settings as flat
    keywords (`quality`, `failure_rate`, `advertising`, `policies`) so that
    `sim.batch_run(parameters={...})` (Mesa's batch_run) can sweep them. Every other keyword
    is a market parameter (`sim.parameters.MarketParameters`). `seed` (a whole number) or
    `rng` (anything Mesa takes as `rng`) seeds the model's generator, which seeds everything else.

    The monthly metrics are kept as arrays (`monthly()` reads them) and handed to a Mesa
    `DataCollector` (`market.datacollector`, one column per metric and firm); experiment runs,
    which read `monthly()` only, pass `datacollector=False` and skip its per-value copies.
    """

    def __init__(
        self,
        firms: Sequence[Firm | dict] | None = None,
        *,
        seed: int | None = None,
        rng: Any = None,
        datacollector: bool = True,
        share_warm_up: bool = False,
        **settings: Any,
    ):
        _check_rng(rng)
        super().__init__(rng=_mesa_rng(seed, rng))
        firm_settings = {key: settings.pop(key) for key in FIRM_SETTINGS if key in settings}
        self.firms = _make_firms(firms, firm_settings)
        try:  # a firm stated in its own numbers: the people follow from its customers (sim.population)
            settings = population.sized(settings, self.firms)
        except ValueError as error:
            raise InputError(str(error)) from None
        self.parameters = make_parameters(**settings)
        self.stated_customers = population.stated_customers(self.firms)
        p = self.parameters

        self.month = -p.warm_up_months  # set-up; the warm-up months follow, month 0 is the last of them
        # the streams' keys count months from set-up, as they did when the month counter did:
        # naming the months differently must not change anyone's luck
        self.streams = Streams(int(self.rng.integers(2**63)), setup_month=self.month)
        self.n_firms = len(self.firms)
        self.firm_quality = np.array([f.quality for f in self.firms])
        self.firm_failure_rate = np.array([f.failure_rate for f in self.firms])
        self.firm_advertising = np.array([f.advertising for f in self.firms])
        # what the policies declare: every known policy's events and money (the tables of all arms
        # have the same columns), the state of the policies these firms run
        known = known_parts()
        self.tally = Tally(self.n_firms, EVENTS + declared("events", known))
        self.books = (REVENUES + declared("revenues", known), COSTS + declared("costs", known))
        self.ledger = Ledger(self.n_firms, *self.books)
        self._plugins = [plugins_of(firm.policies) for firm in self.firms]
        policy_states = declared_states(part for plugins in self._plugins for part in plugins)
        self.policies_on = False
        self._any_plugins = any(self._plugins)
        self._kept_zeros: dict[str, np.ndarray] = {}  # kept_zeros' arrays, by name

        allocation.keep_freed_arrays(p.n_people)  # millions of people: reuse freed arrays (sim.allocation)
        shared = _warmed.key(self) if share_warm_up else None
        if not _warmed.restore(self, shared):
            setup_rng = np.random.default_rng(int(self.streams.bits("setup", self.month, np.zeros(1))[0] >> np.uint64(1)))
            self.network = networks.build(p, setup_rng)
            if p.network == "edge_list":
                self.parameters = p = _people_of_file(p, self.network.n)
            self._set_contract_terms()
            self.customers = self._initial_customers(setup_rng)
            self.heard_positive = np.zeros((self.network.n, self.n_firms))
            for _ in range(p.warm_up_months):  # the status quo, without policies, until the state settles
                self._advance()
            _warmed.keep(self, shared)
        # the policies' state arrays join after the warm-up: no policy acts during it, so they
        # would have stayed at their initial values
        for state in policy_states:
            self.customers.add_state(state)
        self.policies_on = True
        landed = self._land_on_stated_customers()
        self._open_books()
        if landed is not None:
            self.tally.add_by_firm("customers_landed", np.arange(self.n_firms), weights=landed)
        if self.network.n <= p.agent_view_limit:
            self._place_agents()

        self.metrics = monthly_metrics(self)
        self.history = [np.array(list(self.metrics.values()), dtype=float)]  # one (metric x firm) array a month
        names = [f.name for f in self.firms]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                f"{metric}[{name}]": partial(_read_metric, metric, k)
                for metric in self.metrics
                for k, name in enumerate(names)
            }
        ) if datacollector else None
        self._collect()

    def _set_contract_terms(self) -> None:
        p = self.parameters
        self.firm_price = np.array([f.price or p.price for f in self.firms])
        self.firm_contract_months = np.array(
            [p.contract_months if f.contract_months is None else f.contract_months for f in self.firms]
        )

    # --- the month -------------------------------------------------------------
    def step(self) -> None:
        """One month: experience, complaints, word of mouth, churn, acquisition, accounting."""
        self._advance()
        self.metrics = monthly_metrics(self)
        self.history.append(np.array(list(self.metrics.values()), dtype=float))
        self._collect()
        if self.month >= self.parameters.months:
            self.running = False

    def run(self, months: int | None = None) -> Market:
        """Run to the horizon (or for `months` more months); returns the market."""
        if months is not None and not _whole(months):
            raise ValueError(f"months = {months!r} is not allowed: give a whole number of months, 0 or more "
                             f"(or leave it out to run to the horizon)")
        stop = self.month + months if months is not None else self.parameters.months
        while self.month < stop:
            self.step()
        return self

    def _collect(self) -> None:
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def _advance(self) -> None:
        self.month += 1
        self.tally.reset()
        if not self.warming_up:  # read by the metrics, which start at month 0
            self.customers_at_start = self._customers_per_firm()
        for phase in MONTH:
            phase.run(self)

    def _customers_per_firm(self) -> np.ndarray:
        fast = compiled.kernels()
        if fast is not None:
            return fast.customers_by_firm(self.customers.firm, self.n_firms)
        return np.bincount(self.customers.firm[self.customers.is_customer], minlength=self.n_firms).astype(float)

    def _open_books(self) -> None:
        """Month 0: the retention cohort, the ledger and the counts start here."""
        self.tally.reset()
        self.ledger = Ledger(self.n_firms, *self.books)
        self.customers.initial_firm[:] = self.customers.firm
        self.initial_customers = self._customers_per_firm()
        self.customers_at_start = self.initial_customers.copy()

    # --- services to the phases and policies ----------------------------------
    def policies_of(self, firm: int) -> tuple:
        """What firm `firm` runs now: its shared parts, then its policies (none during the warm-up)."""
        return self._plugins[firm] if self.policies_on else ()

    def kept_zeros(self, name: str, shape: tuple, dtype=float) -> np.ndarray:
        """A scratch array of zeros kept on the market from month to month: a compiled phase sums
        into it and leaves it zero again, as fresh zeros each month cost more than the sums at a
        million people. Made at first use (and again if the shape changed)."""
        kept = self._kept_zeros.get(name)
        if kept is None or kept.shape != shape:
            kept = self._kept_zeros[name] = np.zeros(shape, dtype)
        return kept

    @property
    def warming_up(self) -> bool:
        """Before month 0: no policy acts, nothing is counted or booked (the books open at month 0)."""
        return not self.policies_on

    @property
    def policies_act(self) -> bool:
        """Whether any firm runs a policy now (none does during the warm-up): phases skip the
        policies' hooks, and what only they need, when none does."""
        return self.policies_on and self._any_plugins

    def for_each_policy(self, hook: str, people: np.ndarray) -> None:
        """Call `hook` of every policy (and shared part) of every firm with that firm's share of `people`."""
        if not self.policies_act:
            return
        firm_of = self.customers.firm[people]
        for k in range(self.n_firms):
            if self.policies_of(k):
                mine = people[firm_of == k]
                for policy in self.policies_of(k):
                    getattr(policy, hook)(self, k, mine)

    def welcome(self, people: np.ndarray, firm, channel) -> None:
        """People join `firm` (an index, or one per person) through `channel` (a code of CHANNELS,
        or one per person)."""
        if people.size == 0:
            return
        firm, k = np.asarray(firm, np.int64), self.n_firms
        if firm.ndim == 0:
            firm = np.full(people.size, firm)
        joined = np.bincount(np.asarray(channel, np.int64) * k + firm, minlength=len(CHANNELS) * k).reshape(-1, k)
        if joined[INITIAL].any():
            raise ValueError("welcome: a channel of joining is 'initial', which only the set-up uses")
        self.customers.join(people, firm, channel, self.month, self)
        self.tally.add_rows(ACQUIRED, joined[INITIAL + 1:])

    # --- views for researchers ---------------------------------------------------
    def monthly(self):
        """The monthly series as a DataFrame: one row per (month, firm), the firms of a month in
        order of name, one column per metric."""
        import pandas as pd

        series = np.stack(self.history)  # month x metric x firm
        n_months, n_metrics, n_firms = series.shape
        names = np.array([firm.name for firm in self.firms], dtype=object)
        by_name = np.argsort(names, kind="stable")
        # the rows in their order as one array, then one frame: not a frame per firm, concatenated and sorted
        rows = series[:, :, by_name].transpose(0, 2, 1).reshape(n_months * n_firms, n_metrics)
        frame = pd.DataFrame(rows, columns=list(self.metrics))
        frame.insert(0, "firm", np.tile(names[by_name], n_months))
        frame.insert(0, "month", np.repeat(np.arange(n_months), n_firms))
        return frame

    def customer_table(self):
        """Every person's state now, as a DataFrame (with the 0-10 answer a customer would give to
        "how likely are you to recommend us?", `metrics.likelihood_to_recommend`)."""
        frame = self.customers.to_frame(self)
        c = self.customers
        score = likelihood_to_recommend(c.satisfaction, c.loyalty, self.parameters).astype(float)
        frame.insert(frame.columns.get_loc("loyalty") + 1, "recommend_0_10", np.where(c.is_customer, score, np.nan))
        return frame

    # --- set-up ------------------------------------------------------------------
    def _initial_customers(self, rng: np.random.Generator) -> Customers:
        p, n = self.parameters, self.network.n
        c = Customers(n, self.n_firms)
        c.temperament = np.clip(rng.normal(p.temperament_mean, p.temperament_spread, n), 0.0, 1.0)
        c.satisfaction = c.temperament.copy()
        if p.poorly_served_share > 0:
            c.poorly_served = self.streams.chance("poorly_served", self.month, np.arange(n), p.poorly_served_share)
        shares = np.array([f.initial_share if f.initial_share is not None else np.nan for f in self.firms])
        unset = np.isnan(shares)  # firms without a share split what the others leave
        shares[unset] = max(0.0, 1.0 - shares[~unset].sum()) / max(unset.sum(), 1)
        shares = shares / shares.sum() if shares.sum() > 0 else np.full(self.n_firms, 1.0 / self.n_firms)
        if self.stated_customers is not None:  # start where month 0 should land (sim.population)
            shares = self.stated_customers / max(int(self.stated_customers.sum()), 1)
        is_customer = rng.random(n) < population.penetration_of(p)
        people = np.flatnonzero(is_customer)
        firm = np.minimum(np.searchsorted(np.cumsum(shares), rng.random(people.size), side="right"), self.n_firms - 1)
        c.join(people, firm, INITIAL, self.month, self)
        months = self.firm_contract_months[firm]
        # contracts run out evenly over the coming contract length; tenure up to three years
        runs_out = self.month + 1 + (rng.random(people.size) * np.maximum(months, 1)).astype(int)
        c.contract_end[people] = np.where(months > 0, runs_out, NEVER)
        c.tenure[people] = rng.integers(0, 36, people.size)
        mean = p.initial_loyalty_mean
        c.loyalty[people] = rng.beta(2.0 * mean / (1 - mean + 1e-9) + 1e-9, 2.0, people.size) if 0 < mean < 1 else mean
        return c

    def _land_on_stated_customers(self) -> np.ndarray | None:
        """Month 0: each firm that states its customers gets exactly that many (sim.population).

        A firm with too many loses random customers, who become prospects that never were
        customers; one with too few gains random prospects, each taking the relationship of a
        random customer of that firm. Returns the change per firm (+ added, - removed)."""
        target = self.stated_customers
        if target is None:
            return None
        c, month = self.customers, self.month
        change = target - np.bincount(c.firm[c.is_customer], minlength=self.n_firms)
        for k in np.flatnonzero(change < 0):  # removals first: they free prospects for the others
            members = np.flatnonzero(c.firm == k)
            order = np.argsort(self.streams.uniform("landing_removed", month, members), kind="stable")
            c.forget(members[order[: -change[k]]])
        for k in np.flatnonzero(change > 0):
            members = np.flatnonzero(c.firm == k)
            prospects = np.flatnonzero(~c.is_customer)
            order = np.argsort(self.streams.uniform(f"landing_added_{k}", month, prospects), kind="stable")
            joining = prospects[order[: change[k]]]
            change[k] = joining.size  # at most everyone who is not a customer yet
            if members.size:
                pick = self.streams.uniform(f"landing_donor_{k}", month, joining) * members.size
                c.take_relationship(joining, members[pick.astype(np.int64)])
            else:  # nobody to take after: they join afresh
                self.customers.join(joining, np.full(joining.size, k), INITIAL, month, self)
        return change.astype(float)

    def _place_agents(self) -> None:

        self.grid = network_space(self.network.to_networkx(), random=self.random)
        for person in range(self.network.n):
            Customer(self, person, self.grid[person])


class _WarmedUp:
    """Markets just warmed up, kept for the next market that would warm up the same way.

    The warm-up runs without policies, so the arms of one replication (same seed, same market,
    same firms but for their policies) warm up to the same state: a market built with
    `share_warm_up=True` starts from a copy of it instead of recomputing it (experiment runs:
    with two arms, about a fifth of the work). Only markets of a generated network are kept
    (a file may change), newest first, up to `budget_bytes` of arrays in all.
    """

    def __init__(self, budget_bytes: int = 256 * 2**20):
        self.budget_bytes = budget_bytes
        self.kept: dict[tuple, tuple] = {}  # key -> (state, bytes), oldest first
        self.lock = threading.Lock()  # the dashboard builds markets from several threads

    def key(self, market) -> tuple | None:
        p = market.parameters
        if p.network == "edge_list":
            return None
        firms = tuple(firm.model_dump_json(exclude={"policies"}) for firm in market.firms)
        return market.streams.root, p.model_dump_json(), firms

    def restore(self, market, key) -> bool:
        with self.lock:
            found = self.kept.get(key) if key is not None else None
        if found is None:
            return False
        (network, customers, heard_positive, month), _ = found
        market.network, market.month = network, month
        market._set_contract_terms()
        market.customers, market.heard_positive = copy.deepcopy(customers), heard_positive.copy()
        return True

    def keep(self, market, key) -> None:
        if key is None:
            return
        customers = copy.deepcopy(market.customers)
        size = sum(v.nbytes for v in vars(customers).values() if isinstance(v, np.ndarray))
        size += market.heard_positive.nbytes
        if size > self.budget_bytes:
            return
        with self.lock:
            self.kept[key] = ((market.network, customers, market.heard_positive.copy(), market.month), size)
            while sum(bytes_ for _, bytes_ in self.kept.values()) > self.budget_bytes:
                del self.kept[next(iter(self.kept))]


_warmed = _WarmedUp()


def _mesa_rng(seed, rng):
    """What Mesa gets as `rng=`: the seed, or the given rng (Mesa 3.5 warns about `seed=`, 4.0 drops it).

    For a whole number Mesa seeds both its generators from it exactly as `seed=` did, so
    results are unchanged.
    """
    if seed is None:
        return rng
    if rng is not None:
        raise ValueError("give the market a seed or an rng, not both")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed = {seed!r} is not allowed: a whole number >= 0")
    return int(seed)


def _read_metric(metric: str, firm: int, market: Market) -> float:
    return float(market.metrics[metric][firm])


def _check_rng(value: Any) -> None:
    """`rng` is a whole number 0 or more, or a numpy Generator, SeedSequence or BitGenerator (which
    Mesa takes as they are): said with the keyword's name, not in numpy's words."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator)):
        return
    if not _whole(value):
        raise ValueError(f"rng = {value!r} is not allowed: give a whole number, 0 or more, or a numpy Generator "
                         f"(or leave it out)")


def _whole(value: Any) -> bool:
    """A whole number, 0 or more (True and False are not numbers here)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0


def _people_of_file(p, people: int):
    """With network edge_list the file decides who is in the market: n_people, if given, must agree."""
    if "n_people" in p.model_fields_set and p.n_people != people:
        raise ValueError(f"n_people = {p.n_people} is not allowed: the edge-list file {p.edge_list_path!r} has "
                         f"{people:,} people, and with network edge_list the file decides (leave n_people out, "
                         f"or give {people})")
    return p.model_copy(update={"n_people": people})


def _make_firms(firms, flat: dict[str, Any]) -> list[Firm]:
    if firms is not None and flat:
        raise ValueError(f"give the firms either as firms=[...] or as flat settings ({', '.join(flat)}), not both")
    if firms is not None and (isinstance(firms, (str, bytes, dict, Firm)) or not hasattr(firms, "__iter__")):
        raise ValueError(f"firms = {firms!r} is not allowed: give a list of Firm(...) or of dicts of firm settings")
    specs = [flat] if firms is None else list(firms)
    if not specs:
        raise ValueError("firms = [] is not allowed: a market needs at least one firm")
    made = [_make_firm(spec, ("firms", i) if firms is not None else ()) for i, spec in enumerate(specs)]
    names = [f.name for f in made]
    if len(set(names)) != len(names):
        raise ValueError(f"firm names = {names} are not allowed: each firm needs its own name")
    return made


def _make_firm(spec: Firm | dict, prefix: tuple) -> Firm:
    if isinstance(spec, Firm):
        return spec
    if not isinstance(spec, dict):
        where = f"firms[{prefix[1]}]" if prefix else "firm"
        raise ValueError(f"{where} = {spec!r} is not allowed: give a Firm(...) or a dict of firm settings")
    return validated(Firm, spec, prefix)
