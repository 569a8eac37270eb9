"""The speed floor: the least a vectorised month of this model can cost per customer.

A month cut to its bones, on the engine's own network (`sim.network.build`) and with the
engine's default parameters: every customer's experience (quality with noise, a failure with
`failure_rate`, satisfaction's exponential average toward temperament), the newly unhappy tell
10-15 random contacts and the delighted tell `referral_reach` with `referral_probability`,
attitudes fade and move with what was heard, customers churn with a hazard in satisfaction,
prospects join with advertising plus imitation. One numpy Generator draws everything (no
keyed streams), nothing is counted by firm, no policy, no metrics. It is not the model, only
what its arrays cost: bench/bench_speed.py compares the engine's customer-months per second
with this month's.

    .venv/bin/python bench/minimal_month.py --people 1000000 --months 24
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def tell(network, talkers: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Listeners of `counts[i]` messages from each talker, contacts drawn with replacement."""
    start = network.indptr[talkers]
    degree = network.indptr[talkers + 1] - start
    counts = np.where(degree > 0, counts, 0)
    owner = np.repeat(np.arange(talkers.size), counts)
    pick = start[owner] + (rng.random(owner.size) * degree[owner]).astype(np.int64)
    return network.indices[pick]


def run(network, parameters, months: int, seed: int = 1) -> float:
    """Simulate `months` minimal months; returns the seconds they took (set-up excluded)."""
    p, n = parameters, network.n
    rng = np.random.default_rng(seed)
    quality, failure_rate, advertising = 0.7, 0.015, 0.03 / 12
    temperament = np.clip(rng.normal(p.temperament_mean, p.temperament_spread, n), 0.0, 1.0)
    satisfaction = temperament.copy()
    customer = rng.random(n) < p.initial_customer_share
    attitude = np.zeros(n)
    heard_positive = np.zeros(n)
    start = time.perf_counter()
    for _ in range(months):
        members = np.flatnonzero(customer)
        before = satisfaction[members]
        experience = quality + p.quality_noise * rng.standard_normal(members.size)
        experience -= p.failure_severity * (rng.random(members.size) < failure_rate)
        target = np.clip(temperament[members] + p.disconfirmation_sensitivity * (experience - quality), 0.0, 1.0)
        now = p.satisfaction_memory * before + (1 - p.satisfaction_memory) * target
        satisfaction[members] = now

        unhappy = members[(now < p.dissatisfied_below) & (before >= p.dissatisfied_below)]
        negative = tell(network, unhappy, rng.integers(p.negative_reach_min, p.negative_reach_max + 1, unhappy.size), rng)
        delighted = members[(now >= p.delighted_above) & (rng.random(members.size) < p.referral_probability)]
        positive = tell(network, delighted, np.full(delighted.size, p.referral_reach), rng)
        attitude *= p.attitude_memory
        attitude -= p.negative_message_weight * np.bincount(negative, minlength=n)
        heard_positive = np.bincount(positive, minlength=n).astype(float)
        attitude += p.positive_message_weight * heard_positive
        np.clip(attitude, -1.0, 1.0, out=attitude)

        hazard = np.minimum(1.0, p.base_churn * np.exp(p.churn_satisfaction * (p.temperament_mean - now)))
        customer[members[rng.random(members.size) < hazard]] = False
        prospects = np.flatnonzero(~customer)
        joins = rng.random(prospects.size) < advertising + p.imitation * heard_positive[prospects]
        joining = prospects[joins]
        customer[joining] = True
        satisfaction[joining] = temperament[joining]
    return time.perf_counter() - start


def main() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sim.network import build
    from sim.parameters import make_parameters

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    parameters = make_parameters(n_people=args.people)
    network = build(parameters, np.random.default_rng(1))
    seconds = run(network, parameters, args.months)
    print(f"minimal month, {args.people:,} people x {args.months} months: {seconds:.2f} s, "
          f"{args.people * args.months / seconds / 1e6:.1f} million customer-months a second")


if __name__ == "__main__":
    main()
