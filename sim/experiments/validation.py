"""Validation: does the model reproduce the patterns and facts it was built from?

    from sim.validation import check_model, format_table
    checks = check_model(quick=True)
    print(format_table(checks))

`grapevine check-model [--quick]` prints the same table. Each target is a small function
that runs the engine and returns `Check` rows (target, source, simulated value, tolerance,
pass or fail). The ladder follows mission-anchors.md section 6:

1. docking to the Bass (1969) closed form under complete mixing (Rand & Rust 2011);
2. network structure slows diffusion (Rand & Rust 2011);
3. weak ties at least as strong as strong ties (Goldenberg, Libai & Muller 2001);
4. a few disappointed customers cost a disproportionate share of NPV (Goldenberg et al. 2007,
   docked with their rejecters who pass the bad news on);
5. the default market reproduces the facts its defaults were drawn from: complaint rates,
   the TARP repurchase table, the Nitzan & Libai (2011) peer-defection hazard ratio and
   its decay (measured from simulated churn, not read from the parameter), and monthly churn
   in the sector band of each shipped scenario;
6. the evidence preset (`sim.presets.EVIDENCE_WOM`) reproduces the word-of-mouth incidence
   it was drawn from (Wharton/Verde 2006, East et al. 2007).

Tolerances are written next to each target with the reason for their width, and were fixed
before the values were measured. A row marked LIMIT is a documented limitation of the engine
(something it cannot express) and a row marked info is shown for contrast; both are shown
with their number but not counted as pass or fail.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

import pandas as pd

from ..formatting import markdown_table, text_table
from ..market import Market
from ..phases.word_of_mouth import negative_reach
from ..presets import EVIDENCE_WOM
from ..scenario import SHIPPED, load_scenario
from ..sectors import SECTORS, Sector
from .design import Experiment
from .folder import RunFolder, kept_or_temporary

PASS, FAIL, LIMIT, INFO = "pass", "FAIL", "LIMIT", "info"


@dataclass(frozen=True)
class Check:
    """One row of the validation table."""

    target: str
    source: str
    simulated: str
    tolerance: str
    status: str  # pass | FAIL | LIMIT (engine cannot express it) | info (contrast, no claim)
    value: float = math.nan
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def as_tuple(self) -> tuple[str, str, str, str, bool]:
        return self.target, self.source, self.simulated, self.tolerance, self.passed


def _status(ok: bool) -> str:
    return PASS if ok else FAIL


@dataclass(frozen=True)
class Size:
    """How big the validation runs are. `quick` is for tests and CI (well under two minutes
    on two cores); `full` is the default of `grapevine check-model` (several minutes)."""

    name: str
    bass_people: int
    bass_seeds: int
    network_people: int
    network_seeds: int
    market_people: int  # the default market (TARP, complaints, peer churn, evidence preset)
    market_seeds: int
    npv_people: int
    npv_seeds: int
    scenario_people: int | None  # None: each scenario's own size
    scenario_seeds: int


QUICK = Size("quick", bass_people=20_000, bass_seeds=4, network_people=10_000, network_seeds=3,
             market_people=8_000, market_seeds=2, npv_people=5_000, npv_seeds=4,
             scenario_people=3_000, scenario_seeds=2)
FULL = Size("full", bass_people=100_000, bass_seeds=3, network_people=30_000, network_seeds=6,
            market_people=30_000, market_seeds=3, npv_people=20_000, npv_seeds=8,
            scenario_people=None, scenario_seeds=4)


# --- 1. Bass docking -----------------------------------------------------------------------
P_YEAR, Q_YEAR = 0.03, 0.38  # Sultan, Farley & Lehmann (1990) meta-analytic means

# One firm, advertising p and referrals q only, no failures, no churn, everyone an advocate
# (all mood thresholds at 0), no attitude effects: the engine's hazard is then p + q F(t).
BASS = dict(
    network="complete", initial_customer_share=0.0, warm_up_months=0,
    advertising=P_YEAR / 12, imitation=Q_YEAR / 12,
    failure_rate=0.0, quality_noise=0.0, base_churn=0.0, contract_break_probability=0.0, contract_months=0,
    delighted_above=0.0, satisfied_above=0.0, dissatisfied_below=0.0,
    attitude_on_joining=0.0, peer_defection_effect=0.0,
)


def bass_closed_form(t: np.ndarray, p: float = P_YEAR, q: float = Q_YEAR) -> np.ndarray:
    """Bass (1969) cumulative adoption F(t), t in years."""
    e = np.exp(-(p + q) * np.asarray(t, float))
    return (1.0 - e) / (1.0 + (q / p) * e)


def bass_peak_years(p: float = P_YEAR, q: float = Q_YEAR) -> float:
    return math.log(q / p) / (p + q)


def bass_plateau(share: float = 0.98, p: float = P_YEAR, q: float = Q_YEAR) -> tuple[float, float]:
    """The years around the peak where the closed-form adoption rate stays within `share` of its
    maximum: inside it the peak time is not identified by the curve itself."""
    t = np.linspace(0, 30, 30_001)
    rate = np.gradient(bass_closed_form(t, p, q), t)
    inside = t[rate >= share * rate.max()]
    return float(inside.min()), float(inside.max())


def adoption_curve(seed: int, n_people: int, months: int, **settings) -> np.ndarray:
    """Share of people who are customers at months 0..months (one firm, no churn)."""
    market = Market(seed=seed, n_people=n_people, months=months, **{**BASS, **settings})
    shares = [0.0]
    while market.running:
        market.step()
        shares.append(float(market.customers.is_customer.mean()))
    return np.array(shares)


@lru_cache(maxsize=4)
def _bass_runs(size: Size) -> np.ndarray:
    return np.array([adoption_curve(seed, size.bass_people, 240) for seed in range(size.bass_seeds)])


def check_bass_curve(size: Size) -> list[Check]:
    curves = _bass_runs(size)
    mean = curves.mean(axis=0)
    months = np.arange(mean.size)
    gap = np.abs(mean - bass_closed_form(months / 12))
    worst = int(gap.argmax())
    return [Check(
        "Bass docking: ensemble F(t) vs closed form, max |diff| over 20 years",
        "Bass 1969; Rand & Rust 2011 (p=0.03, q=0.38/yr)",
        f"{gap.max():.4f} (at {worst / 12:.1f} yr)", "<= 0.02 at every month",
        _status(gap.max() <= 0.02), float(gap.max()),
        f"{size.bass_seeds} runs of {size.bass_people:,} people, complete mixing, monthly steps",
    )]


def check_bass_peak(size: Size) -> list[Check]:
    mean = _bass_runs(size).mean(axis=0)
    rate = np.diff(mean)  # adoption in month m (between m-1 and m)
    smooth = np.convolve(rate, np.ones(5) / 5, mode="same")  # a 5-month moving average against noise
    peak = (int(smooth.argmax()) + 0.5) / 12  # the middle of that month
    low, high = bass_plateau()
    return [Check(
        "Bass docking: peak of the adoption rate",
        f"closed form t* = ln(q/p)/(p+q) = {bass_peak_years():.2f} yr",
        f"{peak:.2f} yr", f"{low:.2f}-{high:.2f} yr (rate within 2% of its peak)",
        _status(low <= peak <= high), peak,
    )]


# --- 2. Network structure slows diffusion --------------------------------------------------
def time_to_share(curve: np.ndarray, share: float) -> float:
    """Months until the adoption curve first reaches `share` (linear between months)."""
    above = np.flatnonzero(curve >= share)
    if above.size == 0:
        return math.nan
    m = int(above[0])
    if m == 0:
        return 0.0
    return m - 1 + (share - curve[m - 1]) / max(curve[m] - curve[m - 1], 1e-12)


@lru_cache(maxsize=8)
def _t50(size: Size, network: str, rewiring: float) -> np.ndarray:
    settings = dict(network=network, rewiring=rewiring, weak_tie_weight=1.0, strong_tie_weight=1.0)
    return np.array([time_to_share(adoption_curve(seed, size.network_people, 240, **settings), 0.5)
                     for seed in range(size.network_seeds)])


def _slower(size: Size, label: str, rewiring: float) -> Check:
    mixed = _t50(size, "complete", 0.0)
    net = _t50(size, "small_world", rewiring)
    diff = net - mixed
    se = float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else math.nan
    ok = bool(diff.mean() > 0 and diff.mean() > 3 * se)
    return Check(
        f"Network slows diffusion: {label} vs complete mixing, time to 50% adopted",
        "Rand & Rust 2011 (same p, q; tie weights equal)",
        f"{net.mean() / 12:.2f} vs {mixed.mean() / 12:.2f} yr (+{diff.mean():.1f} +/- {se:.1f} months)",
        "later, by more than 3 standard errors", _status(ok), float(diff.mean()),
        f"{size.network_seeds} seeds of {size.network_people:,} people, mean degree 10",
    )


def check_network_small_world(size: Size) -> list[Check]:
    return [_slower(size, "small world (rewiring 0.1)", 0.1)]


def check_network_lattice(size: Size) -> list[Check]:
    return [_slower(size, "ring lattice (rewiring 0)", 0.0)]


# --- 3. Goldenberg, Libai & Muller 2001: weak ties ------------------------------------------
# Personal groups joined by strong ties, weak ties to anyone (the GLM 2001 structure): about
# half of each person's ties are weak, so a unit of influence added per weak tie and per strong
# tie is the same amount of talk in total; any difference comes from where the ties lead.
TIES = dict(network="communities", community_size=9, mean_degree=10, between_community_share=0.5)
TIE_STEP = 0.4  # added to the weight of one kind of tie (the default weak weight)


@lru_cache(maxsize=4)
def _tie_runs(size: Size) -> dict[str, np.ndarray]:
    base = dict(strong_tie_weight=1.0, weak_tie_weight=0.4)
    arms = {
        "base": base,
        "strong+": {**base, "strong_tie_weight": base["strong_tie_weight"] + TIE_STEP},
        "weak+": {**base, "weak_tie_weight": base["weak_tie_weight"] + TIE_STEP},
    }
    return {arm: np.array([time_to_share(adoption_curve(seed, size.network_people, 240, **TIES, **w), 0.5)
                           for seed in range(size.network_seeds)])
            for arm, w in arms.items()}


def check_weak_ties(size: Size) -> list[Check]:
    runs = _tie_runs(size)
    strong = runs["base"] - runs["strong+"]  # months saved, paired by seed (same network and luck)
    weak = runs["base"] - runs["weak+"]
    ratio = weak.mean() / strong.mean() if strong.mean() > 0 else math.inf
    return [Check(
        "Weak-tie effect >= strong-tie effect (months to 50% saved by +0.4 weight per tie)",
        "Goldenberg, Libai & Muller 2001",
        f"weak {weak.mean():.1f} vs strong {strong.mean():.1f} months (ratio {ratio:.2f})",
        "weak >= strong", _status(bool(weak.mean() >= strong.mean() and weak.mean() > 0)), float(ratio),
        f"communities of 9, half the ties weak; {size.network_seeds} paired seeds",
    )]


# --- 4. Goldenberg et al. 2007: the NPV of bad news -----------------------------------------
# Docked as Goldenberg, Libai, Moldovan & Muller (2007) built it: a launch from zero on strong
# cliques with weak ties; a fixed share of the market is disappointed by the product (here:
# the service fails them every month) and only they are unhappy (no other failures, no
# spread of temperament or quality); whoever hears bad news first rejects the product for
# good and tells others, twice as often as advocates recommend (their NWOM multiplier 2):
# permanent attitudes, relay_probability = 2 x referral_probability to referral_reach peers.
# NPV loss = 1 - NPV with negative talk / NPV without it (the same disappointed customers).
BAD_NEWS = dict(
    initial_customer_share=0.0, warm_up_months=0, months=120, **TIES,
    failure_rate=0.0, quality_noise=0.0, temperament_spread=0.0,
    attitude_memory=1.0, relay_probability=0.2, relay_reach=3,
)
DISAPPOINTED_SHARES = (0.02, 0.05, 0.10, 0.15)  # the paper's range: "relatively small" shares
ENGINE_DEFAULT_RELAY = dict(attitude_memory=0.9, relay_probability=0.0)  # contrast: no rejecters' talk


def _npv_loss(seed: int, size: Size, share: float, **settings) -> float:
    def npv(talk: float) -> float:
        market = Market(seed=seed, n_people=size.npv_people, poorly_served_share=share,
                        negative_talk_probability=talk, **{**BAD_NEWS, **settings})
        return float(market.run().ledger.npv[0])

    return 1.0 - npv(1.0) / npv(0.0)


FEW_WEAK_TIES = dict(between_community_share=0.1)  # "weak ties become a negative force": vs half


@lru_cache(maxsize=4)
def _bad_news(size: Size) -> dict[tuple[float, str], np.ndarray]:
    """NPV loss per seed (paired: the same seeds in every row)."""
    runs = [(share, "docked", {}) for share in DISAPPOINTED_SHARES]
    runs += [(0.05, "no relay", ENGINE_DEFAULT_RELAY), (0.05, "few weak ties", FEW_WEAK_TIES)]
    return {(share, label): np.array([_npv_loss(seed, size, share, **settings) for seed in range(size.npv_seeds)])
            for share, label, settings in runs}


def check_bad_news(size: Size) -> list[Check]:
    runs = _bad_news(size)
    detail = f"launch, 10 years, communities of 9 with weak ties; {size.npv_seeds} paired seeds"
    rows = []
    for share in DISAPPOINTED_SHARES:
        loss = runs[share, "docked"].mean()
        rows.append(Check(
            f"NPV of bad news: {share:.0%} of the market disappointed", "Goldenberg, Libai, Moldovan & Muller 2007",
            f"NPV loss {loss:.1%} ({loss / share:.1f}x the disappointed share)", "loss > disappointed share",
            _status(loss > share), loss / share, detail,
        ))
    half, tenth = runs[0.05, "docked"], runs[0.05, "few weak ties"]
    gain = half - tenth
    se = gain.std(ddof=1) / math.sqrt(gain.size) if gain.size > 1 else math.inf
    rows.append(Check(
        "Weak ties carry bad news: NPV loss at 5% disappointed, half vs a tenth of ties weak",
        "Goldenberg, Libai, Moldovan & Muller 2007: weak ties can become a negative force",
        f"{half.mean():.1%} vs {tenth.mean():.1%} (+{gain.mean():.1%} +/- {se:.1%})",
        "larger with more weak ties, by more than 3 standard errors", _status(gain.mean() > 3 * se), gain.mean(),
        detail,
    ))
    default = runs[0.05, "no relay"].mean()
    rows.append(Check(
        "NPV of bad news: 5% disappointed, engine default (bad news fades, nobody passes it on)",
        "Goldenberg, Libai, Moldovan & Muller 2007", f"NPV loss {default:.1%} ({default / 0.05:.1f}x the share)",
        "-", INFO, default / 0.05, detail,
    ))
    return rows


# --- 5. The default market against the facts behind its defaults ---------------------------
HISTORIES = ("no problem", "silent problem", "complained, unresolved", "complained, resolved")


@dataclass
class MarketFacts:
    """What one set of runs of the default market measured."""

    renewals: dict = field(default_factory=lambda: {h: [0, 0] for h in HISTORIES})
    failures: int = 0
    complaints: int = 0
    became_unhappy: int = 0
    talkers: int = 0
    told_one: int = 0  # talkers who told exactly one person, and six or more (the engine's own draws)
    told_six_plus: int = 0
    negative: float = 0.0
    positive: float = 0.0
    churn: list = field(default_factory=list)
    peer: dict = field(default_factory=lambda: {k: [0, 0] for k in ("none", 1, 2, 3)})  # lag -> [at risk, left]


def measure_market(seeds: int, n_people: int, policies=(), peer=False, **settings) -> MarketFacts:
    """Run the default market (with `settings` changed) and count what the targets need.

    Renewal by history follows bench/calibrate.py: what happened since the last renewal
    (no problem; a failure but no complaint; a complaint not resolved; a resolved one).
    With `peer`, the churn hazard is measured by exposure: customers one, two or three months
    after a contact left (and no contact left in the other months of the last six), against
    customers none of whose contacts left in the last six months."""
    facts = MarketFacts()
    for seed in range(seeds):
        market = Market(seed=seed, n_people=n_people, policies=list(policies), **settings)
        c, p = market.customers, market.parameters
        problem = np.zeros(c.n, bool)
        complained = np.zeros(c.n, bool)
        resolved = np.zeros(c.n, bool)
        recent = []  # contacts who left, by month, most recent last (up to six months)
        while market.running:
            month = market.month + 1
            due = np.flatnonzero(c.contract_end == month)
            firm_before = c.firm[due].copy()
            customer_before = c.is_customer.copy()
            free = customer_before & ((c.contract_end == month) | (c.contract_end < 0))
            market.step()
            # renewals by history
            problem |= c.failed
            complained |= c.complained
            resolved |= c.resolved
            stayed = c.firm[due] == firm_before
            history = np.select([~problem[due], ~complained[due], ~resolved[due]], list(HISTORIES[:3]), HISTORIES[3])
            for kind in HISTORIES:
                these = history == kind
                facts.renewals[kind][0] += int(these.sum())
                facts.renewals[kind][1] += int(stayed[these].sum())
            problem[due] = complained[due] = resolved[due] = False
            # complaints and talk
            facts.failures += int(c.failed.sum())
            facts.complaints += int(c.complained.sum())
            # became dissatisfied this month (the engine's rule for who may talk, phase 2)
            newly = customer_before & (c.satisfaction_before >= p.dissatisfied_below) & (
                c.satisfaction < p.dissatisfied_below)
            facts.became_unhappy += int(newly.sum())
            facts.talkers += int((c.talks_negative & newly).sum())
            told = people_told(market, np.flatnonzero(c.talks_negative & newly))
            facts.told_one += int((told == 1).sum())
            facts.told_six_plus += int((told >= 6).sum())
            m = market.metrics
            facts.negative += float(np.sum(m["messages_negative"]))
            facts.positive += float(np.sum(m["messages_positive"]))
            facts.churn.append(float(np.mean(m["churn_rate"])))
            # peer defection
            left_now = customer_before & (c.left_month == market.month)
            if peer:
                if len(recent) == 6:
                    exposed = [r > 0 for r in recent[::-1]]  # exposed[0]: contacts left last month
                    any_exposed = np.logical_or.reduce(exposed)
                    groups = {"none": ~any_exposed}
                    for lag in (1, 2, 3):
                        others = np.logical_or.reduce([e for k, e in enumerate(exposed) if k != lag - 1])
                        groups[lag] = exposed[lag - 1] & ~others
                    for key, group in groups.items():
                        at_risk = free & group
                        facts.peer[key][0] += int(at_risk.sum())
                        facts.peer[key][1] += int((at_risk & left_now).sum())
                recent.append(market.network.count_among_contacts(left_now))
                recent = recent[-6:]
    return facts


def people_told(market: Market, talkers: np.ndarray) -> np.ndarray:
    """How many people each of this month's talkers told: the engine's keyed draw again
    (same stream, same month, same ids, so the same numbers), capped by their contacts."""
    net = market.network
    cap = net.n - 1 if net.complete else np.diff(net.indptr)[talkers]
    return np.minimum(negative_reach(market, talkers), cap)


@lru_cache(maxsize=4)
def _default_market(size: Size) -> MarketFacts:
    return measure_market(size.market_seeds, size.market_people)


@lru_cache(maxsize=4)
def _recovery_market(size: Size) -> MarketFacts:
    return measure_market(size.market_seeds, size.market_people, policies=("ServiceRecovery(effort=1)",))


@lru_cache(maxsize=4)
def _no_contract_market(size: Size) -> MarketFacts:
    return measure_market(size.market_seeds, size.market_people, peer=True, contract_months=0)


def check_complaint_rate(size: Size) -> list[Check]:
    f = _default_market(size)
    rate = f.complaints / max(f.failures, 1)
    return [Check(
        "Complaint rate: complaints per service failure (default market)",
        "Wharton/Verde 2006: 6% told the firm; TARP: ~50% complain",
        f"{rate:.1%} of {f.failures:,}", "6-50%", _status(0.06 <= rate <= 0.50), rate,
    )]


# TARP (via Fast Company 2003), small-loss column, which the defaults were calibrated to; the
# engine has one failure severity and answers complaints within the month. Tolerance +/-5
# points: half the smallest gap between adjacent cells (37 vs 46), so the cells stay distinct.
TARP = {
    "no problem": (88.0, 5.0, "95/1.08: resolved-quickly complainers are up to 8% more loyal"),
    "silent problem": (37.0, 5.0, "did not complain, loss < $5"),
    "complained, unresolved": (46.0, 5.0, "complained, not satisfied, loss < $5"),
}


def check_tarp(size: Size) -> list[Check]:
    rows = []
    plain = _default_market(size)
    for kind, (target, tol, note) in TARP.items():
        decided, renewed = plain.renewals[kind]
        rate = 100.0 * renewed / decided if decided else math.nan
        rows.append(Check(
            f"TARP renewal after {kind} (no policy)", f"TARP/Goodman: {note}",
            f"{rate:.1f}% of {decided:,}", f"{target:.0f} +/- {tol:.0f}%",
            _status(abs(rate - target) <= tol), rate,
        ))
    decided, renewed = _recovery_market(size).renewals["complained, resolved"]
    rate = 100.0 * renewed / decided if decided else math.nan
    rows.append(Check(
        "TARP renewal after complained, resolved (ServiceRecovery effort 1)",
        "TARP/Goodman: resolved 70%, resolved quickly 95% (loss < $5)",
        f"{rate:.1f}% of {decided:,}", "70-95% (speed not modelled)",
        _status(70.0 <= rate <= 95.0), rate,
    ))
    order = [100.0 * plain.renewals[k][1] / max(plain.renewals[k][0], 1) for k in HISTORIES[1:3]] + [rate]
    rows.append(Check(
        "TARP gradient: silent < complained unresolved < resolved",
        "TARP/Goodman (both loss columns)",
        " < ".join(f"{v:.1f}" for v in order), "strictly increasing",
        _status(order[0] < order[1] < order[2]), order[1] - order[0],
    ))
    return rows


def _hazard(pair: list[int]) -> float:
    return pair[1] / pair[0] if pair[0] else math.nan


def check_peer_hazard(size: Size) -> list[Check]:
    f = _no_contract_market(size)
    base = _hazard(f.peer["none"])
    ratio = _hazard(f.peer[1]) / base
    exposed, left = f.peer[1]
    # the standard error of a log ratio of two proportions
    se = math.sqrt(max(1 / max(left, 1) - 1 / exposed, 0) + max(1 / max(f.peer["none"][1], 1) - 1 / f.peer["none"][0], 0))
    return [Check(
        "Peer defection: churn hazard ratio the month after a contact left",
        "Nitzan & Libai 2011: +79.7% ('about 80%')",
        f"{ratio:.2f} (95% CI {ratio * math.exp(-1.96 * se):.2f}-{ratio * math.exp(1.96 * se):.2f}; {left:,} of {exposed:,})",
        "1.8 +/- 0.3", _status(abs(ratio - 1.8) <= 0.3), ratio,
        "default market without contracts (every month is a decision); raw ratio, no covariates",
    )]


def check_peer_decay(size: Size) -> list[Check]:
    f = _no_contract_market(size)
    base = _hazard(f.peer["none"])
    excess = [_hazard(f.peer[lag]) / base - 1.0 for lag in (1, 2, 3)]
    share = excess[2] / excess[0] if excess[0] > 0 else math.nan
    return [Check(
        "Peer defection decays: excess hazard 3 months after vs 1 month after",
        "Nitzan & Libai 2011: exponential decay, strongest in month 1",
        "excess " + ", ".join(f"{e:+.0%}" for e in excess) + f" at lags 1-3 (ratio {share:.2f})",
        "lag 3 <= half of lag 1", _status(bool(excess[0] > 0 and share <= 0.5)), share,
    )]


def scenario_churn(path: Path, size: Size) -> tuple[str, float, Sector]:
    """Mean monthly churn of the baseline arm's focal firm (every firm, head to head)."""
    scenario = load_scenario(path)
    groups = scenario.groups
    firms, market = scenario.run_settings(groups.runs[0] if groups.head_to_head else groups.baseline)
    if size.scenario_people:
        market["n_people"] = size.scenario_people
    rates = []
    for seed in range(size.scenario_seeds):
        monthly = Market(firms=firms, seed=seed, **market).run().monthly()
        monthly = monthly[monthly.month > 0]
        if groups.focal_firm:
            monthly = monthly[monthly.firm == groups.focal_firm]
        rates.append(float(monthly.churn_rate.mean()))
    return scenario.name, float(np.mean(rates)), SECTORS[scenario.sector]


