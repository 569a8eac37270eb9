"""The policy plug-in interface: the hook points of the month, in the order they happen.

A hook receives the market, the firm's index `firm` and the people concerned as an index
array; it changes customer arrays with array expressions and books its costs with
`market.ledger.charge(firm, category, amount)`. Random draws come from
`market.streams` keyed by a decision name unique to the policy, so a policy never shifts
the luck of anything else (common random numbers across arms).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..errors import validated


class Policy(BaseModel):
    """Base class. Subclasses are registered by class name for scenario files and strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    registry: ClassVar[dict[str, type[Policy]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        Policy.registry[cls.__name__] = cls

    # --- hook points, in month order -----------------------------------------
    def shape_experience(self, market, firm: int, members: np.ndarray) -> None:
        """Before satisfaction is updated: add to `customers.surprise` (delight beyond the
        service, e.g. a gift) or to `customers.experience` (the service itself)."""

    def on_complaints(self, market, firm: int, complainers: np.ndarray) -> None:
        """Answer this month's complaints (mark `customers.resolved` for those resolved)."""

    def after_experience(self, market, firm: int, members: np.ndarray) -> None:
        """Reach out to customers after they felt the month, before they talk (check-ins, upsell)."""

    def before_leaving(self, market, firm: int, leavers: np.ndarray, at_renewal: np.ndarray) -> np.ndarray:
        """Customers about to leave; return a boolean mask of those the firm keeps."""
        return np.zeros(leavers.size, bool)

    def reach_former_customers(self, market, firm: int, former: np.ndarray) -> None:
        """Prospects who once were customers of this firm (win-back)."""

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
