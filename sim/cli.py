"""The `grapevine` command: run, sweep, sensitivity, calibrate, check-model, validate, list, new, schema,
plot, dashboard, demo.

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
    except OSError as error:  # a file that cannot be read or written where no check foresaw it: one line
        print(f"error: {_os_reason(error)}", file=sys.stderr)
        return BAD_INPUT


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

    calib = sub.add_parser("calibrate", help="fit the scenario's free assumptions to the firm's own figures "
                                             "(its observed and calibrate sections); writes calibrated.yaml")
    _scenario_options(calib, "a scenario file with observed and calibrate sections, or a shipped name",
                      "results/<name>/calibrate-<timestamp>/")
    calib.add_argument("--trials", type=_positive, help="parameter sets to simulate in all (overrides calibrate.trials)")
    calib.set_defaults(command=cmd_calibrate)

    opt = sub.add_parser("optimize", help="the best policy mix for a budget (the scenario's optimize section): "
                                          "pareto.csv, the recommended mix and recommended.yaml")
    _scenario_options(opt, "a scenario file with an optimize section, or a shipped name",
                      "results/<name>/optimize-<timestamp>/")
    opt.add_argument("--trials", type=_positive, help="mixes to simulate in all (overrides optimize.trials)")
    opt.set_defaults(command=cmd_optimize)

    pilot = sub.add_parser("pilot", help="the test to run before rolling an arm out: customers and months for 80%% "
                                         "power, and how much spillover hides (customer vs community randomisation)")
    _scenario_options(pilot, "a scenario file (or a shipped name) with the arm", "results/<name>/pilot-<timestamp>/")
    pilot.add_argument("--arm", help="the arm to pilot (the control keeps the baseline)")
    pilot.add_argument("--share", type=float, default=0.5, help="share of customers (or communities) treated (0.5)")
    pilot.add_argument("--replications", type=_positive, help="paired replications (default: the file's, or 16)")
    pilot.set_defaults(command=cmd_pilot)

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
    dashboard.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
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


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: a port is 1 to 65535")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 1 or more")
    return value


# --- the shared path: check everything, open a folder, run what is missing, finish -----------------
def _open_folder(args, kind: str, make, rebuild, prefix: str = ""):
    """(folder, executor, needs) for a new folder for the scenario or `--resume DIR`. Everything is
    checked before anything is written: the input, the plan, where it goes, the memory, disk and
    time it needs, the options and the cluster; only then is the folder made (or reopened)."""
    from .experiments import RunFolder

    if args.resume is not None:
        given = [name for name in ("scenario", "overrides", "replications", "out") if getattr(args, name, None)]
        if given:
            raise InputError(f"--resume {args.resume}: the folder keeps what it runs; give no scenario, --set, "
                             f"--replications or --out with it")
        folder = RunFolder.open(args.resume, kind, rebuild)
        _unchanged_source(folder, make)
        return _start(args, folder=folder)
    if not args.scenario:
        raise InputError("give a scenario file (or a shipped name, see `grapevine list`) or --resume DIR")
    path = find_scenario(args.scenario)
    replications = getattr(args, "replications", None)
    overrides = [*args.overrides, *([f"replications={replications}"] if replications else [])]
    scenario = load_scenario(path, args.overrides, replications)
    plan = make(scenario, source=str(path))
    return _start(args, plan=plan, out=args.out, create=lambda: RunFolder.create(
        plan, args.out, prefix=prefix, source=str(path), overrides=overrides,
        extra_packages=("dask", "distributed", "SALib")))


def _start(args, *, folder=None, plan=None, out=None, create: Callable | None = None):
    """Preflight, then the executor (the scheduler reached, the options agreeing), then the folder:
    `create()` a new one, or reopen `folder`. A failure at any step leaves nothing written."""
    from .experiments import preflight
    from .experiments.executors import make_executor, scheduler_from
    from .experiments.folder import RESULTS

    scheduler = scheduler_from(args.scheduler, args.workers)
    workers = args.workers or 1
    if folder is not None:
        plan, where = folder.plan, folder.path
        todo = len(folder.missing()) + len(folder.untrusted)
    else:
        where, todo = out if out is not None else RESULTS / plan.name, plan.total
    sized = plan
    if hasattr(plan, "sizing"):  # a calibration: its trials are proposed as it goes
        sized, todo = plan.sizing()
    needs = preflight.check(sized, where, runs=todo, workers=min(workers, max(todo, 1)), local=scheduler is None,
                            then=_robustness_plan(plan, args))
    executor = make_executor(min(workers, max(todo, 1)), scheduler)
    try:
        if scheduler and hasattr(executor, "memory_limits"):
            preflight.check_workers(executor.memory_limits(), needs, scheduler)
        if folder is None:
            folder = create()
        else:
            folder.reopen()
    except BaseException:
        executor.close()
        raise
    return folder, executor, needs


def _robustness_plan(plan, args):
    """The robustness pass a run does after its runs (for the estimate), or None."""
    mode = getattr(args, "robustness", "off")
    if getattr(plan, "kind", None) != "run" or mode == "off":
        return None
    from .experiments import robustness

    return robustness.plan(plan.scenario, plan.reps, mode, plan.source)


def _unchanged_source(folder, make) -> None:
    """A resume finishes what was started: refuse if the scenario file has been edited since."""
    from .experiments.folder import changes

    manifest, kind = folder.manifest, folder.plan.kind
    source = manifest.get("scenario_path") or manifest.get("scenario_file")
    if not source or not Path(source).is_file():
        if source:
            print(f"note: {source} is not there any more; finishing with the scenario kept in manifest.json",
                  file=sys.stderr)
        return
    refuse = f"--resume {folder.path}: {source} changed since this {kind} started"
    restore = f"restore {source} to finish the {kind} as it started, or start a new {kind}"
    try:
        now = make(load_scenario(source, manifest.get("overrides") or []), source=source).describe()
    except InputError as error:
        raise InputError(f"{refuse} and is no longer valid ({error.problems[0]}); {restore}") from None
    found = changes(manifest["experiment"], now)
    if found:
        shown = [f"{refuse}: {line}" for line in found[:10]]
        more = [f"{refuse}: ... and {len(found) - 10} more changes"] if len(found) > 10 else []
        raise InputError([*shown, *more, restore])


def _run(folder, args, executor, needs=None, fn: Callable | None = None,
         then: Callable | None = None) -> int | None:
    """Run what is missing in `folder` on `executor`, then `then(folder, new_executor)` if given
    (more work on the finished runs); None when done, else the exit status."""
    from .experiments import preflight
    from .experiments.executors import ExecutorError, make_executor, scheduler_from
    from .experiments.run import run_replications
    from .experiments.runner import execute, simulate

    plan = folder.plan
    where = getattr(executor, "where", "serially")
    announced = preflight.announce(needs, executor.threads() if hasattr(executor, "threads") else 1)
    if not args.quiet:
        print(f"{plan.name}: {_describe(plan)}, {where} -> {folder.path}", file=sys.stderr, flush=True)
    if announced:
        print(announced, file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    hint = f"finish with: grapevine {plan.kind} --resume {folder.path}"
    try:
        if plan.kind == "run":
            run_replications(folder, executor, progress=not args.quiet)
        else:
            execute(folder, executor, progress=not args.quiet, fn=fn or simulate)
        if then is not None:
            scheduler = scheduler_from(args.scheduler, args.workers)
            then(folder, lambda: make_executor(args.workers or 1, scheduler))
    except KeyboardInterrupt:
        print(f"\ninterrupted: {folder.done_count()} of {plan.total} runs are saved in {folder.path}\n{hint}",
              file=sys.stderr)
        return INTERRUPTED
    except ExecutorError as error:
        print(f"error: {error}; {folder.done_count()} of {plan.total} runs are saved in {folder.path}; {hint}",
              file=sys.stderr)
        return 1
    except OSError as error:  # the disk filled up, the folder was removed, ...
        print(f"error: cannot write in {folder.path} ({_os_reason(error)}); {folder.done_count()} of {plan.total} "
              f"runs are saved; {hint}", file=sys.stderr)
        return BAD_INPUT
    return None


def _os_reason(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or type(error).__name__}{where}"


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
    from .experiments import Experiment

    folder, executor, needs = _open_folder(args, "run", Experiment.single, Experiment.from_description)
    status = _run(folder, args, executor, needs,
                  then=lambda done, new_executor: _tables_and_robustness(done, args, new_executor))
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


def _run_then(opened, args, finish: Callable) -> int:
    """Run what is missing in the opened folder, then `finish(folder)` (the tables and the printout)."""
    folder, executor, needs = opened
    status = _run(folder, args, executor, needs)
    if status is not None:
        return status
    try:
        finish(folder)
    except OSError as error:  # the runs are saved: a resume writes the tables again
        raise InputError(f"cannot write in {folder.path} ({_os_reason(error)}); the runs are saved: free some "
                         f"space, then `grapevine {folder.plan.kind} --resume {folder.path}`") from None
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
    from .experiments import Experiment, sweep

    opened = _open_folder(args, "sweep", sweep.design, Experiment.from_description, prefix="sweep-")
    return _run_then(opened, args, _finish_sweep)


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
    from .experiments import Experiment, sensitivity

    opened = _open_folder(args, "sensitivity", sensitivity.experiment, Experiment.from_description,
                          prefix="sensitivity-")
    return _run_then(opened, args, _finish_sensitivity)


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


def _trials_override(args, section: str) -> None:
    """--trials N sets `<section>.trials`; a resumed folder keeps the trials it was started with."""
    if args.trials is not None:
        if args.resume is not None:
            raise InputError(f"--resume {args.resume}: the folder has its trials; give no --trials with it")
        args.overrides = [*args.overrides, f"{section}.trials={args.trials}"]


def _search(args, command: str, folder, executor, needs, headline: str, search, finalize, printout,
            write_report, items: str) -> object | int:
    """What calibrate and optimize share: the banner, the search (Ctrl-C and lost workers say how to
    resume), the printout and the report. Returns the outcome, or the exit code if stopped."""
    from .experiments import preflight
    from .experiments.executors import ExecutorError

    if not args.quiet:
        print(f"{headline}, {getattr(executor, 'where', 'serially')} -> {folder.path}", file=sys.stderr, flush=True)
        announced = preflight.announce(needs, executor.threads() if hasattr(executor, "threads") else 1)
        if announced:
            print(announced, file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    resume = f"grapevine {command} --resume {folder.path}"
    try:
        search(folder, executor, progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"\ninterrupted: every finished {items} is in {folder.path}/trials.db\nfinish with: {resume}",
              file=sys.stderr)
        return INTERRUPTED
    except ExecutorError as error:
        print(f"error: {error}\nfinish with: {resume}", file=sys.stderr)
        return 1
    outcome = finalize(folder)
    print()
    print(printout(outcome))
    try:
        print(f"report: {write_report(folder.path, outcome)}")
    except Exception as error:  # noqa: BLE001 - the search is saved; say so
        print(f"warning: {folder.path}/report.html could not be written ({type(error).__name__}: {error})",
              file=sys.stderr)
    return outcome


def cmd_calibrate(args) -> int:
    """Fit, then the tables, calibrated.yaml and the report (sim/experiments/calibration.py)."""
    from .experiments import calibration
    from .experiments.calibration_results import finalize, printout
    from .outputs.calibration_report import write_report

    _trials_override(args, "calibrate")
    folder, executor, needs = _open_folder(args, "calibrate", calibration.design, calibration.from_description,
                                           prefix="calibrate-")
    fit = folder.plan
    headline = (f"{fit.name}: {len(fit.free)} free parameters, {len(fit.observed.statistics())} figures, "
                f"{fit.settings.trials} trials x {fit.experiment.reps} replications of "
                f"{fit.experiment.scenario.market.n_people:,} people over {fit.months} months")
    outcome = _search(args, "calibrate", folder, executor, needs, headline, calibration.calibrate, finalize,
                      printout, write_report, "trial")
    if isinstance(outcome, int):
        return outcome
    print(f"next: grapevine run {folder.path / 'calibrated.yaml'}")
    return 0


def cmd_optimize(args) -> int:
    """Search, then the tables, recommended.yaml and the report (sim/experiments/optimize.py)."""
    from .experiments import optimize
    from .experiments.optimize_results import finalize, printout
    from .outputs.optimize_report import write_report

    _trials_override(args, "optimize")
    folder, executor, needs = _open_folder(args, "optimize", optimize.design, optimize.from_description,
                                           prefix="optimize-")
    search = folder.plan
    scenario = search.experiment.scenario
    headline = (f"{search.name}: {len(search.levers)} levers, {search.settings.trials} mixes x {search.reps} "
                f"futures of {scenario.market.n_people:,} people over {scenario.market.months} months")
    outcome = _search(args, "optimize", folder, executor, needs, headline, optimize.optimize, finalize, printout,
                      write_report, "mix")
    if isinstance(outcome, int):
        return outcome
    print(f"files: {folder.path}/ (trials.csv, pareto.csv, recommended.yaml, pareto.png, trials.db)")
    if outcome.best:
        print(f"next: grapevine run {folder.path / 'recommended.yaml'}")
    return 0


def cmd_pilot(args) -> int:
    """Simulate the rollout and the two pilots, then the design (sim/experiments/pilot.py)."""
    from .experiments import Experiment, pilot

    if args.resume is not None:
        if args.arm:
            raise InputError(f"--resume {args.resume}: the folder has its arm; give no --arm with it")
        arm, share, replications = pilot.kept_design(args.resume)  # what the folder was started with
    else:
        arm, share, replications = args.arm, args.share, args.replications
    opened = _open_folder(args, "pilot", lambda scenario, source: pilot.design(
        scenario, arm, source, share, replications), Experiment.from_description, prefix="pilot-")
    folder, executor, needs = opened
    status = _run(folder, args, executor, needs, fn=pilot.run_fn(folder.plan))
    if status is not None:
        return status
    found = pilot.finish(folder)
    print()
    print(pilot.printout(found))
    print(f"\nfiles: {folder.path}/ (pilot.csv, runs/, manifest.json)")
    return 0


def cmd_check_model(args) -> int:
    """Exit 0 when every counted target passes, 1 when one fails."""
    from .experiments import validation

    if args.wom:
        replications, people = (3, 3000) if args.quick else (None, None)
        print(validation.compare_wom(replications=replications, n_people=people, workers=args.workers or 1))
        return 0
    from .experiments import RunFolder

    if args.resume is not None:
        if args.out or args.quick:
            raise InputError(f"--resume {args.resume}: the folder has its size; give no --quick or --out with it")
        opened = _start(args, folder=RunFolder.open(args.resume, "check-model",
                                                     validation.ValidationPlan.from_description))
    else:
        plan = validation.ValidationPlan(validation.QUICK if args.quick else validation.FULL)
        opened = _start(args, plan=plan, out=args.out, create=lambda: RunFolder.create(plan, args.out))
    folder, executor, _ = opened
    status = _run(folder, args, executor, fn=validation.run_checks)
    if status is not None:
        return status
    rows = validation.rows_of(folder)
    print(validation.format_markdown(rows) if args.markdown else validation.format_table(rows))
    print(f"files: {folder.path}/ (checks.csv, manifest.json)", file=sys.stderr)
    return 1 if any(row.status == validation.FAIL for row in rows) else 0


def cmd_validate(args) -> int:
    """Check a scenario as `run` would (and its sweep as `sweep` would), the memory a run needs
    included: a scenario this machine cannot hold is refused here too. Nothing is written."""
    from .experiments import Experiment, preflight

    path = find_scenario(args.scenario)
    scenario = load_scenario(path, args.overrides)
    groups = scenario.groups
    plan = Experiment.single(scenario, str(path))
    runs = len(plan.run_names) * scenario.max_replications if plan.auto else None  # auto: up to the cap
    needs = preflight.estimate(plan, runs)
    preflight.check_memory(needs, source=str(path))
    print(f"{path}: ok - {scenario.name}: {'head to head' if groups.head_to_head else 'arms'} "
          f"{', '.join(groups.names)} (baseline {groups.baseline}), {scenario.replications} replications, "
          f"{scenario.market.n_people:,} people, {scenario.market.months} months")
    for line in _arm_lines(scenario):
        print(f"  {line}")
    if scenario.observed is not None:  # the firm's own figures (docs/CALIBRATION.md)
        free = ", ".join(scenario.calibrate.parameters) if scenario.calibrate is not None else "none"
        print(f"  observed: {', '.join(scenario.observed.statistics())}; free for `grapevine calibrate`: {free}")
    if scenario.posterior is not None:
        print(f"  calibrated: each replication draws {', '.join(scenario.posterior.parameters)} from a posterior of "
              f"{len(scenario.posterior.draws)} draws")
    print(f"  needs{' (replications: auto, at most)' if plan.auto else ''}: {needs.describe()}")
    extra = preflight.estimate(_robustness_plan(plan, argparse.Namespace(robustness="quick")))
    print(f"  `grapevine run` adds the robustness pass (quick; --robustness off skips it): {extra.describe()}")
    if scenario.optimize is not None:
        o = scenario.optimize
        budget = f", budget {o.budget:,.0f} {scenario.currency} a month" if o.budget is not None else ""
        print(f"  optimize: {', '.join(o.levers)}; {o.objective}{budget}, {o.trials} mixes x {o.replications} "
              f"futures ({o.robust_against})")
    if scenario.sweep is not None:
        from .experiments import sweep

        plan = sweep.design(scenario, str(path))
        needs = preflight.estimate(plan)
        preflight.check_memory(needs, source=str(path))
        print(f"  sweep: {scenario.sweep.method.replace('_', ' ')} of {len(plan.points):,} points over "
              f"{', '.join(plan.settings)} = {plan.total:,} runs; needs {needs.describe()}")
    if scenario.sensitivity is not None:
        from .experiments import sensitivity

        plan = sensitivity.experiment(scenario, source=str(path))
        needs = preflight.estimate(plan)
        preflight.check_memory(needs, source=str(path))
        print(f"  sensitivity: {scenario.sensitivity.method} sample of {len(plan.points):,} points over "
              f"{', '.join(plan.settings)} = {plan.total:,} runs; needs {needs.describe()}")
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
    if not re.fullmatch(SCENARIO_NAME, name):
        raise InputError(f"{name!r}: a scenario name uses letters, digits, - and _ (at most 60, starting with a "
                         f"letter or digit; it names the results folder)")
    cannot = f"{path}: cannot be written ({{}}); run `grapevine new` in a folder you can write to"
    try:
        handle = path.open("x")  # never over an existing file, even one made a moment ago
    except FileExistsError:
        raise InputError(f"{path}: already exists; choose another name") from None
    except OSError as error:
        raise InputError(cannot.format(_os_reason(error))) from None
    try:
        with handle:
            handle.write(starter(name, str(path)))
    except OSError as error:  # a full disk: no half-written scenario is left
        path.unlink(missing_ok=True)
        raise InputError(cannot.format(_os_reason(error))) from None
    print(f"wrote {path}: edit it, then `grapevine validate {path}` and `grapevine run {path}`")
    return 0


def cmd_schema(args) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_demo(args) -> int:
    from .experiments import Experiment, RunFolder

    path = find_scenario("quickstart")
    plan = Experiment.single(load_scenario(path), str(path))
    args.scheduler, args.quiet, args.robustness = None, False, "quick"
    folder, executor, needs = _start(args, plan=plan, create=lambda: RunFolder.create(plan, source=str(path)))
    status = _run(folder, args, executor, needs,
                  then=lambda done, new_executor: _tables_and_robustness(done, args, new_executor))
    return status if status is not None else _print_run(folder)


def cmd_dashboard(args) -> int:
    from .outputs.dashboard import serve

    _can_listen(args.host, args.port)
    return serve(args.scenario, host=args.host, port=args.port, open_browser=args.open, arms=args.arms,
                 people=args.people)


def _can_listen(host: str, port: int) -> None:
    """The dashboard's server starts in another program: say now, in one line, if it could not listen."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise InputError(f"--host {host}: not an address ({getattr(error, 'strerror', None) or error})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise InputError(f"--port {port}: cannot listen on {host}:{port} ({error.strerror}); choose another "
                             f"--port") from None


if __name__ == "__main__":
    sys.exit(main())
