"""Grapevine: an agent-based simulation of word-of-mouth reputation (Mesa model, numpy engine).

    from sim import Market, ServiceRecovery
    market = Market(seed=1, n_people=10_000, policies=[ServiceRecovery(effort=0.8)]).run()
    market.monthly()
"""

from .firm import Firm
from .market import Market
from .mesa_compat import batch_run
from .parameters import MarketParameters, make_parameters
from .policies import (
    IgnoreUntilRenewal,
    Policy,
    ProactiveCheckIns,
    RenewalCall,
    RetentionOffers,
    ServiceRecovery,
    SmallGifts,
    Upsell,
    WinBackOffers,
)

__all__ = [
    "Market", "batch_run", "Firm", "MarketParameters", "make_parameters", "Policy",
    "IgnoreUntilRenewal", "RenewalCall", "ServiceRecovery", "SmallGifts", "ProactiveCheckIns",
    "RetentionOffers", "WinBackOffers", "Upsell",
]
