"""The `grapevine` command: run, sweep, sensitivity, check-model, validate, list, new, schema, plot,
dashboard, demo.

Exit status: 0 done, 1 a counted check failed (check-model) or the cluster gave up, 2 bad input
(one clear line per problem, no traceback, nothing written), 130 interrupted (every finished run
is on disk; `--resume DIR` finishes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Callable

from .errors import InputError
from .scenario import SCENARIO_NAME, find_scenario, json_schema, load_scenario, shipped_scenarios, starter

BAD_INPUT, INTERRUPTED = 2, 130


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args) or 0
    except InputError as error:
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
    _scenario_options(run, "a scenario file or the name of a shipped scenario", "results/<name>/<timestamp>/")
    run.add_argument("--replications", type=_positive, help="replications per arm (overrides the file)")
    run.add_argument("--no-figures", action="store_true",
                     help="skip figures/ and report.html (`grapevine plot RUN_DIR` draws them later)")
    run.add_argument("--robustness", choices=("off", "quick", "full"), default="quick",
                     help="after the comparison, the paired differences again at the ends of every weakly "
                          "sourced assumption's plausible range and on the other network families: quick "
                          "(at most 3 times the run's compute, the default), full (the run's replications at "
                          "every variant) or off")
    run.set_defaults(command=cmd_run)

    sweep = sub.add_parser("sweep", help="run a scenario at every point of its sweep section "
                                         "(a grid, a random or a Latin-hypercube sample)")
    _scenario_options(sweep, "a scenario file with a sweep section, or a shipped name",
                      "results/<name>/sweep-<timestamp>/")
    sweep.add_argument("--replications", type=_positive, help="replications per arm at each point")
    sweep.set_defaults(command=cmd_sweep)

    sens = sub.add_parser("sensitivity", help="which uncertain settings drive the outcomes and the verdict "
                                               "(the scenario's sensitivity section)")
    _scenario_options(sens, "a scenario file with a sensitivity section, or a shipped name",
                      "results/<name>/sensitivity-<timestamp>/")
    sens.set_defaults(command=cmd_sensitivity)

    check = sub.add_parser("check-model", help="validation: the model against the published patterns and facts "
                                                "(Bass docking, network effects, TARP, peer churn, WOM)")
    check.add_argument("--quick", action="store_true", help="small sizes (about a minute; for tests and CI)")
    check.add_argument("--markdown", action="store_true", help="print the table as Markdown (docs/VALIDATION.md)")
    check.add_argument("--wom", action="store_true",
                       help="instead: run the twin scenarios wom-folklore and wom-evidence and put the policy "
                            "verdicts side by side")
    check.add_argument("--out", type=Path, help="the folder (default results/check-model/<timestamp>/)")
    check.add_argument("--resume", type=Path, metavar="DIR", help="finish an interrupted check")
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    _where_to_run(check)
    check.set_defaults(command=cmd_check_model)

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

    versus = sub.add_parser("compare", help="compare any two arms (or firms) of a finished run folder directly")
    versus.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    versus.add_argument("x", metavar="X", help="an arm (or firm)")
    versus.add_argument("y", metavar="Y", help="the arm (or firm) to compare it with, as the baseline")
    versus.set_defaults(command=cmd_compare)

    plot = sub.add_parser("plot", help="redraw figures/ and report.html of a run folder from its saved data")
    plot.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    plot.add_argument("--no-animation", action="store_true", help="skip the animated GIF (the slowest figure)")
    plot.set_defaults(command=cmd_plot)

    dashboard = sub.add_parser("dashboard", help="a scenario's arms (or firms) side by side, live in the browser")
    dashboard.add_argument("scenario", nargs="?", help="a scenario file or shipped name (default: quickstart)")
    dashboard.add_argument("--arms", type=lambda text: [a.strip() for a in text.split(",") if a.strip()],
                           metavar="A,B[,C]", help="the two or three arms to show (default: the baseline and "
                                                   "the first two others)")
    dashboard.add_argument("--people", type=_positive, help="people in the market (default: the scenario's, "
                                                             "at most 5,000)")
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    dashboard.add_argument("--port", type=_positive, default=8765, help="port (default 8765)")
    dashboard.add_argument("--open", action="store_true", help="also open the page in the default browser")
    dashboard.set_defaults(command=cmd_dashboard)

    demo = sub.add_parser("demo", help="run scenarios/quickstart.yaml into results/")
    demo.add_argument("--workers", type=_positive, default=min(2, os.cpu_count() or 1))
    demo.set_defaults(command=cmd_demo)
    return parser


def _scenario_options(parser, what: str, default_out: str) -> None:
    parser.add_argument("scenario", nargs="?", help=what)
    parser.add_argument("--out", type=Path, help=f"the folder to write (default {default_out})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a setting, e.g. --set market.n_people=3000 (repeatable)")
    parser.add_argument("--resume", type=Path, metavar="DIR", help="finish an interrupted folder")
    parser.add_argument("--quiet", action="store_true", help="no banner or progress bar on stderr")
    _where_to_run(parser)


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


# --- the shared path: open a folder, run what is missing, finish -----------------------------------
def _open_folder(args, kind: str, make, resume, prefix: str = ""):
    """A new folder for the scenario (bad input stops before anything is written) or `--resume DIR`."""
    from .experiments import RunFolder

    if args.resume is not None:
        given = [name for name in ("scenario", "overrides", "replications", "out") if getattr(args, name, None)]
        if given:
            raise InputError(f"--resume {args.resume}: the folder has its {kind}; give no scenario, --set, "
                             f"--replications or --out with it")
        return resume(args.resume)
    if not args.scenario:
        raise InputError("give a scenario file (or a shipped name, see `grapevine list`) or --resume DIR")
    path = find_scenario(args.scenario)
    scenario = load_scenario(path, args.overrides, getattr(args, "replications", None))
    plan = make(scenario, source=str(path))
    return RunFolder.create(plan, args.out, prefix=prefix, source=str(path), overrides=args.overrides,
                            extra_packages=("dask", "distributed", "SALib"))


def _run(folder, args, fn: Callable | None = None, then: Callable | None = None) -> int | None:
    """Run what is missing in `folder` where the options say, then `then(folder, new_executor)` if
    given (more work on the finished runs); None when done, else the exit status."""
    from .experiments.executors import ExecutorError, make_executor, scheduler_from
    from .experiments.run import run_replications
    from .experiments.runner import execute, simulate

    scheduler = scheduler_from(args.scheduler, args.workers)
    workers = args.workers or 1
    plan = folder.plan
    where = (f"the Dask cluster at {scheduler}" if scheduler else
             f"a local Dask cluster of {workers} workers" if workers > 1 else "serially")
    if not args.quiet:
        print(f"{plan.name}: {_describe(plan)}, {where} -> {folder.path}", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    hint = f"finish with: grapevine {plan.kind} --resume {folder.path}"
    try:
        todo = plan.total - folder.done_count()
        executor = make_executor(min(workers, max(todo, 1)), scheduler)
        if plan.kind == "run":
            run_replications(folder, executor, progress=not args.quiet)
        else:
            execute(folder, executor, progress=not args.quiet, fn=fn or simulate)
        if then is not None:
            then(folder, lambda: make_executor(workers, scheduler))
    except KeyboardInterrupt:
        print(f"\ninterrupted: {folder.done_count()} of {plan.total} runs are saved in {folder.path}\n{hint}",
              file=sys.stderr)
        return INTERRUPTED
    except ExecutorError as error:
        print(f"error: {error}\n{folder.done_count()} of {plan.total} runs are saved in {folder.path}; {hint}",
              file=sys.stderr)
        return 1
    return None


def _describe(plan) -> str:
    """'3 arms x 8 replications = 24 runs of 4,000 people over 48 months' (and the points, if any)."""
    if not hasattr(plan, "scenario"):
        return f"{plan.total} groups of targets"
    scenario = plan.scenario
    groups = scenario.groups
    what = (f"{len(groups.names)} firms head to head" if groups.head_to_head
            else f"{len(plan.run_names)} arms")
    points = f"{plan.point_count:,} points over {', '.join(plan.settings)} x " if plan.points else ""
    return (f"{points}{what} x {plan.reps} replications = {plan.total:,} runs of {scenario.market.n_people:,} "
            f"people over {scenario.market.months} months" + (" (at the base point)" if plan.points else ""))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


# --- commands -------------------------------------------------------------------------------------
def cmd_run(args) -> int:
    from .experiments import Experiment, run

    folder = _open_folder(args, "scenario", Experiment.single, run.resume)
    status = _run(folder, args, then=lambda done, executor: _tables_and_robustness(done, args, executor))
    return status if status is not None else _print_run(folder, figures=not args.no_figures)


def _tables_and_robustness(folder, args, new_executor) -> None:
    """The run's final tables, then (unless --robustness off) the robustness pass."""
    from .experiments import robustness
    from .experiments.run import finalize

    finalize(folder)
    if args.robustness != "off":
        if not args.quiet:
            print(f"robustness ({args.robustness}): what each verdict hinges on", file=sys.stderr, flush=True)
        robustness.run_pass(folder, args.robustness, new_executor(), progress=not args.quiet)


