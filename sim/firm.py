"""A firm: what it offers (quality, reliability, price, advertising) and the policies it runs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from .policies import Policy, check_together, make_policy
from .provenance import decision, judgement, measured, setting, tuned


class Firm(BaseModel):
    """One firm of the market. Policies are plug-ins (see `sim.policies`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False)

    name: str = setting("Firm", "shown in tables and plots", decision("the firm's name"), min_length=1, max_length=60)
    quality: float = setting(
        0.7, "mean service quality (0-1); source: modelling choice, a good firm (at the category's norm)",
        judgement(0.6, 0.8, "judgement: a firm a little below or above the category's norm (quality_norm)"),
        ge=0, le=1,
    )
    failure_rate: float = setting(
        0.015, "chance of a service failure per customer per month; source: tuned with the churn settings to "
        "the TARP renewal table and the sector's churn",
        tuned(0.005, 0.03, "tuned by hand: 0.03 (d89dcdf), 0.02 (d4e6b9b), 0.015 (56e1ab1), together with "
                           "base_churn, churn_grievance and complaint_venting; no published failure rate; range "
                           "judgement (a third to twice the default)",
              ("tarp.no_problem", "tarp.silent_problem", "sector_churn.*"), "bench/calibrate.py"),
        ge=0, le=1,
    )
    price: float | None = setting(None, "monthly price; default: the market's price", decision("the firm's price"),
                                  gt=0)
    advertising: float = setting(
        0.03 / 12, "Bass innovation p per month; source: Sultan, Farley & Lehmann 1990 mean 0.03/yr",
        measured("Sultan, Farley & Lehmann 1990's meta-analytic mean across products, divided by 12"),
        ge=0, le=1,
    )
    contract_months: int | None = setting(
        None, "contract length; default: the market's contract_months", decision("the firm's contract"), ge=0, le=120
    )
    customers: int | None = setting(
        None, "the firm's customers at month 0, as the firm counts them; the market's people follow from them and "
        "the market's penetration (sim.population), and the warm-up lands on them", decision("the firm's size"),
        ge=1, le=50_000_000,
    )
    initial_share: float | None = setting(
        None, "share of the initial customers; default: equal split", decision("the scenario's starting point"),
        ge=0, le=1,
    )
    policies: tuple[Policy, ...] = ()

    @field_validator("policies", mode="before")
    @classmethod
    def _policies_from_names(cls, value):
        if isinstance(value, (str, Policy, dict)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{value!r} is not allowed: give a policy or a list of policies (names such as "
                             f"SmallGifts, Policy objects, or {{'kind': Name, setting: value}} mappings)")
        policies = tuple(make_policy(item) for item in value)
        check_together(policies)
        return policies

    def label(self) -> str:
        return " + ".join(policy.label() for policy in self.policies) or "no policy"
