"""Grapevine: an agent-based simulation of word-of-mouth reputation (Mesa model, numpy engine).

    import sim
    results = sim.run_scenario("quickstart")          # a scenario's arms x replications -> Results
    results.verdicts, results.plot("poster")

    market = sim.Market(seed=1, n_people=10_000, policies=[sim.ServiceRecovery(effort=0.8)]).run()
    market.monthly()                                  # one market, month by month

The layers, each importing only the ones above it in this list: the engine (`market`,
`customers`, `network`, `phases`, `policies`, `parameters`, ...), `scenario` (files in),
`experiments` (what to run, where, paired statistics), `outputs` (Results, figures, report,
dashboard), and `cli` (the `grapevine` command).
"""

from .firm import Firm
from .market import Market
from .batch import batch_run
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
    "RetentionOffers", "WinBackOffers", "Upsell", "run_scenario", "Results", "load_scenario",
]


def __getattr__(name: str):
    """The experiment and output layers load on first use, so `import sim` stays light for workers."""
    if name in ("run_scenario", "Results"):
        from . import api

        return getattr(api, name)
    if name == "load_scenario":
        from .scenario import load_scenario

        return load_scenario
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
