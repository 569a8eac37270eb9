"""The `grapevine` command: run, sweep, validate, list, new, schema, demo, dashboard, sensitivity.

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
from .sectors import churn_sentence

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
    _where_to_run(run)
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a setting, e.g. --set market.n_people=3000 (repeatable)")
    run.add_argument("--resume", type=Path, metavar="RUN_DIR", help="finish an interrupted run")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--no-figures", action="store_true",
                     help="skip figures/ and report.html (`grapevine plot RUN_DIR` draws them later)")
    run.set_defaults(command=cmd_run)

    sweep = sub.add_parser("sweep", help="run a scenario at every point of its sweep section "
                                         "(a grid, a random or a Latin-hypercube sample)")
    sweep.add_argument("scenario", nargs="?", help="a scenario file with a sweep section, or a shipped name")
    sweep.add_argument("--out", type=Path, help="the sweep folder (default results/<name>/sweep-<timestamp>/)")
    sweep.add_argument("--replications", type=_positive, help="replications per arm at each point")
    _where_to_run(sweep)
    sweep.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                       help="override a setting, e.g. --set sweep.samples=200 (repeatable)")
    sweep.add_argument("--resume", type=Path, metavar="SWEEP_DIR", help="finish an interrupted sweep")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(command=cmd_sweep)

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

    plot = sub.add_parser("plot", help="redraw figures/ and report.html of a run folder from its saved data")
    plot.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    plot.add_argument("--no-animation", action="store_true", help="skip the animated GIF (the slowest figure)")
    plot.set_defaults(command=cmd_plot)

    dashboard = sub.add_parser("dashboard", help="a live dashboard in the browser: sliders, network, charts")
    dashboard.add_argument("scenario", nargs="?", help="take the defaults from this scenario (first firm, baseline arm)")
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    dashboard.add_argument("--port", type=_positive, default=8765, help="port (default 8765)")
    dashboard.add_argument("--open", action="store_true", help="also open the page in the default browser")
    dashboard.set_defaults(command=cmd_dashboard)

    sens = sub.add_parser("sensitivity", help="which uncertain settings drive the outcomes and the verdict "
                                               "(the scenario's sensitivity section)")
    sens.add_argument("scenario", help="a scenario file with a sensitivity section, or a shipped name")
    sens.add_argument("--out", type=Path, help="the run folder (default results/<name>/sensitivity-<timestamp>/)")
    sens.add_argument("--workers", type=_positive, default=1, help="parallel processes (default 1)")
    sens.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                      help="override a setting, e.g. --set sensitivity.samples=4 (repeatable)")
    sens.add_argument("--quiet", action="store_true", help="no progress bar")
    sens.set_defaults(command=cmd_sensitivity)

    check = sub.add_parser("check-model", help="validation: the model against the published patterns and facts "
                                                "(Bass docking, network effects, TARP, peer churn, WOM)")
    check.add_argument("--quick", action="store_true", help="small sizes (about a minute; for tests and CI)")
    check.add_argument("--wom", action="store_true",
                       help="instead: run the twin scenarios wom-folklore and wom-evidence and put the policy "
                            "verdicts side by side")
    check.add_argument("--workers", type=_positive, default=1, help="--wom: parallel processes (default 1)")
    check.set_defaults(command=cmd_check_model)
    return parser


def _where_to_run(parser) -> None:
    parser.add_argument("--workers", type=_positive, default=None,
                        help="N > 1: a local Dask cluster of N worker processes on 127.0.0.1 (default 1: serial)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="send the runs to an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
                             "(default: $GRAPEVINE_SCHEDULER unless --workers is given)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 1 or more")
    return value


def _resume_alone(args, what: str) -> None:
    if args.scenario or args.overrides or args.replications or args.out:
        raise ScenarioError([f"--resume {what}: give no scenario, --set, --replications or --out with it"])


# --- commands -------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from .results import RunFolder

    if args.resume is not None:
        _resume_alone(args, "RUN_DIR takes the scenario from the run folder")
        folder = RunFolder.resume(args.resume)
    else:
        if not args.scenario:
            raise ScenarioError(["give a scenario file (or a shipped name, see `grapevine list`) or --resume RUN_DIR"])
        path = find_scenario(args.scenario)
        scenario = load_scenario(path, args.overrides, args.replications)
        folder = RunFolder.create(scenario, args.out, source=str(path), overrides=args.overrides)
    folder.draw_figures = not args.no_figures
    return _execute(folder, args.workers, progress=not args.quiet, scheduler=args.scheduler)


def _execute(folder, workers: int | None, progress: bool, scheduler: str | None = None) -> int:
    from . import experiment
    from .executors import ExecutorError, scheduler_from, using
    from .results import done_count, execute

    scheduler = scheduler_from(scheduler, workers)
    workers = workers or 1

    scenario = folder.scenario
    runs = len(scenario.arm_names()) * scenario.replications
    groups = (f"{len(scenario.arm_names())} arms" if scenario.compare.kind == "arms"
              else f"{len(scenario.firms)} firms head to head")
    print(f"{scenario.name}: {groups} x {scenario.replications} replications = {runs} runs of "
          f"{scenario.market.n_people:,} people over {scenario.market.months} months -> {folder.path}")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    try:
        with using(scheduler):
            outcome = execute(folder, workers=workers, progress=progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {done_count(folder)} of {runs} runs are saved in {folder.path}\n"
              f"finish with: grapevine run --resume {folder.path}", file=sys.stderr)
        return INTERRUPTED
    except ExecutorError as error:
        print(f"error: {error}\n{done_count(folder)} of {runs} runs are saved in {folder.path}; "
              f"finish with: grapevine run --resume {folder.path}", file=sys.stderr)
        return 1
    print()
    print(experiment.table(outcome["comparison"], scenario))
    print()
    for sentence in outcome["verdicts"]:
        print(f"- {sentence}")
    churn = experiment.baseline_churn(outcome["timeseries"], scenario)
    print(f"\n{churn_sentence(scenario.sector, scenario.baseline, churn)}")
    print(f"\nfiles: {folder.path}/ (summary.csv, comparison.csv, timeseries.parquet, manifest.json)")
    if getattr(folder, "draw_figures", True):  # the results are on disk already: figures cannot lose them
        _figures(folder.path)
    return 0


def _figures(run_dir: Path) -> None:
    """figures/ and report.html; a failure is a warning, never the run's exit status."""
    try:
        from .report import write_outputs

        outputs = write_outputs(run_dir, log=lambda line: print(line, file=sys.stderr))
    except Exception as error:  # noqa: BLE001 - the data are saved; say so and how to retry
        print(f"warning: figures and report could not be written ({type(error).__name__}: {error}); "
              f"the results are saved; retry with `grapevine plot {run_dir}`", file=sys.stderr)
        return
    print(f"figures: {run_dir}/figures/ ({len(outputs.figures)}), report: {outputs.report}")


