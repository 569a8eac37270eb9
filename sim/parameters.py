"""Every parameter of the market, its default, unit and the source of the default.

One place for all numbers (Starsim/Covasim habit): the engine reads them from
`MarketParameters`, `docs/MODEL.md` renders its table from them, and scenario files
validate against the same pydantic models. Sources are abbreviated; the full
references are in `../shared/research/mission-anchors.md` and `docs/MODEL.md`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import validated
from .provenance import Assumption, assumptions_of, decision, judgement, measured, tuned

BENCH = "bench/calibrate.py"  # measures the TARP cells and market churn of the default market
CHECK = "grapevine check-model"


def P(default: Any, unit: str, source: str, basis: dict, **bounds: Any) -> Any:
    """A parameter field: default, unit, source and what the default rests on (`basis`, from
    `sim.provenance`: quality, plausible range and its reason) travel together; docs/MODEL.md
    renders them."""
    return Field(default, json_schema_extra={"unit": unit, "source": source, **basis}, **bounds)


class MarketParameters(BaseModel):
    """Market-wide assumptions. Firm-specific ones (quality, price, policies) live on `Firm`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    # --- Size and time -------------------------------------------------------
    n_people: int = P(10_000, "people", "modelling choice: enough for stable shares",
                      decision("how many people to simulate"), ge=2, le=50_000_000)
    months: int = P(60, "months", "modelling choice: a 5-year plan horizon", decision("the horizon of the question"),
                    ge=1, le=1200)
    initial_customer_share: float = P(
        0.3, "share of people", "modelling choice: near the default market's equilibrium",
        judgement(0.2, 0.4, "judgement: the warm-up carries the share toward the market's equilibrium, so the "
                            "start matters little"), ge=0, le=1
    )
    penetration: float | None = P(
        None, "share of people", "the firm's own figure: the share of the market's people who are a firm's customers "
        "at month 0; with the firms' customers it sets n_people (sim.population; default initial_customer_share)",
        decision("the firm's market"), gt=0, le=1
    )
    warm_up_months: int = P(
        36, "months", "modelling choice: attitudes, grievances and loyalty settle before month 0",
        judgement(24, 60, "judgement: two to five contract cycles of settling"), ge=0, le=600
    )

    # --- Social network ------------------------------------------------------
    network: Literal["small_world", "scale_free", "communities", "complete", "edge_list"] = P(
        "small_world", "-", "Goldenberg, Libai & Muller 2007 use a small world",
        judgement(None, None, "a family, not a number: a robustness pass runs the other families"),
    )
    mean_degree: int = P(
        10, "contacts", "Goldenberg et al. 2001: 5-29 strong plus 5-29 weak ties; lower end",
        judgement(5, 20, "Goldenberg et al. 2001 vary 5-29 strong and 5-29 weak ties; judgement: the few people "
                         "one would talk to about a provider, the lower part of that"), ge=2, le=1000
    )
    rewiring: float = P(
        0.1, "probability", "Watts & Strogatz 1998: small-world regime 0.01-0.1",
        judgement(0.01, 0.1, "published: the small-world regime of Watts & Strogatz 1998"), ge=0, le=1
    )
    community_size: int = P(
        9, "people", "ETACE re-implementation of Goldenberg et al. 2007: strong cliques of 9",
        judgement(5, 29, "published: Goldenberg et al. 2001 vary personal groups of 5-29 strong ties"),
        ge=2, le=100_000
    )
    between_community_share: float = P(
        0.3, "share of ties", "modelling choice: most ties inside one's group",
        judgement(0.1, 0.5, "judgement: check-model's weak-tie rows use a tenth and a half"), ge=0, le=1
    )
    strong_tie_share: float = P(
        0.5, "share of ties", "Goldenberg et al. 2001: comparable numbers of strong and weak ties",
        judgement(0.3, 0.7, "Goldenberg et al. 2001 vary both counts over 5-29; judgement: 0.5 +/- 0.2"), ge=0, le=1
    )
    edge_list_path: str | None = P(None, "file path", "user data: two or three columns (a, b[, strong])",
                                   decision("the user's own network"))
    strong_tie_weight: float = P(
        1.0, "relative influence", "Goldenberg et al. 2001: beta_s 0.01-0.07 vs beta_w 0.005-0.015",
        judgement(1.0, 1.0, "the unit of a message's influence: weak_tie_weight and the message weights are "
                            "relative to it, so vary those instead"), ge=0
    )
    weak_tie_weight: float = P(
        0.4, "relative influence", "Goldenberg et al. 2001: weak tie about 0.2-0.5 of a strong one",
        judgement(0.2, 1.0, "Goldenberg et al. 2001's grid spans 0.07-1.5 of a strong tie (beta_w / beta_s); "
                            "judgement: 0.2 to equal weight"), ge=0
    )

    # --- Service experience and satisfaction --------------------------------
    quality_noise: float = P(
        0.08, "quality units (0-1)", "modelling choice: month-to-month spread of service",
        judgement(0.04, 0.12, "judgement: half to one and a half times the default; beyond the zone of tolerance "
                              "it dissatisfies without a problem (the quality cause of negative talk)"), ge=0, le=1
    )
    poorly_served_share: float = P(
        0.0, "share of people", "Goldenberg et al. 2007 disappointed adopters: a product that fails 2% of a market",
        decision("a scenario's question (a defect that fails a share of the market), not a default assumption"),
        ge=0, le=1,
    )
    failure_severity: float = P(
        0.7, "share of satisfaction lost (at loyalty 0)",
        "modelling choice: one failure makes a typical customer unhappy; a share, so loyalty can soften it",
        judgement(0.5, 0.9, "judgement: from half (a typical customer, 0.7, lands just under dissatisfied_below "
                            "0.4 only when not loyal) to nine tenths (nearly everyone unhappy, as the amount "
                            "rule of before issue 12 made 97.5% of failures)"), ge=0, le=1
    )
    tolerance_zone: float = P(
        0.1, "quality units (0-1)",
        "Zeithaml, Berry & Parasuraman 1993: between desired and adequate service lies a zone of tolerance",
        judgement(0.05, 0.15, "the zone is a concept, not a size (Zeithaml et al. 1993 give none); judgement: "
                              "about one to two standard deviations of the month's service (quality_noise 0.08), "
                              "so ordinary months pass and a clearly worse one is felt"), ge=0, le=1
    )
    price_weight: float = P(
        0.5, "quality units per share of the price",
        "Kalyanaram & Winer 1995: a price above the reference price is felt as a loss",
        judgement(0.25, 1.0, "Kalyanaram & Winer 1995 give the mechanism (reference prices), not the size in "
                             "quality units; judgement: a discount of 20% ending feels like a service 5% to 20% "
                             "worse, before loss aversion"), ge=0
    )
    satisfaction_memory: float = P(
        0.5, "weight on last month", "modelling choice: one failure makes a typical customer unhappy",
        judgement(0.3, 0.7, "judgement: last month weighs a third to two thirds"), ge=0, lt=1
    )
    disconfirmation_sensitivity: float = P(
        1.5, "satisfaction per quality unit", "Oliver 1980 expectation-disconfirmation (the mechanism, not the size)",
        judgement(1.0, 2.0, "judgement: set in the first commit (d89dcdf) and labelled calibrated there, but no "
                            "target or script ever set it; +/- a third"), ge=0
    )
    performance_weight: float = P(
        0.7, "satisfaction per quality unit above the norm",
        "Churchill & Surprenant 1982: performance drives satisfaction beyond disconfirmation",
        judgement(0.35, 1.0, "Churchill & Surprenant 1982 give the direction, not the size; judgement"), ge=0
    )
    quality_norm: float = P(
        0.7, "quality units (0-1)", "modelling choice: the quality customers take as standard in the category",
        judgement(0.6, 0.8, "judgement: the category's standard near the default firm's quality"), ge=0, le=1
    )
    loss_aversion: float = P(
        2.25, "ratio", "Tversky & Kahneman 1992: losses weigh about 2.25x gains",
        measured("Tversky & Kahneman 1992's median, from choices between gambles; applying it to service "
                 "disappointment is an assumption"), ge=1
    )
    expectation_adaptation: float = P(
        0.2, "share per month", "modelling choice: a repeated surprise fades within months",
        judgement(0.1, 0.4, "judgement: a surprise fades within two to ten months"), ge=0, le=1
    )
    temperament_mean: float = P(
        0.7, "satisfaction (0-1)", "modelling choice: met expectations read as satisfied",
        judgement(0.65, 0.8, "judgement: no source; just above satisfied_above (0.6) so that met expectations "
                             "read as satisfied; NPS levels follow it (issue 11)"), ge=0, le=1
    )
    temperament_spread: float = P(
        0.1, "satisfaction (0-1)", "modelling choice: person-to-person spread",
        judgement(0.05, 0.15, "judgement: half to one and a half times the default"), ge=0, le=0.5
    )
    forgiveness: float = P(
        0.6, "share of damage absorbed at loyalty 1", "East et al. 2008: people resist bad news about brands they favour",
        judgement(0.3, 0.8, "East et al. 2008 support the mechanism, not the size; judgement"), ge=0, le=1
    )

    # --- Mood thresholds (on satisfaction) and loyalty ----------------------
    delighted_above: float = P(0.85, "satisfaction", "NPS promoters score 9-10 (Reichheld 2003)",
                               judgement(0.8, 0.9, "judgement: Reichheld's 9-10 of 0-10 mapped onto 0-1"), ge=0, le=1)
    satisfied_above: float = P(0.6, "satisfaction", "NPS passives score 7-8 (Reichheld 2003)",
                               judgement(0.55, 0.7, "judgement: Reichheld's 7-8 of 0-10 mapped onto 0-1"), ge=0, le=1)
    dissatisfied_below: float = P(0.4, "satisfaction", "modelling choice: clearly unhappy",
                                  judgement(0.3, 0.5, "judgement"), ge=0, le=1)
    loyal_above: float = P(0.7, "loyalty", "modelling choice: top of the loyalty scale",
                           judgement(0.6, 0.8, "judgement"), ge=0, le=1)
    initial_loyalty_mean: float = P(0.35, "loyalty", "modelling choice: a mixed base",
                                    judgement(0.25, 0.45, "judgement; the warm-up moves it"), ge=0, le=1)
    loyalty_growth: float = P(
        0.02, "per month at full satisfaction", "modelling choice: loyalty takes years to build",
        judgement(0.01, 0.04, "judgement: two to eight years to build"), ge=0, le=1
    )
    loyalty_erosion: float = P(
        0.1, "per month at zero satisfaction", "modelling choice: unhappiness erodes loyalty faster",
        judgement(0.05, 0.2, "judgement"), ge=0, le=1
    )

    # --- Complaints and the memory of problems ---------------------------------
    complaint_probability: float = P(
        0.3, "probability", "between Wharton/Verde 2006 (6% told the firm) and TARP (about 50% complain)",
        judgement(0.06, 0.5, "published: Wharton/Verde 2006 (6% told the firm) to TARP (about 50% complain); the "
                             "default was chosen inside it by hand (check-model row complaint_rate)"), ge=0, le=1
    )
    grievance_memory: float = P(
        0.95, "kept per month", "modelling choice: an unresolved problem is remembered for years",
        judgement(0.9, 0.98, "judgement: a half-life of half a year to three years"), ge=0, lt=1
    )
    complaint_venting: float = P(
        0.45, "share of grievance kept by an unanswered complainer",
        "TARP: complained-unsatisfied 46% vs silent 37% repurchase",
        tuned(0.3, 0.6, "tuned by hand: 0.8 (d89dcdf), 0.7 (d4e6b9b), 0.6 (56e1ab1), 0.45 (issue 12: failures now "
                        "take a share of satisfaction) until renewal after an unanswered complaint came near TARP's "
                        "46%; range judgement",
              "tarp.complained_unresolved", BENCH), ge=0, le=1
    )

    # --- Word of mouth -------------------------------------------------------
    negative_reach_min: int = P(
        10, "peers", "TARP folklore: unhappy customers tell 10-15",
        judgement(1, 10, "folklore (no primary source found); Wharton/Verde 2006 measured about 4 on average "
                         "(the evidence preset draws from 1)"), ge=0, le=10_000
    )
    negative_reach_max: int = P(
        15, "peers", "TARP folklore: unhappy customers tell 10-15",
        judgement(7, 15, "folklore (no primary source found); the evidence preset's 1..7 has Wharton/Verde's "
                         "mean of 4"), ge=0, le=10_000
    )
    negative_reach_distribution: Literal["uniform", "geometric"] = P(
        "uniform", "-", "uniform on min..max (the 10-15 rule); geometric from min with the same mean and a "
        "heavy tail, as surveyed (Wharton/Verde 2006: 8% of the dissatisfied tell one, 6% six or more)",
        judgement(None, None, "a shape, not a number: the folklore premise (uniform) or the survey's heavy tail "
                              "(geometric, the evidence preset)"),
    )
    relay_probability: float = P(
        0.0, "per month", "Goldenberg et al. 2007 rejecters spread bad news; 0: no measured rate of passing it on",
        judgement(0.0, 0.2, "no measured rate; judgement: up to the 0.2 that check-model's docking to Goldenberg "
                            "et al. 2007 uses (twice the referral rate)"), ge=0, le=1,
    )
    rejecter_attitude: float = P(
        0.2, "attitude (0-1)", "modelling choice: bad news from one friend, not outweighed by good",
        judgement(0.1, 0.4, "judgement: one to two unanswered negative messages"), ge=0, le=1
    )
    relay_reach: int = P(1, "peers", "modelling choice: second-hand news goes to a close contact",
                         judgement(1, 3, "judgement: up to the referral reach"), ge=1, le=10_000)
    quality_talk_share: float = P(
        0.25, "chance relative to negative_talk_probability",
        "TARP/Goodman: dissatisfaction and bad word of mouth follow problems customers experienced",
        judgement(0.0, 0.5, "no study measures how often dissatisfaction without a problem is talked about; "
                            "TARP/Goodman tie negative word of mouth to problems, so well under the problem rate: "
                            "from never to half as often"), ge=0, le=1
    )
    asked_contacts: int = P(
        2, "contacts asked", "modelling choice: a few friends asked before a decision (the seed's story: one)",
        judgement(1, 4, "no study counts how many people one asks before choosing a provider; judgement: one "
                        "friend to a handful, the referral reach of a few close contacts"), ge=0, le=1000
    )
    asked_weight: float = P(
        2.0, "weight relative to an unprompted message",
        "East, Hammond & Lomax 2008: advice sought moves brand choice more than advice not sought",
        judgement(1.0, 3.0, "East, Hammond & Lomax 2008 give the direction, not a ratio in our units; judgement: "
                            "as much as unprompted talk to three times as much"), ge=0
    )
    negative_talk_probability: float = P(
        1.0, "probability", "folklore default; 0.31 in Wharton/Verde 2006",
        judgement(0.31, 1.0, "folklore premise 1 (everyone unhappy talks); Wharton/Verde 2006 measured 0.31"),
        ge=0, le=1
    )
    referral_probability: float = P(
        0.1, "per advocate per month", "Kumar et al. 2007: 30-33% of customers actually refer",
        tuned(0.03, 0.15, "tuned by hand: 0.03 (d89dcdf), 0.1 (d4e6b9b, 'referrals to Kumar et al. 2007'); no "
                          "script measures the share of customers who refer; range judgement",
              (), "none: not measured"), ge=0, le=1
    )
    referral_reach: int = P(3, "peers", "modelling choice: a few close contacts",
                            judgement(2, 5, "judgement; the evidence preset uses 5"), ge=1, le=10_000)
    positive_message_weight: float = P(
        0.1, "attitude per message", "modelling choice",
        judgement(0.05, 0.2, "judgement: half to twice the default"), ge=0, le=1
    )
    negative_message_weight: float = P(
        0.2, "attitude per message", "Goldenberg et al. 2007: NWOM weighs 2x PWOM",
        judgement(0.1, 0.4, "the ratio 2 to positive is the ETACE re-implementation of Goldenberg et al. 2007; the "
                            "size is a judgement"), ge=0, le=1
    )
    defence_damping: float = P(
        0.5, "share of negative effect removed", "Colliander & Wien 2013; East et al. 2008 (resistance)",
        judgement(0.25, 0.75, "the sources support the mechanism, not the size; judgement"), ge=0, le=1
    )
    attitude_memory: float = P(
        0.9, "kept per month", "modelling choice: talk fades over a year",
        judgement(0.8, 1.0, "judgement: fades within months, up to never (1, Goldenberg et al. 2007's rejecters; "
                            "the NPV-of-bad-news result needs it, docs/MODEL.md section 10)"), ge=0, le=1
    )
    referred_loyalty_bonus: float = P(
        0.1, "loyalty", "Schmitt et al. 2011: referred customers retain better",
        judgement(0.05, 0.2, "Schmitt et al. 2011 give the direction, not the size; judgement"), ge=0, le=1
    )

    # --- Acquisition (Bass 1969 terms, per month) ------------------------------
    imitation: float = P(
        0.38 / 12, "per month", "Bass q: Sultan, Farley & Lehmann 1990 mean 0.38/yr",
        measured("Sultan, Farley & Lehmann 1990's meta-analytic mean across products, divided by 12"), ge=0, le=1
    )
    attitude_on_joining: float = P(
        3.0, "log-hazard per unit of negative attitude", "Goldenberg et al. 2007 rejecters (the mechanism)",
        judgement(1.5, 4.5, "judgement: set in the first commit (d89dcdf) and labelled calibrated there, but no "
                            "target or script ever set it; half to one and a half times"), ge=0
    )

    # --- Churn, contracts, switching ----------------------------------------
    contract_months: int = P(
        12, "months (0 = no contract)", "EU Code Art. 105: 24 max, 12-month option",
        decision("the contract the firms offer (EU Code Art. 105: at most 24 months)"), ge=0, le=120
    )
    base_churn: float = P(
        0.008, "per month, typical customer with no problem",
        "tuned to TARP's ~88% renewal after a problem-free contract and to the sector's churn",
        tuned(0.0055, 0.0105, "tuned by hand: 0.012 (d89dcdf), 0.007 (d4e6b9b), 0.006 (56e1ab1), 0.008 (issue "
                              "12: ordinary service variation inside the zone of tolerance no longer dissatisfies) "
                              "until renewal after a problem-free contract came near 88% and market churn inside the "
                              "postpaid band with margin; range judgement (+/- a third)",
              ("tarp.no_problem", "sector_churn.*"), BENCH), ge=0, le=1
    )
    churn_satisfaction: float = P(
        4.0, "log-hazard per unit of satisfaction", "modelling choice: unhappy customers leave more",
        judgement(2.0, 6.0, "judgement"), ge=0
    )
    churn_grievance: float = P(
        5.6, "log-hazard per unit of grievance", "tuned to TARP: 37% renew after a silent problem",
        tuned(4.0, 7.0, "tuned by hand: 2.0 (d89dcdf), 4.0 (d4e6b9b), 4.5 (323299c), 5.0 (56e1ab1), 5.6 (issue 12) "
                        "until renewal after a silent problem came near TARP's 37%; range judgement",
              "tarp.silent_problem", BENCH), ge=0
    )
    churn_loyalty: float = P(
        2.0, "log-hazard per unit", "modelling choice: loyal customers renew",
        judgement(1.0, 3.0, "judgement: set in the first commit (d89dcdf) and labelled calibrated there, but no "
                            "target or script ever set it"), ge=0
    )
    churn_attitude: float = P(1.0, "log-hazard per unit", "modelling choice", judgement(0.5, 2.0, "judgement"), ge=0)
    churn_price: float = P(1.0, "log-hazard per price ratio", "modelling choice", judgement(0.5, 2.0, "judgement"),
                           ge=0)
    peer_defection_effect: float = P(
        1.1, "hazard ratio - 1 for a customer of average loyalty",
        "tuned to Nitzan & Libai 2011's hazard ratio (+79.7%) as check-model measures it",
        tuned(0.7, 1.5, "tuned by hand: 0.8 (d89dcdf, the published +80% read as the effect) then 1.1 (b743a81) "
                        "after check-model measured a ratio of 1.37; range judgement",
              "peer.hazard_ratio", CHECK), ge=0
    )
    peer_defection_memory: float = P(
        0.2, "kept per month", "Nitzan & Libai 2011: exponential decay; Haenlein 2013: gone within about five weeks",
        judgement(0.1, 0.5, "Nitzan & Libai 2011 give the shape, not the rate; Haenlein 2013 (only contacts who "
                            "left less than about five weeks before) sets the default at the low end (0.5 until "
                            "issue 12; check-model row peer.recent_ties); judgement"), ge=0, lt=1
    )
    contract_break_below: float = P(
        0.25, "satisfaction", "modelling choice: only the very unhappy break a contract",
        judgement(0.15, 0.35, "judgement"), ge=0, le=1
    )
    contract_break_probability: float = P(0.1, "per month", "modelling choice",
                                          judgement(0.05, 0.2, "judgement"), ge=0, le=1)
    contract_break_penalty_months: float = P(
        2.0, "months of price", "modelling choice: typical early-termination fee",
        decision("a term of the firm's contract"), ge=0
    )
    switching_propensity: float = P(
        1.0, "odds vs leaving the category", "Libai et al. 2009a: churn and disadoption both common",
        judgement(0.5, 2.0, "Libai et al. 2009a: both are common, no ratio; judgement"), ge=0
    )

    # --- Money ---------------------------------------------------------------
    price: float = P(50.0, "currency per month", "modelling choice: a mobile or broadband plan",
                     decision("the firm's price"), gt=0)
    unit_cost_share: float = P(
        0.6, "share of price", "modelling choice: 40% gross margin", decision("the firm's cost"), ge=0, le=2
    )
    discount_rate: float = P(0.1, "per year", "modelling choice: a typical cost of capital",
                             decision("the firm's cost of capital"), ge=0, le=1)

    # --- Mesa visualisation ----------------------------------------------------
    agent_view_limit: int = P(
        2_000, "people", "Mesa agents are created only for markets this small (to draw)",
        decision("a display setting"), ge=0
    )

    @model_validator(mode="after")
    def _ranges_in_order(self) -> MarketParameters:
        if self.negative_reach_min > self.negative_reach_max:
            raise ValueError(
                f"negative_reach_min ({self.negative_reach_min}) must be <= negative_reach_max "
                f"({self.negative_reach_max}): the range is reversed"
            )
        if not self.dissatisfied_below <= self.satisfied_above <= self.delighted_above:
            raise ValueError(
                "mood thresholds must satisfy dissatisfied_below <= satisfied_above <= delighted_above, "
                f"got {self.dissatisfied_below}, {self.satisfied_above}, {self.delighted_above}"
            )
        if self.network == "edge_list" and not self.edge_list_path:
            raise ValueError("network 'edge_list' needs edge_list_path (a file of 'a b [strong]' lines)")
        return self


def make_parameters(**overrides: Any) -> MarketParameters:
    """Validated parameters; a bad one raises ValueError naming the field, value and what is allowed."""
    return validated(MarketParameters, overrides)


def provenance() -> list[Assumption]:
    """What every default rests on: the market's parameters, a firm's settings and every
    registered policy's settings, each with its quality, plausible range and reason
    (`sim.provenance`). Decisions of the user (size, levers, prices) are included, marked."""
    from .firm import Firm
    from .policies import Policy

    rows = assumptions_of(MarketParameters, "market") + assumptions_of(Firm, "firm")
    for name, policy in Policy.registry.items():
        rows += assumptions_of(policy, name)
    return rows


def uncertain(qualities: tuple[str, ...] = ("calibrated", "tuned", "judgement")) -> list[Assumption]:
    """The assumptions a robustness pass varies: not the user's decisions, with a range of some
    width, of the given source qualities (by default every one that is not `measured`).

    Each row has `path` ('market.base_churn', 'firm.failure_rate',
    'SmallGifts.surprise_per_price_share'), `default`, `quality`, `low`, `high` and `reason`.
    A policy's row applies to every firm that runs that policy."""
    return [row for row in provenance() if row.varied and row.quality in qualities]