def check_sector_churn(size: Size) -> list[Check]:
    rows = []
    for path in sorted(SHIPPED.glob("*.yaml")):
        name, rate, sector = scenario_churn(path, size)
        rows.append(Check(
            f"Monthly churn, scenario {name} (baseline arm)", sector.source,
            f"{rate:.2%}", f"{sector.label} {sector.band()}", _status(sector.contains(rate)), rate,
        ))
    return rows


# --- 6. The evidence preset ------------------------------------------------------------------
@lru_cache(maxsize=4)
def _evidence_market(size: Size) -> MarketFacts:
    return measure_market(size.market_seeds, size.market_people, **EVIDENCE_WOM)


def check_evidence_wom(size: Size) -> list[Check]:
    f = _evidence_market(size)
    tell = f.talkers / max(f.became_unhappy, 1)
    reach = f.negative / max(f.talkers, 1)
    ratio = f.positive / max(f.negative, 1)
    one = tell * f.told_one / max(f.talkers, 1)  # as shares of the newly dissatisfied, like the survey
    six_plus = tell * f.told_six_plus / max(f.talkers, 1)
    default = _default_market(size)
    return [
        Check("Evidence preset: newly dissatisfied who tell anyone", "Wharton/Verde 2006: 31%",
              f"{tell:.1%} of {f.became_unhappy:,}", "31 +/- 5%", _status(abs(tell - 0.31) <= 0.05), tell),
        Check("Evidence preset: people told per teller", "Wharton/Verde 2006: about 4",
              f"{reach:.2f}", "4 +/- 1", _status(abs(reach - 4) <= 1), reach),
        Check("Evidence preset: positive : negative messages",
              "East, Hammond & Wright 2007: about 3:1 (preset's referral_reach set for it)",
              f"{ratio:.2f}", "2-4.5 (3 x/ 1.5)", _status(2.0 <= ratio <= 4.5), ratio),
        Check("Evidence preset: dissatisfied who tell exactly one person", "Wharton/Verde 2006: 8%",
              f"{one:.1%}", "8 +/- 2%", _status(abs(one - 0.08) <= 0.02), one),
        Check("Evidence preset: dissatisfied who tell 6 or more (heavy tail)", "Wharton/Verde 2006: 6%",
              f"{six_plus:.1%}", "6 +/- 2%", _status(abs(six_plus - 0.06) <= 0.02), six_plus),
        Check("Default (10-15 rule): positive : negative messages", "East, Hammond & Wright 2007: about 3:1",
              f"{default.positive / max(default.negative, 1):.2f}", "2-4.5 (3 x/ 1.5)", INFO,
              default.positive / max(default.negative, 1),
              "the folklore premise, kept on purpose; shown for contrast, not a claim"),
    ]


