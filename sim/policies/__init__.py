"""Firm policies as plug-ins: one small class each, hooked into named points of the month.

To add a policy, write one subclass of `Policy` in its own module, import it here, and
implement the hooks it needs. The engine calls hooks; it never names a policy.
"""

from .base import Policy, make_policy, offer_acceptance
from .recovery import IgnoreUntilRenewal, RenewalCall, ServiceRecovery
from .gifts import SmallGifts
from .checkins import ProactiveCheckIns
from .offers import RetentionOffers, WinBackOffers
from .upsell import Upsell

__all__ = [
    "Policy", "make_policy", "offer_acceptance",
    "IgnoreUntilRenewal", "RenewalCall", "ServiceRecovery", "SmallGifts", "ProactiveCheckIns",
    "RetentionOffers", "WinBackOffers", "Upsell",
]
