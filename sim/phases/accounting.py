"""Phase 6: the month's money, per firm.

Revenue: every customer pays the firm's monthly price, upsold customers pay the uplift on
top, and contract breakers pay their penalty. Costs: the cost to serve (`unit_cost_share`
of the list price), what policies booked this month (recovery, gifts, contacts) and the
discounts granted by offers, counted as a cost so that revenue stays at list price.
Profit is revenue minus cost; NPV discounts each month's profit at `discount_rate` a year.
"""

from __future__ import annotations

import numpy as np


def run(market) -> None:
    c, p, month, ledger = market.customers, market.parameters, market.month, market.ledger
    members = np.flatnonzero(c.is_customer)
    firm = c.firm[members]
    price = market.firm_price[firm]
    ledger.earn_by_firm("subscriptions", firm, price)
    ledger.earn_by_firm("upsell", firm, price * c.upsold[members] * c.upsell_uplift[members])
    ledger.charge_by_firm("service", firm, p.unit_cost_share * price)
    discounted = c.discount_until[members] >= month
    ledger.charge_by_firm("offers", firm[discounted], (c.discount[members] * price)[discounted])
    ledger.close_month(market.steps, monthly_discount_rate(p.discount_rate))


def monthly_discount_rate(yearly: float) -> float:
    return (1.0 + yearly) ** (1.0 / 12.0) - 1.0