# --- the whole table ---------------------------------------------------------------------------
TARGETS: tuple[Callable[[Size], list[Check]], ...] = (
    check_bass_curve, check_bass_peak,
    check_network_small_world, check_network_lattice,
    check_weak_ties, check_bad_news,
    check_complaint_rate, check_tarp, check_peer_hazard, check_peer_decay, check_sector_churn,
    check_evidence_wom,
)
# Targets that measure the same markets run together (in one process they share the runs).
GROUPS = {
    "bass": (check_bass_curve, check_bass_peak),
    "networks": (check_network_small_world, check_network_lattice),
    "weak_ties": (check_weak_ties,),
    "bad_news": (check_bad_news,),
    "default_market": (check_complaint_rate, check_tarp, check_evidence_wom),
    "peer_defection": (check_peer_hazard, check_peer_decay),
    "sector_churn": (check_sector_churn,),
}
SIZES = {size.name: size for size in (QUICK, FULL)}
COLUMNS = ("target", "source", "simulated", "tolerance", "status", "value", "detail")


@dataclass(frozen=True)
class CheckTask:
    """One group of targets at one size (picklable: what a worker receives)."""

    group: str
    size: Size

    @property
    def key(self) -> str:
        return self.group


def run_checks(task: CheckTask) -> pd.DataFrame:
    """The rows of one group of targets, each with its place in the table (`order`)."""
    rows = []
    for target in GROUPS[task.group]:
        started = time.perf_counter()
        for k, check in enumerate(target(task.size)):
            rows.append({"order": TARGETS.index(target) * 1000 + k, "check": target.__name__,
                         **{name: getattr(check, name) for name in COLUMNS},
                         "seconds": round(time.perf_counter() - started, 1)})
    return pd.DataFrame(rows)


