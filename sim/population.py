"""The market in the firm's own numbers: customers at month 0, and the people that follows.

A firm knows how many customers it has, not how many people its market holds. When every firm
states its `customers` (customers at month 0), the market's people follow from the share of
people who are anyone's customers, the category's `penetration` (default
`initial_customer_share`):

    n_people = round(sum of the firms' customers / penetration)

The set-up then draws that share of people as customers, split among the firms in proportion to
their customers, and after the warm-up the market lands on the stated customers
(`Market._land_on_stated_customers`): the warm-up moves the numbers toward the model's own
balance of acquisition and churn, so at month 0 a firm with too many customers loses a random
few (they become prospects who never were customers) and a firm with too few gains random
prospects, each taking the relationship of a random existing customer of that firm (tenure,
contract, expectation, loyalty, grievance and satisfaction relative to their own temperament),
so that the customers' states keep their distribution. The month-0 row of the monthly table
counts the adjustment (`customers_landed`: + added, - removed). A large adjustment says the
model's acquisition and churn do not hold the firm at its size: calibrate them
(`grapevine calibrate`, docs/CALIBRATION.md).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

MAX_PEOPLE = 50_000_000


def stated_customers(firms: Sequence) -> np.ndarray | None:
    """Each firm's stated customers at month 0, or None when no firm states them.
    Raises ValueError when some firms state them and others do not."""
    counts = [getattr(firm, "customers", None) for firm in firms]
    if all(count is None for count in counts):
        return None
    missing = [firm.name for firm, count in zip(firms, counts) if count is None]
    if missing:
        raise ValueError(f"customers: state them for every firm or for none ({', '.join(missing)} has none): the "
                         f"market's people follow from all the firms' customers")
    return np.array(counts, dtype=np.int64)


def penetration_of(parameters) -> float:
    """The share of people who are customers at month 0: `penetration`, else `initial_customer_share`."""
    return parameters.penetration if parameters.penetration is not None else parameters.initial_customer_share


def people_for(customers: np.ndarray, penetration: float) -> int:
    """The market's people for these customers at this penetration (ValueError if out of range)."""
    if not 0 < penetration <= 1:
        raise ValueError(f"penetration = {penetration!r} is not allowed: the share of people who are customers at "
                         f"month 0 needs 0 < penetration <= 1 (or set initial_customer_share)")
    people = int(round(int(customers.sum()) / penetration))
    if people > MAX_PEOPLE:
        raise ValueError(f"customers: {int(customers.sum()):,} customers at a penetration of {penetration:g} make "
                         f"{people:,} people; at most {MAX_PEOPLE:,} (raise the penetration or simulate fewer customers)")
    return max(people, 2)


def sized(settings: dict, firms: Sequence) -> dict:
    """The market's settings with `n_people` set from the firms' customers, if they state them.

    `n_people` given as well must agree (a resolved scenario carries both); `penetration` without
    any firm's customers would do nothing, so it is refused."""
    from .parameters import MarketParameters

    customers = stated_customers(firms)
    if customers is None:
        if settings.get("penetration") is not None:
            raise ValueError("penetration: needs the firms' customers (customers at month 0): the people follow from "
                             "them; without them give n_people and initial_customer_share")
        return settings
    if settings.get("network") == "edge_list":  # the file holds the people; the warm-up still lands
        return settings
    share = settings.get("penetration")
    if share is None:
        share = settings.get("initial_customer_share", MarketParameters.model_fields["initial_customer_share"].default)
    people = people_for(customers, share)
    given = settings.get("n_people")
    if given is not None and int(given) != people:
        raise ValueError(f"n_people = {given!r} is not allowed with the firms' customers: {int(customers.sum()):,} "
                         f"customers at a penetration of {share:g} make {people:,} people; remove n_people (or set "
                         f"it to {people})")
    return {**settings, "n_people": people}


def at_size(firms: list[dict], market: dict, n_people: int) -> tuple[list[dict], dict]:
    """A run's firms and market settings at about `n_people` people, the same market in miniature
    (a picture, a quick check): stated customers are scaled with the people, so the penetration
    and the firms' shares stay; otherwise `n_people` is simply set."""
    if all(firm.get("customers") is None for firm in firms):
        return firms, {**market, "n_people": n_people}
    factor = n_people / max(int(market["n_people"]), 1)
    firms = [{**firm, "customers": max(1, int(round(firm["customers"] * factor)))} for firm in firms]
    settings = {key: value for key, value in market.items() if key != "n_people"}
    return firms, {**settings, "n_people": sized(settings, [_Stated(f) for f in firms])["n_people"]}


class _Stated:
    """A firm given as data, as `stated_customers` reads it."""

    def __init__(self, data: dict):
        self.name, self.customers = data.get("name", "firm"), data.get("customers")
