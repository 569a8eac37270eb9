"""A firm: what it offers (quality, reliability, price, advertising) and the policies it runs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .policies import Policy, make_policy


class Firm(BaseModel):
    """One firm of the market. Policies are plug-ins (see `sim.policies`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False)

    name: str = Field("Firm", min_length=1, max_length=60, description="shown in tables and plots")
    quality: float = Field(
        0.7, ge=0, le=1, description="mean service quality (0-1); source: modelling choice, a good firm"
    )
    failure_rate: float = Field(
        0.015, ge=0, le=1,
        description="chance of a service failure per customer per month; source: modelling choice, "
        "about 1 customer in 6 meets a problem in a year",
    )
    price: float | None = Field(None, gt=0, description="monthly price; default: the market's price")
    advertising: float = Field(
        0.03 / 12, ge=0, le=1,
        description="Bass innovation p per month; source: Sultan, Farley & Lehmann 1990 mean 0.03/yr",
    )
    contract_months: int | None = Field(
        None, ge=0, le=120, description="contract length; default: the market's contract_months"
    )
    initial_share: float | None = Field(
        None, ge=0, le=1, description="share of the initial customers; default: equal split"
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
        return tuple(make_policy(item) for item in value)

    def label(self) -> str:
        return " + ".join(policy.label() for policy in self.policies) or "no policy"