@dataclass
class ValidationPlan:
    """check-model as a plan for the run folder: one task per group of targets."""

    size: Size
    kind: str = "check-model"
    name: str = "check-model"

    @property
    def total(self) -> int:
        return len(GROUPS)

    def tasks(self):
        return [CheckTask(group, self.size) for group in GROUPS]

    def describe(self) -> dict:
        return {"kind": self.kind, "size": self.size.name}

    def digest(self) -> str:
        return self.size.name

    def seeds(self) -> dict:
        return {}

    @classmethod
    def from_description(cls, body: dict, source: str) -> ValidationPlan:
        return cls(SIZES[body["size"]])


def rows_of(folder: RunFolder) -> list[Check]:
    """The validation table from a finished check-model folder (also written as checks.csv)."""
    table = pd.concat([folder.load_run(task) for task in folder.plan.tasks()], ignore_index=True)
    table = table.sort_values("order", kind="stable").reset_index(drop=True)
    folder.write("checks.csv", table)
    rows = [Check(**{name: line[name] for name in COLUMNS}) for line in table.to_dict("records")]
    folder.finish(passed=sum(r.status == PASS for r in rows), failed=sum(r.status == FAIL for r in rows))
    return rows


def check_model(quick: bool = False, workers: int = 1, out: Path | None = None,
                progress: bool = False) -> list[Check]:
    """Run every target at the quick or full size into a run folder (`out`, or a temporary one that
    is removed afterwards); the rows of the validation table."""
    from .executors import make_executor
    from .runner import execute

    plan = ValidationPlan(QUICK if quick else FULL)
    with kept_or_temporary(out, "check-model") as where:
        folder = RunFolder.create(plan, where)
        execute(folder, make_executor(min(workers, plan.total)), progress=progress, fn=run_checks)
        return rows_of(folder)