def cmd_plot(args) -> int:
    if not (args.run_dir / "manifest.json").exists() or not (args.run_dir / "comparison.csv").exists():
        raise ScenarioError([f"{args.run_dir}: not a finished run folder (no manifest.json or comparison.csv); "
                             f"finish it with `grapevine run --resume {args.run_dir}`"])
    from .report import write_outputs

    outputs = write_outputs(args.run_dir, animation=not args.no_animation,
                            log=lambda line: print(line, file=sys.stderr))
    for name, paths in outputs.figures.items():
        print(f"{name}: {', '.join(str(p) for p in paths)}")
    print(f"report: {outputs.report}")
    return 1 if outputs.problems else 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_sweep(args) -> int:
    from . import sweep
    from .executors import ExecutorError, make_executor, scheduler_from

    if args.resume is not None:
        _resume_alone(args, "SWEEP_DIR takes the scenario and the points from the sweep folder")
        folder = sweep.SweepFolder.resume(args.resume)
    else:
        if not args.scenario:
            raise ScenarioError(["give a scenario file with a sweep section (or a shipped name) or --resume SWEEP_DIR"])
        path = find_scenario(args.scenario)
        scenario = load_scenario(path, args.overrides, args.replications)
        design = sweep.prepare(scenario, str(path))  # bad input stops here, before any folder
        folder = sweep.SweepFolder.create(design, args.out, source=str(path), overrides=args.overrides)
    design, scenario = folder.design, folder.design.scenario
    scheduler = scheduler_from(args.scheduler, args.workers)
    workers = args.workers or 1
    where = (f"the Dask cluster at {scheduler}" if scheduler else
             f"a local Dask cluster of {workers} workers" if workers > 1 else "serially")
    points, runs = len(design.points), len(design.points) * design.runs_per_point
    print(f"{scenario.name}: {design.spec.method.replace('_', ' ')} of {points:,} points over "
          f"{', '.join(design.names)} x {len(scenario.arm_names())} arms x {scenario.replications} replications "
          f"= {runs:,} runs, {scenario.market.n_people:,} people over {scenario.market.months} months "
          f"(at the base point), {where} -> {folder.path}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    hint = f"finish with: grapevine sweep --resume {folder.path}"
    try:
        executor = make_executor(min(workers, max(runs - folder.done_count(), 1)), scheduler)
        outcome = sweep.execute(folder, executor, progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {folder.done_count()} of {runs} runs are saved in {folder.path}\n{hint}",
              file=sys.stderr)
        return INTERRUPTED
    except ExecutorError as error:
        print(f"error: {error}\n{folder.done_count()} of {runs} runs are saved in {folder.path}; {hint}",
              file=sys.stderr)
        return 1
    print()
    print(sweep.table(outcome["comparison_head"], design))
    if points > sweep.SHOW:
        print(f"... and {points - sweep.SHOW:,} more points in comparison.csv")
    print(f"\nfiles: {folder.path}/ ({', '.join(sweep.FINAL_FILES)}, manifest.json)")
    return 0


def cmd_validate(args) -> int:
    path = find_scenario(args.scenario)
    scenario = load_scenario(path, args.overrides)
    kind = scenario.compare.kind
    groups = scenario.arm_names() if kind == "arms" else [f.name for f in scenario.firms]
    print(f"{path}: ok - {scenario.name}: {kind.replace('_', ' ')} {', '.join(groups)} "
          f"(baseline {scenario.baseline}), {scenario.replications} replications, "
          f"{scenario.market.n_people:,} people, {scenario.market.months} months")
    if scenario.sweep is not None:
        from .sweep import prepare

        design = prepare(scenario, str(path))
        print(f"  sweep: {scenario.sweep.method.replace('_', ' ')} of {len(design.points):,} points over "
              f"{', '.join(design.names)} = {len(design.points) * design.runs_per_point:,} runs")
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


def cmd_dashboard(args) -> int:
    from .dashboard import serve

    return serve(args.scenario, host=args.host, port=args.port, open_browser=args.open)


def cmd_sensitivity(args) -> int:
    from . import analysis
    from .results import now, output_folder

    path = find_scenario(args.scenario)
    scenario = load_scenario(path, args.overrides)
    design = analysis.prepare(scenario, source=str(path))  # bad input stops here, before any folder
    out = output_folder(scenario, args.out, "sensitivity-")
    spec = design.spec
    print(f"{scenario.name}: {spec.method} over {len(design.names)} settings, {spec.samples} samples, "
          f"{spec.replications} replications per arm at each point ({design.x} vs {design.y})", flush=True)
    started = now()
    result = analysis.sensitivity(scenario, source=str(path), workers=args.workers, progress=not args.quiet)
    analysis.write(result, out, source=str(path), overrides=args.overrides, started=started)
    print(f"{len(result.points)} points, {len(result.points) * len(design.arms) * spec.replications} runs, "
          f"{result.seconds:.0f} s\n")
    print(result.table())
    print()
    for sentence in result.verdict():
        print(f"- {sentence}")
    print(f"\nfiles: {out}/ ({', '.join(analysis.FILES)})")
    return 0


def cmd_check_model(args) -> int:
    """Exit 0 when every counted target passes, 1 when one fails."""
    from . import validation

    if args.wom:
        replications, people = (3, 3000) if args.quick else (None, None)
        print(validation.compare_wom(replications=replications, n_people=people, workers=args.workers))
        return 0
    size = validation.QUICK if args.quick else validation.FULL
    print(f"grapevine check-model ({size.name} size): every target of sim/validation.py", file=sys.stderr)
    rows = validation.check_model(quick=args.quick, progress=lambda line: print(f"  {line}", file=sys.stderr))
    print(validation.format_table(rows))
    return 1 if any(row.status == validation.FAIL for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
