"""What each default rests on: the quality of its source and the range a reader could defend.

Every default of the market (`sim.parameters.MarketParameters`), of a firm (`sim.firm.Firm`)
and of each policy's settings carries, in its pydantic field's `json_schema_extra`:

- `quality`, one of `QUALITIES`:
  - `measured`: a published figure used as it is (converted, e.g. per year to per month);
  - `calibrated`: set by a script to hit a named check-model target (`target`, `script`);
  - `tuned`: adjusted by hand after seeing results (`target` names what was watched,
    `script` what measured it; `reason` gives the values tried);
  - `judgement`: a modelling choice;
- `low`, `high` and `reason`: for every assumption that is not `measured`, the range a
  reader could defend and why (a published range where there is one; otherwise a
  judgement, said so). `low == high` marks an assumption that is not varied, and `reason`
  says why (e.g. a unit other settings are relative to);
- `decision: True` for what the user decides (size, horizon, a policy's lever, the firm's
  price and costs): not an assumption about customers, so it has no range.

docs/MODEL.md renders all of it (docs/make_model_tables.py); `sim.parameters.uncertain()`
lists the assumptions with a range, for the robustness pass of a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

QUALITIES = ("measured", "calibrated", "tuned", "judgement")


def provenance(quality: str, *, low: float | None = None, high: float | None = None, reason: str = "",
               target: tuple[str, ...] | str = (), script: str | None = None, decision: bool = False) -> dict:
    """The metadata of one default (see the module docstring); checked here so a typo cannot pass."""
    if quality not in QUALITIES:
        raise ValueError(f"quality {quality!r} is not one of {', '.join(QUALITIES)}")
    if (low is None) != (high is None):
        raise ValueError("give both ends of a range (low and high) or neither")
    if low is not None and low > high:
        raise ValueError(f"range [{low}, {high}] is reversed")
    target = (target,) if isinstance(target, str) else tuple(target)
    return {"quality": quality, "low": low, "high": high, "reason": reason, "target": list(target),
            "script": script, "decision": decision}


def setting(default: Any, description: str, source: dict, **bounds: Any) -> Any:
    """A firm or policy setting: default, description (unit; source) and provenance in one field."""
    return Field(default, description=description, json_schema_extra=dict(source), **bounds)


@dataclass(frozen=True)
class Assumption:
    """One default and what it rests on (a row of `sim.parameters.provenance()`)."""

    owner: str  # "market", "firm" or a policy class name
    name: str
    default: Any
    quality: str
    low: float | None
    high: float | None
    reason: str
    decision: bool
    target: tuple[str, ...] = ()
    script: str | None = None
    unit: str = ""
    source: str = ""

    @property
    def path(self) -> str:
        """'market.base_churn', 'firm.failure_rate', 'SmallGifts.surprise_per_price_share'."""
        return f"{self.owner}.{self.name}"

    @property
    def varied(self) -> bool:
        """An assumption with a range of some width: what a robustness pass varies."""
        return not self.decision and self.low is not None and self.high is not None and self.low < self.high


def assumptions_of(model, owner: str) -> list[Assumption]:
    """The provenance of every field of a pydantic model class (fields without it are skipped)."""
    rows = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if "quality" not in extra:
            continue
        rows.append(Assumption(
            owner=owner, name=name, default=field.default, quality=extra["quality"], low=extra["low"],
            high=extra["high"], reason=extra["reason"], decision=extra["decision"],
            target=tuple(extra["target"]), script=extra["script"], unit=extra.get("unit", ""),
            source=extra.get("source", field.description or ""),
        ))
    return rows


# --- shorthands for the declarations in sim/parameters.py, sim/firm.py and sim/policies/ ------
def measured(reason: str = "", low: float | None = None, high: float | None = None) -> dict:
    return provenance("measured", low=low, high=high, reason=reason)


def judgement(low: float | None, high: float | None, reason: str) -> dict:
    return provenance("judgement", low=low, high=high, reason=reason)


def tuned(low: float, high: float, reason: str, target: tuple[str, ...] | str, script: str) -> dict:
    return provenance("tuned", low=low, high=high, reason=reason, target=target, script=script)


def decision(reason: str = "the user's decision") -> dict:
    """A setting the user decides: its default is a placeholder, not a claim about customers."""
    return provenance("judgement", reason=reason, decision=True)
