"""The `grapevine` command: run, validate, list, new, schema, demo.

Exit status: 0 done, 2 bad input (a clear message, no traceback, nothing written),
130 interrupted (every finished run is on disk; `grapevine run --resume DIR` finishes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from .scenario import ScenarioError, find_scenario, json_schema, load_scenario, shipped_scenarios, starter

BAD_INPUT, INTERRUPTED = 2, 130


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args) or 0
    except ScenarioError as error:
        for line in error.problems:
            print(f"error: {line}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `grapevine run ... | head`: the reader left; the files are written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grapevine", description="Word-of-mouth reputation simulations.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario (arms x replications) into a run folder")
    run.add_argument("scenario", nargs="?", help="a scenario file or the name of a shipped scenario")
    run.add_argument("--out", type=Path, help="the run folder (default results/<name>/<timestamp>/)")
    run.add_argument("--replications", type=_positive, help="replications per arm (overrides the file)")
    run.add_argument("--workers", type=_positive, default=1, help="parallel processes (default 1)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a setting, e.g. --set market.n_people=3000 (repeatable)")
    run.add_argument("--resume", type=Path, metavar="RUN_DIR", help="finish an interrupted run")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(command=cmd_run)

    validate = sub.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    validate.set_defaults(command=cmd_validate)

    listing = sub.add_parser("list", help="the shipped scenarios")
    listing.set_defaults(command=cmd_list)

    new = sub.add_parser("new", help="write a commented starter scenario NAME.yaml")
    new.add_argument("name")
    new.set_defaults(command=cmd_new)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")
    schema.set_defaults(command=cmd_schema)

    demo = sub.add_parser("demo", help="run scenarios/quickstart.yaml into results/")
    demo.add_argument("--workers", type=_positive, default=min(2, os.cpu_count() or 1))
    demo.set_defaults(command=cmd_demo)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 1 or more")
    return value


# --- commands -------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from .results import RunFolder

    if args.resume is not None:
        if args.scenario or args.overrides or args.replications or args.out:
            raise ScenarioError(["--resume RUN_DIR takes the scenario from the run folder: "
                                 "give no scenario, --set, --replications or --out with it"])
        folder = RunFolder.resume(args.resume)
    else:
        if not args.scenario:
            raise ScenarioError(["give a scenario file (or a shipped name, see `grapevine list`) or --resume RUN_DIR"])
        path = find_scenario(args.scenario)
        scenario = load_scenario(path, args.overrides, args.replications)
        folder = RunFolder.create(scenario, args.out, source=str(path), overrides=args.overrides)
    return _execute(folder, args.workers, progress=not args.quiet)


def _execute(folder, workers: int, progress: bool) -> int:
    from . import experiment
    from .results import done_count, execute

    scenario = folder.scenario
    runs = len(scenario.arm_names()) * scenario.replications
    groups = (f"{len(scenario.arm_names())} arms" if scenario.compare.kind == "arms"
              else f"{len(scenario.firms)} firms head to head")
    print(f"{scenario.name}: {groups} x {scenario.replications} replications = {runs} runs of "
          f"{scenario.market.n_people:,} people over {scenario.market.months} months -> {folder.path}")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    try:
        outcome = execute(folder, workers=workers, progress=progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {done_count(folder)} of {runs} runs are saved in {folder.path}\n"
              f"finish with: grapevine run --resume {folder.path}", file=sys.stderr)
        return INTERRUPTED
    print()
    print(experiment.table(outcome["comparison"], scenario))
    print()
    for sentence in outcome["verdicts"]:
        print(f"- {sentence}")
    print(f"\nfiles: {folder.path}/ (summary.csv, comparison.csv, timeseries.parquet, manifest.json)")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_validate(args) -> int:
    path = find_scenario(args.scenario)
    scenario = load_scenario(path, args.overrides)
    kind = scenario.compare.kind
    groups = scenario.arm_names() if kind == "arms" else [f.name for f in scenario.firms]
    print(f"{path}: ok - {scenario.name}: {kind.replace('_', ' ')} {', '.join(groups)} "
          f"(baseline {scenario.baseline}), {scenario.replications} replications, "
          f"{scenario.market.n_people:,} people, {scenario.market.months} months")
    return 0


def cmd_list(args) -> int:
    found = shipped_scenarios()
    if not found:
        print("no shipped scenarios found")
        return 0
    width = max(len(name) for name, _ in found)
    for name, description in found:
        print(f"{name.ljust(width)}  {description}")
    return 0


def cmd_new(args) -> int:
    path = Path(args.name if args.name.endswith((".yaml", ".yml")) else f"{args.name}.yaml")
    name = path.stem
    if path.exists():
        raise ScenarioError([f"{path}: already exists; choose another name"])
    from .scenario import SCENARIO_NAME
    import re

    if not re.match(SCENARIO_NAME, name):
        raise ScenarioError([f"{name!r}: a scenario name uses letters, digits, - and _ (it names the results folder)"])
    path.write_text(starter(name, str(path)))
    print(f"wrote {path}: edit it, then `grapevine validate {path}` and `grapevine run {path}`")
    return 0


def cmd_schema(args) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_demo(args) -> int:
    from .results import RunFolder

    path = find_scenario("quickstart")
    scenario = load_scenario(path)
    folder = RunFolder.create(scenario, None, source=str(path))
    return _execute(folder, args.workers, progress=True)


if __name__ == "__main__":
    sys.exit(main())
