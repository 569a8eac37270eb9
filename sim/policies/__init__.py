"""Firm policies as plug-ins: one small class each, hooked into named points of the month.

To add a policy, write one subclass of `Policy` in its own module and import it here: its
settings, the state, events, costs and dashboard levers it declares, and the hooks it needs
(`sim.policies.base` lists them in month order). The engine reads the declarations and
calls the hooks; it never names a policy.
"""

from .base import Lever, Policy, Shared, State, check_together, make_policy, offer_acceptance
from .recovery import IgnoreUntilRenewal, RenewalCall, ServiceRecovery
from .gifts import SmallGifts
from .checkins import ProactiveCheckIns
from .offers import RetentionOffers, WinBackOffers
from .upsell import Upsell

__all__ = [
    "Policy", "State", "Lever", "Shared", "check_together", "make_policy", "offer_acceptance",
    "IgnoreUntilRenewal", "RenewalCall", "ServiceRecovery", "SmallGifts", "ProactiveCheckIns",
    "RetentionOffers", "WinBackOffers", "Upsell",
]