def resume(path: Path) -> RunFolder:
    return RunFolder.resume(path, "check-model", ValidationPlan.from_description)


def _counts(rows: list[Check]) -> str:
    passed = sum(r.status == PASS for r in rows)
    failed = sum(r.status == FAIL for r in rows)
    shown = sum(r.status in (LIMIT, INFO) for r in rows)
    meaning = {LIMIT: "LIMIT: the engine cannot express it", INFO: "info: for contrast"}
    legend = "; ".join(text for status, text in meaning.items() if any(r.status == status for r in rows))
    return f"{passed} passed, {failed} failed" + (f"; {shown} shown but not counted ({legend})" if shown else "")


def format_table(rows: list[Check]) -> str:
    headers = ["target", "source", "simulated", "tolerance", "result"]
    cells = [[r.target, r.source, r.simulated, r.tolerance, r.status] for r in rows]
    return text_table(headers, cells, left=5, rule=True) + "\n\n" + _counts(rows)


def format_markdown(rows: list[Check]) -> str:
    headers = ["target", "source", "simulated", "tolerance", "result"]
    cells = [[r.target, r.source, r.simulated, r.tolerance, r.status] for r in rows]
    return markdown_table(headers, cells) + "\n\n" + _counts(rows) + ".\n"


# --- how much the policy verdicts depend on the word-of-mouth assumption ----------------------
WOM_TWINS = ("wom-folklore", "wom-evidence")


