"""``relsim optimize``: search a strategy's levers for its best design and check it on fresh
seeds (the work is :func:`relsim.experiment.optimize.optimize`; the report
:func:`relsim.viz.optimize_report.write_optimize_report`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from relsim.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    Subparsers,
    add_overrides,
    add_seed,
    add_workers,
    command,
    first_line,
    interrupted,
    parse_overrides,
    positive_int,
    resumed_folder,
    say,
)
from relsim.errors import Interrupted, UsageError


def add_optimize(sub: Subparsers) -> None:
    opt = command(
        sub,
        "optimize",
        handle_optimize,
        "find the best design of a strategy's levers, re-checked on fresh seeds",
        "examples:\n  relsim optimize scenarios/baseline.yaml "
        "--lever strategies.financial.bonds.points.reward_value=5:60 --trials 30\n"
        "  relsim optimize scenarios/key-accounts.yaml "
        "--lever strategies.key_accounts.key_accounts.top_share=0.01:0.2 \\\n"
        "      --budget 200000 --require 'churn_rate_annual<=0.1'\n"
        "  relsim optimize scenarios/baseline.yaml --allocate all_bonds --budget 300000\n"
        "  relsim optimize --resume results/baseline-optimize-20261205-120000",
    )
    opt.add_argument("scenario", type=Path, nargs="?", help="scenario file (YAML)")
    opt.add_argument(
        "--lever",
        action="append",
        default=[],
        metavar="PATH=LOW:HIGH",
        help="a field of one strategy and its range (repeatable; replaces the file's levers); "
        "append :log for a log scale, :int for whole values",
    )
    _add_goals(opt)
    opt.add_argument("--trials", type=positive_int, default=None, help="designs searched (30)")
    opt.add_argument("--sampler", choices=["tpe", "cmaes"], default=None, help="Optuna's (tpe)")
    opt.add_argument(
        "--replications",
        type=positive_int,
        default=None,
        help="a trial's first (5; robust: a draw's)",
    )
    opt.add_argument("--max-replications", type=positive_int, default=None, help="a trial's (20)")
    opt.add_argument("--budget", type=float, default=None, help="relationship spend a year, max")
    opt.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="COLUMN>=VALUE",
        help="a requirement on a summary column's mean (>= or <=; repeatable)",
    )
    opt.add_argument("--top", type=positive_int, default=None, help="designs re-run fresh (3)")
    opt.add_argument(
        "--fresh-replications", type=positive_int, default=None, help="fresh, at first (20)"
    )
    opt.add_argument(
        "--max-fresh-replications", type=positive_int, default=None, help="fresh, at most (100)"
    )
    opt.add_argument("--indifference", type=float, default=None, help="zone, metric's units")
    add_workers(opt)
    _add_sharing(opt)
    add_seed(opt)
    add_overrides(opt)
    opt.add_argument("--out", type=Path, default=None, help="results folder")
    opt.add_argument("--resume", type=Path, default=None, metavar="DIR", help="go on in DIR")
    opt.add_argument("--force", action="store_true", help="replace the results in --out")
    opt.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")


def _add_goals(opt: argparse.ArgumentParser) -> None:
    """What the optimization looks for: a budget's split, the metric or several objectives,
    and robust mode."""
    opt.add_argument(
        "--allocate",
        default=None,
        metavar="STRATEGY",
        help="split --budget between STRATEGY's financial, social and structural bonds "
        "(instead of levers)",
    )
    opt.add_argument("--maximize", default=None, metavar="COLUMN", help="summary column")
    opt.add_argument(
        "--objective",
        action="append",
        default=[],
        metavar="COLUMN[:min]",
        help="one of several objectives (repeat: two or more; a Pareto front by NSGA-II); "
        "risk: the 5th percentile of the metric over replications",
    )
    opt.add_argument(
        "--robust",
        choices=["expected", "regret"],
        default=None,
        help="judge each design over draws of the uncertain assumptions: their expected "
        "value, or the maximum regret",
    )
    opt.add_argument("--draws", type=_draws, default=None, help="assumption draws, robust mode (8)")


def _draws(text: str) -> int:
    """An argparse type: two draws or more (one draw has no spread to judge a design by)."""
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected 2 draws or more, got {text!r}")
    return value


def _add_sharing(opt: argparse.ArgumentParser) -> None:
    """Several processes on one study (docs/optimize.md, "Several processes")."""
    opt.add_argument(
        "--study-workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="processes searching at once, sharing the study (1: trials one after another, "
        "reproducible; more: faster, the trials then depend on timing)",
    )
    opt.add_argument(
        "--join",
        type=Path,
        default=None,
        metavar="DIR",
        help="help the optimization running in DIR from another terminal (search only)",
    )


def handle_optimize(args: argparse.Namespace) -> int:
    from relsim.experiment.folder import ResultsFolder
    from relsim.experiment.optimize import optimize
    from relsim.viz.optimize_report import pareto_text, verdict, write_optimize_report
    from relsim.viz.optimize_robust_report import SHOWN

    if args.join:
        return _join(args)
    scenario, out = _scenario(args)
    try:
        result = optimize(
            scenario,
            workers=args.workers,
            out=out,
            resume=bool(args.resume),
            force=args.force,
            study_workers=args.study_workers,
        )
    except KeyboardInterrupt:
        return interrupted(Interrupted("trials", out), "optimize")
    except ValueError as error:
        raise UsageError(first_line(error)) from None
    written = write_optimize_report(result)
    ResultsFolder(result.out).record(*written)
    page = written[1]
    if args.json:
        print(json.dumps(result.answer, indent=2, default=float))
    elif result.answer.get("pareto"):
        print(pareto_text(result))
    else:
        table = result.candidates
        levers = list(result.answer["levers"])
        values = (
            list(SHOWN) if result.answer.get("robust") else ["search_estimate", "fresh_estimate"]
        )
        shown = ["candidate", *levers, *values, "curse", "chosen"]
        print(
            table[shown]
            .rename(columns={p: p.rsplit(".", 1)[-1] for p in levers})
            .to_string(index=False)
        )
        print(verdict(result.answer))
    files = "pareto.parquet, pareto.yaml" if result.answer.get("pareto") else "winner.yaml"
    say(f"relsim: results in {result.out}/ (trials.parquet, {files}); report: {page}")
    return EXIT_OK


def _join(args: argparse.Namespace) -> int:
    """``--join DIR``: search the study of the optimization running in DIR, then leave (the
    process that started it writes the answer)."""
    from relsim.experiment.optimize import problem_of
    from relsim.experiment.optimize_shared import join

    if args.resume or args.force or args.study_workers != 1:
        raise UsageError(
            "--join is one helping process: give no --resume, --force or "
            "--study-workers with it (start more terminals for more)"
        )
    folder = resumed_folder(argparse.Namespace(**{**vars(args), "resume": args.join}), RESUME_FIXES)
    if folder.is_complete():
        say(f"relsim: {folder.root} is complete; there is nothing left to search")
        return EXIT_OK
    scenario = folder.load_scenario()
    try:
        done = join(folder.root, problem_of(scenario), scenario.optimize, args.workers)
    except KeyboardInterrupt:
        say("relsim: stopped; the optimization goes on without this process")
        return EXIT_INTERRUPTED
    except ValueError as error:
        raise UsageError(first_line(error)) from None
    say(
        f"relsim: this process ran {done} trials of {folder.root}; the process that started "
        "the optimization re-runs the best on fresh seeds and writes the answer"
    )
    return EXIT_OK


def _scenario(args: argparse.Namespace) -> tuple[Any, Path]:
    """The scenario with its optimize block and the folder: resumed, or new from the options."""
    from relsim.experiment.folder import ResultsFolder
    from relsim.experiment.optimize import (
        parse_lever,
        parse_objective,
        parse_requirement,
        with_levers,
    )
    from relsim.scenario import load_scenario

    if args.resume:
        if args.force:
            raise UsageError("--resume goes on with an optimization as it was started")
        folder = resumed_folder(args, RESUME_FIXES)
        return folder.load_scenario(), args.resume
    if args.scenario is None:
        raise UsageError("relsim optimize needs a SCENARIO file (or --resume DIR)")
    scenario = load_scenario(args.scenario, overrides=parse_overrides(args.overrides))
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    try:
        budget, allocate = _budget(scenario, args)
        robust = _robust(scenario, args)
        scenario = with_levers(
            scenario,
            [parse_lever(text) for text in args.lever],
            allocate=allocate,
            requirements=[parse_requirement(t) for t in args.require] or None,
            objectives=[parse_objective(t, args.maximize) for t in args.objective] or None,
            metric=None if args.objective else args.maximize,
            trials=args.trials,
            sampler=args.sampler,
            replications=args.replications if robust is None else None,
            max_replications=args.max_replications,
            budget=budget,
            top=args.top,
            fresh_replications=args.fresh_replications,
            max_fresh_replications=args.max_fresh_replications,
            indifference=args.indifference,
            robust=robust,
        )
    except ValueError as error:
        raise UsageError(first_line(error)) from None
    return scenario, args.out or ResultsFolder.timestamped(scenario.name, "optimize").root


def _robust(scenario: Any, args: argparse.Namespace) -> Any:
    """``--robust``, ``--draws`` and ``--replications`` (each draw's, in robust mode) over the
    file's ``optimize: robust:`` block (None: as the file says)."""
    from relsim.scenario.model import Robust

    block = scenario.optimize.robust if scenario.optimize else None
    if args.robust is None and block is None:
        if args.draws is not None:
            raise UsageError("--draws is for robust mode: give --robust expected or regret")
        return None
    if args.max_replications is not None:
        raise UsageError("--max-replications: replications do not adapt in robust mode")
    if args.robust is None and args.draws is None and args.replications is None:
        return None
    settings = block.model_dump() if block is not None else {}
    if args.replications is not None:
        settings["replications"] = args.replications
    if args.robust is not None:
        settings["objective"] = args.robust
    if args.draws is not None:
        settings["draws"] = args.draws
    return Robust(**settings)


def _budget(scenario: Any, args: argparse.Namespace) -> tuple[float | None, Any]:
    """``--budget`` as the levers' budget, or as the allocated one (``--allocate``, or the
    file's ``optimize: allocate:`` block)."""
    from relsim.scenario.model import Allocate

    block = scenario.optimize.allocate if scenario.optimize else None
    if args.allocate is None and (block is None or args.lever):
        return args.budget, None
    if args.lever:
        raise UsageError(
            "--allocate sets the bonds' levers itself: give --lever or --allocate, not both"
        )
    budget = args.budget if args.budget is not None else (block.budget if block else None)
    if budget is None:
        raise UsageError("--allocate needs --budget B: the relationship budget a year to split")
    strategy = args.allocate or block.strategy
    bonds = block.bonds if block and block.strategy == strategy else None
    return None, Allocate(strategy=strategy, budget=budget, bonds=bonds)


RESUME_FIXES = {
    "allocate": "--allocate",
    "scenario": "SCENARIO",
    "lever": "--lever",
    "maximize": "--maximize",
    "objective": "--objective",
    "trials": "--trials",
    "sampler": "--sampler",
    "replications": "--replications",
    "max_replications": "--max-replications",
    "budget": "--budget",
    "require": "--require",
    "top": "--top",
    "fresh_replications": "--fresh-replications",
    "max_fresh_replications": "--max-fresh-replications",
    "indifference": "--indifference",
    "robust": "--robust",
    "draws": "--draws",
    "seed": "--seed",
    "overrides": "--set",
    "out": "--out",
}
"""What a resumed optimization takes from its folder (giving any with ``--resume`` is refused)."""


__all__ = ["add_optimize", "handle_optimize"]