def _run_then(folder, args, finish: Callable) -> int:
    """Run what is missing in `folder`, then `finish(folder)` (the tables and the printout)."""
    status = _run(folder, args)
    if status is not None:
        return status
    finish(folder)
    return 0


def _arm_lines(scenario) -> list[str]:
    """Each compared arm as its difference from the baseline (or each firm's policies, head to head)."""
    groups = scenario.groups
    if groups.head_to_head:
        return [f"{firm.name}: {', '.join(p.label() for p in firm.policies) or 'no policy'}" for firm in scenario.firms]
    focal = next(f for f in scenario.firms if f.name == groups.focal_firm)
    base = f"{groups.baseline} (baseline): {focal.name} runs {', '.join(p.label() for p in focal.policies) or 'no policy'}"
    return [base] + [f"{arm.name}: {arm.changes()}" for arm in scenario.compare.arms if arm.name != groups.baseline]


def _print_run(folder, figures: bool = True) -> int:
    from .experiments.robustness import cost_sentence
    from .experiments.run import replications_sentence
    from .outputs.results import Results

    results = Results.load(folder.path)
    print()
    for line in _arm_lines(results.scenario):
        print(line)
    print()
    print(results.table())
    print()
    for sentence in results.verdicts:
        print(f"- {sentence}")
    if results.robustness_lines:
        print("\nWhat each verdict hinges on:")
        for line in results.robustness_lines:
            print(f"- {line}")
    print(f"\n{results.churn_sentence()}")
    for sentence in (replications_sentence(results.manifest),
                     cost_sentence(results.manifest["robustness"]) if results.manifest.get("robustness") else None):
        if sentence:
            print(sentence)
    print(f"\nfiles: {folder.path}/ (summary.csv, comparison.csv, timeseries.parquet, manifest.json)")
    if figures:  # the results are on disk already: figures cannot lose them
        _figures(folder.path)
    others = results.groups.others()
    if len(others) >= 2:
        print(f"next: compare any two directly, e.g. `grapevine compare {folder.path} {others[0]} {others[1]}`")
    return 0


