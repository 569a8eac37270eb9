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

def P(default: Any, unit: str, source: str, **bounds: Any) -> Any:
    """A parameter field: default, unit and source travel together (rendered in docs/MODEL.md)."""
    return Field(default, json_schema_extra={"unit": unit, "source": source}, **bounds)


class MarketParameters(BaseModel):
    """Market-wide assumptions. Firm-specific ones (quality, price, policies) live on `Firm`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    # --- Size and time -------------------------------------------------------
    n_people: int = P(10_000, "people", "modelling choice: enough for stable shares", ge=2, le=50_000_000)
    months: int = P(60, "months", "modelling choice: a 5-year plan horizon", ge=1, le=1200)
    initial_customer_share: float = P(
        0.3, "share of people", "modelling choice: near the default market's equilibrium (~20-25%)", ge=0, le=1
    )
    warm_up_months: int = P(
        36, "months", "modelling choice: attitudes, grievances and loyalty settle before month 0", ge=0, le=600
    )

    # --- Social network ------------------------------------------------------
    network: Literal["small_world", "scale_free", "communities", "complete", "edge_list"] = P(
        "small_world", "-", "Goldenberg, Libai & Muller 2007 use a small world"
    )
    mean_degree: int = P(
        10, "contacts", "Goldenberg et al. 2001: 5-29 strong plus 5-29 weak ties; lower end", ge=2, le=1000
    )
    rewiring: float = P(
        0.1, "probability", "Watts & Strogatz 1998: small-world regime 0.01-0.1", ge=0, le=1
    )
    community_size: int = P(
        9, "people", "ETACE re-implementation of Goldenberg et al. 2007: strong cliques of 9", ge=2, le=100_000
    )
    between_community_share: float = P(
        0.3, "share of ties", "modelling choice: most ties inside one's group", ge=0, le=1
    )
    strong_tie_share: float = P(
        0.5, "share of ties", "Goldenberg et al. 2001: comparable numbers of strong and weak ties", ge=0, le=1
    )
    edge_list_path: str | None = P(None, "file path", "user data: two or three columns (a, b[, strong])")
    strong_tie_weight: float = P(
        1.0, "relative influence", "Goldenberg et al. 2001: beta_s 0.01-0.07 vs beta_w 0.005-0.015", ge=0
    )
    weak_tie_weight: float = P(
        0.4, "relative influence", "Goldenberg et al. 2001: weak tie about 0.2-0.5 of a strong one", ge=0
    )

    # --- Service experience and satisfaction --------------------------------
    quality_noise: float = P(
        0.08, "quality units (0-1)", "modelling choice: month-to-month spread of service", ge=0, le=1
    )
    poorly_served_share: float = P(
        0.0, "share of people", "Goldenberg et al. 2007 disappointed adopters: a product that fails 2% of a market",
        ge=0, le=1,
    )
    failure_severity: float = P(
        0.5, "quality units (0-1)", "modelling choice: a failure halves the experienced quality", ge=0, le=1
    )
    satisfaction_memory: float = P(
        0.5, "weight on last month", "modelling choice: one failure makes a typical customer unhappy", ge=0, lt=1
    )
    disconfirmation_sensitivity: float = P(
        1.5, "satisfaction per quality unit", "Oliver 1980 expectation-disconfirmation; calibrated", ge=0
    )
    performance_weight: float = P(
        0.7, "satisfaction per quality unit above the norm",
        "Churchill & Surprenant 1982: performance drives satisfaction beyond disconfirmation", ge=0
    )
    quality_norm: float = P(
        0.7, "quality units (0-1)", "modelling choice: the quality customers take as standard in the category",
        ge=0, le=1
    )
    loss_aversion: float = P(
        2.25, "ratio", "Tversky & Kahneman 1992: losses weigh about 2.25x gains", ge=1
    )
    expectation_adaptation: float = P(
        0.2, "share per month", "modelling choice: a repeated surprise fades within months", ge=0, le=1
    )
    temperament_mean: float = P(
        0.7, "satisfaction (0-1)", "modelling choice: met expectations read as satisfied", ge=0, le=1
    )
    temperament_spread: float = P(
        0.1, "satisfaction (0-1)", "modelling choice: person-to-person spread", ge=0, le=0.5
    )
    forgiveness: float = P(
        0.6, "share of damage absorbed at loyalty 1", "East et al. 2008: people resist bad news about brands they favour", ge=0, le=1
    )

    # --- Mood thresholds (on satisfaction) and loyalty ----------------------
    delighted_above: float = P(0.85, "satisfaction", "NPS promoters score 9-10 (Reichheld 2003)", ge=0, le=1)
    satisfied_above: float = P(0.6, "satisfaction", "NPS passives score 7-8 (Reichheld 2003)", ge=0, le=1)
    dissatisfied_below: float = P(0.4, "satisfaction", "modelling choice: clearly unhappy", ge=0, le=1)
    loyal_above: float = P(0.7, "loyalty", "modelling choice: top of the loyalty scale", ge=0, le=1)
    initial_loyalty_mean: float = P(0.35, "loyalty", "modelling choice: a mixed base", ge=0, le=1)
    loyalty_growth: float = P(
        0.02, "per month at full satisfaction", "modelling choice: loyalty takes years to build", ge=0, le=1
    )
    loyalty_erosion: float = P(
        0.1, "per month at zero satisfaction", "modelling choice: unhappiness erodes loyalty faster", ge=0, le=1
    )

    # --- Complaints and the memory of problems ---------------------------------
    complaint_probability: float = P(
        0.3, "probability", "between Wharton/Verde 2006 (6% told the firm) and TARP (about 50% complain)", ge=0, le=1
    )
    grievance_memory: float = P(
        0.95, "kept per month", "modelling choice: an unresolved problem is remembered for years", ge=0, lt=1
    )
    complaint_venting: float = P(
        0.6, "share of grievance kept by an unanswered complainer",
        "TARP: complained-unsatisfied 46% vs silent 37% repurchase", ge=0, le=1
    )

    # --- Word of mouth -------------------------------------------------------
    negative_reach_min: int = P(10, "peers", "TARP folklore: unhappy customers tell 10-15", ge=0, le=10_000)
    negative_reach_max: int = P(15, "peers", "TARP folklore: unhappy customers tell 10-15", ge=0, le=10_000)
    negative_reach_distribution: Literal["uniform", "geometric"] = P(
        "uniform", "-", "uniform on min..max (the 10-15 rule); geometric from min with the same mean and a "
        "heavy tail, as surveyed (Wharton/Verde 2006: 8% of the dissatisfied tell one, 6% six or more)",
    )
    relay_probability: float = P(
        0.0, "per month", "Goldenberg et al. 2007 rejecters spread bad news; 0: no measured rate of passing it on",
        ge=0, le=1,
    )
    rejecter_attitude: float = P(
        0.2, "attitude (0-1)", "modelling choice: bad news from one friend, not outweighed by good", ge=0, le=1
    )
    relay_reach: int = P(1, "peers", "modelling choice: second-hand news goes to a close contact", ge=1, le=10_000)
    negative_talk_probability: float = P(
        1.0, "probability", "folklore default; 0.31 in Wharton/Verde 2006", ge=0, le=1
    )
    referral_probability: float = P(
        0.1, "per advocate per month", "Kumar et al. 2007: 30-33% of customers actually refer", ge=0, le=1
    )
    referral_reach: int = P(3, "peers", "modelling choice: a few close contacts", ge=1, le=10_000)
    positive_message_weight: float = P(
        0.1, "attitude per message", "modelling choice", ge=0, le=1
    )
    negative_message_weight: float = P(
        0.2, "attitude per message", "Goldenberg et al. 2007: NWOM weighs 2x PWOM", ge=0, le=1
    )
    defence_damping: float = P(
        0.5, "share of negative effect removed", "Colliander & Wien 2013; East et al. 2008 (resistance)", ge=0, le=1
    )
    attitude_memory: float = P(0.9, "kept per month", "modelling choice: talk fades over a year", ge=0, le=1)
    referred_loyalty_bonus: float = P(
        0.1, "loyalty", "Schmitt et al. 2011: referred customers retain better", ge=0, le=1
    )

    # --- Acquisition (Bass 1969 terms, per month) ------------------------------
    imitation: float = P(
        0.38 / 12, "per month", "Bass q: Sultan, Farley & Lehmann 1990 mean 0.38/yr", ge=0, le=1
    )
    attitude_on_joining: float = P(
        3.0, "log-hazard per unit of negative attitude", "Goldenberg et al. 2007 rejecters; calibrated", ge=0
    )

    # --- Churn, contracts, switching ----------------------------------------
    contract_months: int = P(
        12, "months (0 = no contract)", "EU Code Art. 105: 24 max, 12-month option", ge=0, le=120
    )
    base_churn: float = P(
        0.006, "per month, typical customer with no problem",
        "calibrated: ~88% renew after a problem-free contract (TARP); market churn then ~1.5%/month", ge=0, le=1
    )
    churn_satisfaction: float = P(
        4.0, "log-hazard per unit of satisfaction", "modelling choice: unhappy customers leave more", ge=0
    )
    churn_grievance: float = P(
        5.0, "log-hazard per unit of grievance",
        "calibrated: 37-40% renew after a silent problem (TARP: 37%)", ge=0
    )
    churn_loyalty: float = P(2.0, "log-hazard per unit", "calibrated: loyal customers renew", ge=0)
    churn_attitude: float = P(1.0, "log-hazard per unit", "modelling choice", ge=0)
    churn_price: float = P(1.0, "log-hazard per price ratio", "modelling choice", ge=0)
    peer_defection_effect: float = P(
        1.1, "hazard ratio - 1 for a customer of average loyalty",
        "calibrated: the measured hazard ratio the month after a contact defects is ~1.8 "
        "(Nitzan & Libai 2011: +79.7%; grapevine check-model)", ge=0
    )
    peer_defection_memory: float = P(
        0.5, "kept per month", "Nitzan & Libai 2011: exponential decay, strongest first month", ge=0, lt=1
    )
    contract_break_below: float = P(
        0.25, "satisfaction", "modelling choice: only the very unhappy break a contract", ge=0, le=1
    )
    contract_break_probability: float = P(0.1, "per month", "modelling choice", ge=0, le=1)
    contract_break_penalty_months: float = P(
        2.0, "months of price", "modelling choice: typical early-termination fee", ge=0
    )
    switching_propensity: float = P(
        1.0, "odds vs leaving the category", "Libai et al. 2009a: churn and disadoption both common", ge=0
    )

    # --- Money ---------------------------------------------------------------
    price: float = P(50.0, "currency per month", "modelling choice: a mobile or broadband plan", gt=0)
    unit_cost_share: float = P(
        0.6, "share of price", "modelling choice: 40% gross margin", ge=0, le=2
    )
    discount_rate: float = P(0.1, "per year", "modelling choice: a typical cost of capital", ge=0, le=1)

    # --- Mesa visualisation ----------------------------------------------------
    agent_view_limit: int = P(
        2_000, "people", "Mesa agents are created only for markets this small (to draw)", ge=0
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
