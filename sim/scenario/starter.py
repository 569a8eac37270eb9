"""The shipped scenarios and the starter file that `grapevine new` writes."""

from __future__ import annotations


import yaml

from .loading import SHIPPED


def shipped_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every scenario in scenarios/."""
    out = []
    for path in sorted(SHIPPED.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text()) or {}
            out.append((path.stem, str(data.get("description", "")).strip()))
        except (yaml.YAMLError, OSError, AttributeError):
            out.append((path.stem, "(cannot be read)"))
    return out


STARTER = """\
# {name}: a Grapevine scenario. Edit the values; `grapevine validate {file}` checks them
# and `grapevine run {file}` runs them. Every key is optional unless marked (required).
# The full list of keys, with units and sources: `grapevine schema`.

name: {name}
description: What does caring for complaining customers do to retention and NPV?
sector: postpaid_mobile  # or prepaid_mobile, broadband, b2c_subscription, b2b_subscription:
                         # `grapevine run` sets the market's churn beside the sector's published churn
currency: EUR            # the firm's money, an ISO code (or units)

seed: 1              # same seed => same results
replications: auto   # paired runs per arm: batches of 8 until every verdict is clear or
                     # precise (or a number, e.g. 10)
# precision: {{points: 0.5, money: 2000}}   # when auto stops; money default: 1% of the baseline's NPV

market:              # any market parameter; the rest keep their defaults
  n_people: 10000    # people on the social network
  months: 60         # horizon
  contract_months: 12
  price: 50          # monthly price
  discount_rate: 0.1 # per year, for NPV

firms:               # (required) one or more firms
  - name: Telco
    quality: 0.7         # mean service quality, 0 to 1
    failure_rate: 0.015  # chance of a service failure per customer per month
    policies: [RenewalCall]  # what the firm does today, the baseline: complaints go
                             # unanswered; a same-terms renewal call at contract end
    # price: 50          # default: the market's price
    # advertising: 0.0025

compare:
  kind: arms         # arms = variants of the firm, each saying what it changes from the
                     # baseline (everything it does not name stays as written above);
                     # head_to_head = the firms compete
  baseline: ignore   # the arm the others are measured against: the firm as written
  arms:
    - name: ignore
      description: no answer to complaints; a same-terms renewal call
    - name: recover
      description: every complaint answered with real effort; the same renewal call
      add:               # add policies; also remove: [Kind], replace: {{Kind: New}},
        - kind: ServiceRecovery        # set: {{market.price: 55, ServiceRecovery.effort: 1}}
          effort: 0.8    # 0 = token answer, 1 = everything it takes
    - name: gifts
      description: a gift worth 0.5% of the monthly price every three months
      add: [SmallGifts]
"""


def starter(name: str, file: str) -> str:
    return STARTER.format(name=name, file=file)