def _figures(run_dir: Path) -> None:
    """figures/ and report.html; a failure is a warning, never the run's exit status."""
    try:
        from .outputs.report import write_outputs

        outputs = write_outputs(run_dir, log=lambda line: print(line, file=sys.stderr))
    except Exception as error:  # noqa: BLE001 - the data are saved; say so and how to retry
        print(f"warning: figures and report could not be written ({type(error).__name__}: {error}); "
              f"the results are saved; retry with `grapevine plot {run_dir}`", file=sys.stderr)
        return
    print(f"figures: {run_dir}/figures/ ({len(outputs.figures)}), report: {outputs.report}")


def cmd_compare(args) -> int:
    from .outputs.results import Results

    _finished(args.run_dir)
    results = Results.load(args.run_dir)
    try:
        pair = results.between(args.x, args.y)
    except ValueError as error:
        raise InputError(f"{args.run_dir}: {error}") from None
    print(pair.table())
    print()
    for sentence in pair.verdicts:
        print(f"- {sentence}")
    return 0


def _finished(run_dir: Path) -> None:
    if not (run_dir / "manifest.json").exists() or not (run_dir / "comparison.csv").exists():
        raise InputError(f"{run_dir}: not a finished run folder (no manifest.json or comparison.csv); "
                         f"finish it with `grapevine run --resume {run_dir}`")


def cmd_plot(args) -> int:
    _finished(args.run_dir)
    from .outputs.report import write_outputs

    outputs = write_outputs(args.run_dir, animation=not args.no_animation,
                            log=lambda line: print(line, file=sys.stderr))
    for name, paths in outputs.figures.items():
        print(f"{name}: {', '.join(str(p) for p in paths)}")
    print(f"report: {outputs.report}")
    return 1 if outputs.problems else 0


def cmd_sweep(args) -> int:
    from .experiments import sweep

    return _run_then(_open_folder(args, "sweep", sweep.design, sweep.resume, prefix="sweep-"), args, _finish_sweep)


