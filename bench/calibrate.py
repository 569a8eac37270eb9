"""Measure the default market against the targets its tuned defaults were set to hit.

    python bench/calibrate.py                          # every tuned or calibrated default and its rows
    python bench/calibrate.py --set base_churn=0.007   # the same, with a default changed (what a tuner tries)

For each default whose quality is `tuned` or `calibrated` (sim/parameters.py, sim/firm.py,
sim/policies/), prints the check-model rows it was set to hit (sim/experiments/targets.yaml),
each with its band and the value measured now, with its 95% interval and pass or fail. It uses
the measurements and the decision rule of `grapevine check-model` (one definition of each), on
the default market at check-model's full size, so what it prints is what check-model reports.

`--set` changes a market or firm setting of the default market (any keyword `sim.Market`
accepts); the scenarios' churn rows are then skipped, since each scenario has its own market.
No script searches for the values yet: the defaults were tuned by hand against these numbers
(docs/MODEL.md section 9), which is why they are labelled `tuned`, not `calibrated`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere, installed or not
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from sim.experiments import validation  # noqa: E402
from sim.parameters import provenance  # noqa: E402


def rows_for(size: validation.Size) -> dict[str, validation.Check]:
    """The calibration rows of the default market (and, unchanged, of the scenarios' churn)."""
    checks = [validation.check_complaint_rate, validation.check_tarp, validation.check_peer_hazard,
              validation.check_peer_decay]
    if not size.market_settings:
        checks.append(validation.check_sector_churn)
    return {row.id: row for check in checks for row in check(size)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a market or firm setting of the default market (repeatable)")
    parser.add_argument("--seeds", type=int, help="seeds of the default market (default: check-model's full size)")
    parser.add_argument("--people", type=int, help="people in the default market (default: check-model's full size)")
    args = parser.parse_args()
    settings = {}
    for item in args.set:
        name, _, value = item.partition("=")
        settings[name.strip()] = yaml.safe_load(value)
    size = validation.FULL
    size = replace(size, name="calibrate", market_seeds=args.seeds or size.market_seeds,
                   market_people=args.people or size.market_people, market_settings=tuple(settings.items()))
    rows = rows_for(size)
    changed = f", with {', '.join(f'{k}={v}' for k, v in settings.items())}" if settings else ""
    print(f"default market: {size.market_people:,} people, {size.market_seeds} seeds{changed}\n")
    for default in provenance():
        if default.quality not in ("tuned", "calibrated"):
            continue
        shown = settings.get(default.name, default.default)
        print(f"{default.path} = {shown:g} ({default.quality}; plausible {default.low:g}-{default.high:g})")
        if not default.target:
            print("  no check-model row measures it\n")
            continue
        for watched in default.target:
            matches = [r for i, r in rows.items() if i == watched or (watched.endswith(".*") and i.startswith(watched[:-1]))]
            for row in matches:
                print(f"  {row.id:<36} {row.status:<5} {row.simulated}   band {row.tolerance}")
            if not matches:
                print(f"  {watched}: not measured here")
        print()


if __name__ == "__main__":
    main()
