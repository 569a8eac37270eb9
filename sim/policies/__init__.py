"""Firm policies as plug-ins: one small class each, hooked into named points of the month.

To add a policy, write one subclass of `Policy` in a module of this package: its settings, the
state, events, costs and dashboard levers it declares, and the hooks it needs
(`sim.policies.base` lists them in month order). Every module here is imported below, so the
class registers itself and scenario files can name it; the engine reads the declarations and
calls the hooks, and never names a policy.
"""

import importlib
import pkgutil

from .base import Lever, Policy, Shared, State, check_together, make_policy, offer_acceptance
from .recovery import IgnoreUntilRenewal, RenewalCall, ServiceRecovery
from .gifts import SmallGifts
from .checkins import ProactiveCheckIns
from .offers import RetentionOffers, WinBackOffers
from .upsell import Upsell

for _module in pkgutil.iter_modules(__path__):  # a policy added as a new module needs no other edit
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Policy", "State", "Lever", "Shared", "check_together", "make_policy", "offer_acceptance",
    "IgnoreUntilRenewal", "RenewalCall", "ServiceRecovery", "SmallGifts", "ProactiveCheckIns",
    "RetentionOffers", "WinBackOffers", "Upsell",
]