def _finish_sweep(folder) -> None:
    from .experiments import sweep

    outcome = sweep.finalize(folder)
    print()
    print(sweep.table(outcome["comparison_head"], folder.plan))
    points = len(folder.plan.points)
    if points > sweep.SHOW:
        print(f"... and {points - sweep.SHOW:,} more points in comparison.csv")
    print(f"\nfiles: {folder.path}/ ({', '.join(sweep.FINAL_FILES)}, manifest.json)")


def cmd_sensitivity(args) -> int:
    from .experiments import sensitivity

    folder = _open_folder(args, "sensitivity", sensitivity.experiment, sensitivity.resume, prefix="sensitivity-")
    return _run_then(folder, args, _finish_sensitivity)


def _finish_sensitivity(folder) -> None:
    from .experiments import sensitivity
    from .experiments.folder import atomic_write
    from .outputs import sensitivity_plots

    result = sensitivity.analyse(folder)
    for name, draw in (("indices.png", sensitivity_plots.indices), ("winners.png", sensitivity_plots.winners)):
        figure = draw(result)
        atomic_write(folder.path / name, lambda temp, figure=figure: figure.savefig(temp, format="png", dpi=110))
    print()
    print(result.table())
    print()
    for sentence in result.verdict():
        print(f"- {sentence}")
    print(f"\nfiles: {folder.path}/ ({', '.join(sensitivity.TABLES)}, indices.png, winners.png, manifest.json)")


def cmd_check_model(args) -> int:
    """Exit 0 when every counted target passes, 1 when one fails."""
    from .experiments import validation

    if args.wom:
        replications, people = (3, 3000) if args.quick else (None, None)
        print(validation.compare_wom(replications=replications, n_people=people, workers=args.workers or 1))
        return 0
    if args.resume is not None:
        if args.out or args.quick:
            raise InputError(f"--resume {args.resume}: the folder has its size; give no --quick or --out with it")
        folder = validation.resume(args.resume)
    else:
        from .experiments import RunFolder

        folder = RunFolder.create(validation.ValidationPlan(validation.QUICK if args.quick else validation.FULL),
                                  args.out)
    status = _run(folder, args, fn=validation.run_checks)
    if status is not None:
        return status
    rows = validation.rows_of(folder)
    print(validation.format_markdown(rows) if args.markdown else validation.format_table(rows))
    print(f"files: {folder.path}/ (checks.csv, manifest.json)", file=sys.stderr)
    return 1 if any(row.status == validation.FAIL for row in rows) else 0


def cmd_validate(args) -> int:
    path = find_scenario(args.scenario)
    scenario = load_scenario(path, args.overrides)
    groups = scenario.groups
    print(f"{path}: ok - {scenario.name}: {'head to head' if groups.head_to_head else 'arms'} "
          f"{', '.join(groups.names)} (baseline {groups.baseline}), {scenario.replications} replications, "
          f"{scenario.market.n_people:,} people, {scenario.market.months} months")
    for line in _arm_lines(scenario):
        print(f"  {line}")
    if scenario.sweep is not None:
        from .experiments import sweep

        plan = sweep.design(scenario, str(path))
        print(f"  sweep: {scenario.sweep.method.replace('_', ' ')} of {len(plan.points):,} points over "
              f"{', '.join(plan.settings)} = {plan.total:,} runs")
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
    if not re.match(SCENARIO_NAME, name):
        raise InputError(f"{name!r}: a scenario name uses letters, digits, - and _ (it names the results folder)")
    if path.exists():
        raise InputError(f"{path}: already exists; choose another name")
    path.write_text(starter(name, str(path)))
    print(f"wrote {path}: edit it, then `grapevine validate {path}` and `grapevine run {path}`")
    return 0


def cmd_schema(args) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_demo(args) -> int:
    from .experiments import Experiment, RunFolder

    path = find_scenario("quickstart")
    folder = RunFolder.create(Experiment.single(load_scenario(path), str(path)), source=str(path))
    args.scheduler, args.quiet, args.robustness = None, False, "quick"
    status = _run(folder, args, then=lambda done, executor: _tables_and_robustness(done, args, executor))
    return status if status is not None else _print_run(folder)


def cmd_dashboard(args) -> int:
    from .outputs.dashboard import serve

    return serve(args.scenario, host=args.host, port=args.port, open_browser=args.open, arms=args.arms,
                 people=args.people)


if __name__ == "__main__":
    sys.exit(main())
