"""Phase 6: the month's money, per firm.

Revenue: every customer pays the firm's monthly price, and contract breakers pay their
penalty (booked in phase 4). Costs: the cost to serve (`unit_cost_share` of the list price)
and what policies booked during the month. Then each firm's policies settle the month
(`settle_month`: an upgrade's revenue, a running discount's cost, booked as a cost so that
revenue stays at list price). Profit is revenue minus cost; NPV discounts each month's
profit at `discount_rate` a year, from month 0.
"""

from __future__ import annotations

from .. import compiled
from ..bookkeeping import monthly_discount_rate


def run(market) -> None:
    if market.warming_up:  # the warm-up's money is nobody's: the books open at month 0
        return
    c, p, month, ledger = market.customers, market.parameters, market.month, market.ledger
    members = c.members()
    fast = compiled.kernels()
    if fast is not None:  # the same sums in one compiled pass (sim.kernels.subscriptions)
        revenue, cost = fast.subscriptions(members, c.firm, market.firm_price, p.unit_cost_share)
        ledger.earn_per_firm("subscriptions", revenue)
        ledger.charge_per_firm("service", cost)
    else:
        firm = c.firm[members]
        price = market.firm_price[firm]
        ledger.earn_by_firm("subscriptions", firm, price)
        ledger.charge_by_firm("service", firm, p.unit_cost_share * price)
    market.for_each_policy("settle_month", members)
    ledger.close_month(month, monthly_discount_rate(p.discount_rate))
