"""What the NPV-of-bad-news result needs: attitude memory against relaying, at 5% disappointed.

    python bench/bad_news_needs.py [--people 20000] [--seeds 4]

Runs check-model's docking of Goldenberg et al. (2007) (`sim.experiments.validation.BAD_NEWS`)
with `attitude_memory` and `relay_probability` varied, and prints the NPV loss as a multiple of
the disappointed share with its 95% interval over paired seeds. The paper's claim holds where
the multiple is above 1. docs/MODEL.md section 10 quotes one run of it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim.experiments import validation  # noqa: E402

SHARE = 0.05
MEMORIES = (1.0, 0.97, 0.9)  # permanent (the paper), slowly fading, the engine's default
RELAYS = (0.0, 0.05, 0.1, 0.2)  # none (the engine's default) up to the docking's 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=validation.FULL.npv_people)
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    size = replace(validation.FULL, npv_people=args.people)
    print(f"NPV loss / disappointed share at {SHARE:.0%} disappointed; {args.people:,} people, {args.seeds} seeds")
    for memory in MEMORIES:
        cells = []
        for relay in RELAYS:
            loss = np.array([validation._npv_loss(seed, size, SHARE, attitude_memory=memory, relay_probability=relay)
                             for seed in range(args.seeds)])
            mean, low, high = validation.seed_interval(loss / SHARE)
            cells.append(f"relay {relay:<4}: {mean:5.2f}x [{low:.2f}, {high:.2f}]")
        print(f"attitude_memory {memory:<4}  " + "   ".join(cells))


if __name__ == "__main__":
    main()