def compare_wom(replications: int | None = None, n_people: int | None = None, workers: int = 1) -> str:
    """Run the twin scenarios (folklore 10-15 rule vs evidence preset) and put each arm's paired
    differences from the baseline side by side: does the verdict change with the assumption?"""
    from .run import run_scenario_tables

    results = {}
    for name in WOM_TWINS:
        overrides = [f"market.n_people={n_people}"] if n_people else []
        scenario = load_scenario(SHIPPED / f"{name}.yaml", overrides, replications)
        results[name] = (scenario, run_scenario_tables(Experiment.single(scenario, name), workers)["comparison"])

    def cell(comparison, arm, kpi, scale=1.0, digits=1):
        row = comparison[(comparison.compared == arm) & (comparison.kpi == kpi)].iloc[0]
        flag = "" if row.diff_includes_zero else " *"
        return (f"{row['diff'] / scale:+.{digits}f} [{row.diff_low / scale:+.{digits}f}, "
                f"{row.diff_high / scale:+.{digits}f}]{flag}")

    folk_scenario, folk = results[WOM_TWINS[0]]
    _, evid = results[WOM_TWINS[1]]
    base = folk_scenario.baseline
    headers = ["arm vs " + base, "retention pts, 10-15 rule", "retention pts, evidence",
               "NPV (K), 10-15 rule", "NPV (K), evidence"]
    rows = [[arm, cell(folk, arm, "retention"), cell(evid, arm, "retention"),
             cell(folk, arm, "npv", 1e3), cell(evid, arm, "npv", 1e3)]
            for arm in folk_scenario.groups.others()]
    return (f"{folk_scenario.replications} paired replications of {folk_scenario.market.n_people:,} people, "
            f"{folk_scenario.market.months} months; mean difference from {base} [95% CI], "
            "* = the interval excludes zero\n\n" + text_table(headers, rows))
