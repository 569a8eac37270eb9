"""The report's first sentence: the market's people and customers, as asked and as they resulted.

A firm stated in its own numbers (`customers` at month 0, `sim.population`) is told back what it
asked and what the model has at month 0, and how far the warm-up had drifted from it; a market
given in people is told its share of customers at the set-up and at month 0 (the warm-up moves it).
"""

from __future__ import annotations


def _percent(value: float) -> str:
    return f"{100 * value:.3g}%"


def market_sentence(results) -> str:
    s, m = results.scenario, results.scenario.market
    network = {"small_world": "small-world", "communities": "community", "scale_free": "scale-free"}.get(
        m.network, str(m.network).replace("_", " "))
    people = f"{m.n_people:,} people live on a {network} social network (about {m.mean_degree} contacts each)"
    start = results.timeseries[results.timeseries["month"] == 0]
    if results.head_to_head:
        start = start.assign(group=start["firm"])
    else:
        start = start[start["arm"] == results.baseline]
    at_zero = start.groupby("firm")["customers"].mean()
    stated = [f for f in s.firms if f.customers is not None]
    if not stated:
        share = float(at_zero.sum()) / m.n_people
        return (f"{people}; {_percent(m.initial_customer_share)} of them are customers at the set-up and "
                f"{_percent(share)} at month 0, after {m.warm_up_months} warm-up months without policies (mean of "
                f"the replications).")
    penetration = m.penetration if m.penetration is not None else m.initial_customer_share
    landed = start.groupby("firm")["customers_landed"].mean() if "customers_landed" in start else None
    parts = []
    for firm in stated:
        got = float(at_zero.get(firm.name, float("nan")))
        text = f"{firm.name} states {firm.customers:,} customers at month 0 and has {got:,.0f} then"
        if landed is not None and firm.name in landed:
            change = float(landed[firm.name])
            before = got - change
            moved = (f"{abs(change):,.0f} prospects took the relationship of existing customers" if change > 0 else
                     f"{abs(change):,.0f} customers became prospects")
            text += (f" (the {m.warm_up_months} warm-up months without policies left it {before:,.0f}; {moved} "
                     f"at month 0 so that it starts at its stated size")
            if abs(change) > 0.1 * firm.customers and s.posterior is None:
                text += ("; a drift this large says the model's acquisition and churn do not hold the firm at that "
                         "size: fit them to its figures with `grapevine calibrate`")
            text += ")"
        parts.append(text)
    return (f"{'; '.join(parts)}. With {_percent(penetration)} of the market's people customers at month 0 "
            f"(the penetration), {people}.")
