"""The search of an optimization: an Optuna study in a SQLite file inside the results folder.

Optuna (TPE, or CMA-ES) proposes the lever values; each trial is evaluated by
:func:`relsim.experiment.optimize_trials.evaluate`. The study lives in ``study.db``: every
finished trial is written there as it ends, so an interrupted optimization (Ctrl-C, a crash)
resumes with every finished trial kept, and only the trial that was running is redone.

Reproducible trials: the sampler is made afresh for every trial, seeded from the scenario's seed
and the number of trials already finished, and samples from the finished trials only. A trial's
lever values therefore depend only on the seed and the trials before it, never on whether the
study was interrupted in between: a resumed study proposes exactly the trials an uninterrupted
one would (trials running when the study stopped are marked failed and ignored). In one process
trials run one after another, the replications inside a trial in parallel on the worker pool;
several processes may share the study (:mod:`.optimize_shared`), and then which trials are
asked depends on their timing.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import optuna
import pandas as pd

from relsim.experiment import optimize_robust
from relsim.experiment.optimize_allocate import share_name, weight_name
from relsim.experiment.optimize_trials import Baseline, Problem, describe, evaluate
from relsim.experiment.pool import WorkerPool
from relsim.scenario.paths import with_values

STUDY_NAME = "relsim"
STUDY_FILE = "study.db"
LOCK_TIMEOUT = 60.0
"""Seconds a process waits for another's write to the SQLite file before giving up."""
HEARTBEAT, GRACE = 5, 60
"""A running trial's heartbeat is written every ``HEARTBEAT`` seconds; one silent for
``GRACE`` seconds belongs to a killed worker and is marked failed by the next trial's start."""
RESULT = "relsim"
"""The user attribute holding a trial's result: estimate, interval, replications, means of
the constrained columns, violations, feasibility, lever values and the replications' rows."""


def open_study(
    db: Path, directions: list[str] | None = None, fail_running: bool = True
) -> optuna.Study:
    """The study in ``db`` (created when new; ``directions``: one per objective of several,
    default one maximized). With ``fail_running`` (the process that starts or resumes the
    optimization) trials left running by a stopped process are marked failed, so they are
    neither counted nor learned from; a process joining others (:mod:`.optimize_shared`)
    leaves them to the heartbeat, as they may be another worker's."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna's words
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.RDBStorage(
            f"sqlite:///{db.resolve()}",
            engine_kwargs={"connect_args": {"timeout": LOCK_TIMEOUT}},
            heartbeat_interval=HEARTBEAT,
            grace_period=GRACE,
        )
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=storage,
        directions=directions or ["maximize"],
        load_if_exists=True,
    )
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if fail_running:
            storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
    return study


COMPLETE = optuna.trial.TrialState.COMPLETE
CLAIMED = (COMPLETE, optuna.trial.TrialState.RUNNING)
"""A trial's place in the study is taken while it runs and once it finished."""


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The finished trials, in the order they finished (their numbers ascend)."""
    done = study.get_trials(deepcopy=False, states=(COMPLETE,))
    return sorted(done, key=lambda t: t.number)


def sampler_for(
    kind: str, seed: int, done: int, trials: int, worker: int = 0
) -> optuna.samplers.BaseSampler:
    """The sampler of the next trial, seeded by ``seed`` and the count of finished trials
    (and ``worker``, when not 0, so that processes sharing a study propose apart)."""
    key = [seed, done] if not worker else [seed, done, worker]
    seed_now = int(np.random.SeedSequence(key).generate_state(1)[0])
    startup = max(3, min(10, trials // 4))
    if kind == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed_now, n_startup_trials=startup)
    # Optuna 5 deprecates ``constraints_func`` for ``Trial.set_constraint``, which Optuna 4
    # lacks; both 4 and 5 are supported (pyproject pins < 7, where it goes), so the warning,
    # which would reach every user's terminal, is silenced here and only here
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`constraints_func` has been deprecated", FutureWarning)
        if kind == "nsga2":
            size = max(4, min(50, trials // 4))
            return optuna.samplers.NSGAIISampler(
                seed=seed_now, population_size=size, constraints_func=_violations
            )
        return optuna.samplers.TPESampler(
            seed=seed_now, n_startup_trials=startup, constraints_func=_violations
        )


def _violations(trial: optuna.trial.FrozenTrial) -> list[float]:
    return list(trial.user_attrs.get(RESULT, {}).get("violations", []))


class Sharing(Protocol):
    """How a process shares the study with others (:class:`.optimize_shared.Share`): its
    sampler's ``worker`` number, whether it ``leaves`` or waits once every trial is claimed."""

    worker: int
    leaves: bool

    def claimable(self, study: optuna.Study, trials: int) -> bool: ...
    def claim(self, study: optuna.Study, trial: optuna.Trial, trials: int) -> None: ...
    def wait(self, study: optuna.Study) -> None: ...
    def run(self, study: optuna.Study, objective: Callable[[optuna.Trial], Any]) -> bool: ...


def search(
    study: optuna.Study,
    problem: Problem,
    pool: WorkerPool,
    trials: int,
    sampler: str,
    say: Callable[[str], None] | None = None,
    share: Sharing | None = None,
) -> None:
    """Run trials until the study holds ``trials`` finished ones (``share``: how this process
    shares the study with others, :mod:`.optimize_shared`; None: it is alone)."""
    baseline = Baseline(list(study.user_attrs.get("baseline", [])))
    several = bool(problem.objectives)
    while (done := len(finished(study))) < trials:
        if share is not None and not share.claimable(study, trials):
            if share.leaves:
                return
            share.wait(study)
            continue
        kind = "nsga2" if several else sampler
        worker = share.worker if share is not None else 0
        study.sampler = sampler_for(kind, problem.scenario.seed, done, trials, worker)
        best = None if several else best_estimate(study)
        ran: list[int] = []

        def objective(trial: optuna.Trial, best: float | None = best, ran: list[int] = ran) -> Any:
            if share is not None:
                share.claim(study, trial, trials)
            ran.append(trial.number)
            design = _design(trial, problem, pool, baseline)
            result = _evaluated(study, problem, pool, design, baseline, best)
            who = {} if share is None else {"worker": share.worker}  # which process ran it
            trial.set_user_attr(RESULT, {**result, **design, **who})  # one write, one commit
            return result["values"] if several else float(result["estimate"])

        if share is None:
            study.optimize(objective, n_trials=1, catch=())
        elif not share.run(study, objective):
            continue
        if len(baseline.rows) > len(study.user_attrs.get("baseline", [])):
            study.set_user_attr("baseline", baseline.rows)
        claims = study.get_trials(deepcopy=False, states=CLAIMED)
        last = next(t for t in claims if t.number == ran[-1])
        place = sum(t.number <= last.number for t in claims)  # alone: the finished trials
        (say or _say)(_line(place, trials, problem, last))


def _evaluated(
    study: optuna.Study,
    problem: Problem,
    pool: WorkerPool,
    design: dict[str, Any],
    baseline: Baseline,
    best: float | None,
) -> dict[str, Any]:
    """A trial's result: its design replicated (robust mode: at every draw, judged against
    the earlier trials that meet the constraints, or all of them when none does)."""
    if problem.robust is not None:
        prior = optimize_robust.rivals(_results(study))
        return optimize_robust.evaluate(pool, problem, design["params"], baseline, prior)
    variant = with_values(problem.scenario, design["params"])
    return evaluate(pool, problem, variant, baseline, best)


def _results(study: optuna.Study) -> list[dict[str, Any]]:
    """The finished trials' results, in order."""
    return [t.user_attrs[RESULT] for t in finished(study)]


def _design(
    trial: optuna.Trial, problem: Problem, pool: WorkerPool, baseline: Baseline
) -> dict[str, Any]:
    """The trial's lever values (``params``): suggested, or bought by the suggested shares of
    an allocation (``shares`` too; the financial share's spend base is the baseline's revenue
    on the first ``replications``, the same for every trial)."""
    allocation = problem.allocation
    if allocation is None:
        return {"params": {lever.path: _suggest(trial, lever) for lever in problem.levers}}
    weights = {b: trial.suggest_float(weight_name(b), 0.0, 1.0) for b in allocation.bonds}
    shares = allocation.shares(weights)
    revenue = allocation.revenue(baseline.ensure(pool, problem, problem.replications))
    return {"params": allocation.values(shares, revenue), "shares": shares}


def _suggest(trial: optuna.Trial, lever: Any) -> float | int:
    if lever.integer:
        return trial.suggest_int(lever.path, int(lever.low), int(lever.high), log=lever.log)
    return trial.suggest_float(lever.path, lever.low, lever.high, log=lever.log)


def best_estimate(study: optuna.Study) -> float | None:
    """The highest estimate among the finished feasible trials (None: there is none yet)."""
    feasible = [t.value for t in finished(study) if t.user_attrs[RESULT]["feasible"]]
    return max(feasible) if feasible else None


def importance(study: optuna.Study, problem: Problem) -> dict[str, float]:
    """Each lever's importance: the share of the variance of the finished trials' estimates
    (feasible or not) lost when its terms are dropped from a least-squares quadratic in all
    levers (each lever's value and square; its log for a log-scale lever). Dropping terms
    from one fit, not fitting each lever alone, keeps a lever that merely moved with a good
    one (as a sampler's proposals do) from borrowing its effect. Plain and deterministic:
    Optuna's fANOVA needs scikit-learn and a forest fitted on a few dozen noisy trials. The
    shares need not sum to 1. Empty for one lever, or fewer than 5 trials a lever: at 8 trials
    for 2 levers the fit's 5 terms absorbed most of a lever's effect (measured in the test)."""
    done = finished(study)
    p = len(problem.levers)
    if p < 2 or len(done) < 5 * p:
        return {}
    y = np.array([t.user_attrs[RESULT]["estimate"] for t in done], dtype=float)
    if problem.robust is not None:  # regret recomputed against all trials, not the earlier
        y = trials_table(study, problem)["estimate"].to_numpy(float)
    columns = {}
    for lever in problem.levers:
        x = np.array([t.user_attrs[RESULT]["params"][lever.path] for t in done], dtype=float)
        x = np.log(x) if lever.log else x
        x = (x - x.mean()) / (x.std() or 1.0)
        columns[lever.path] = [x, x**2]
    total = _residual(y, [c for pair in columns.values() for c in pair])
    base = float(((y - y.mean()) ** 2).sum())
    if base <= 0:
        return dict.fromkeys(columns, 0.0)
    out = {}
    for path in columns:
        rest = [c for other, pair in columns.items() if other != path for c in pair]
        out[path] = float(max(0.0, (_residual(y, rest) - total) / base))
    return out


def _residual(y: np.ndarray, columns: list[np.ndarray]) -> float:
    """The residual sum of squares of ``y`` on an intercept and ``columns``."""
    design = np.column_stack([np.ones_like(y), *columns])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return float(((y - design @ coef) ** 2).sum())


def _line(k: int, trials: int, problem: Problem, trial: optuna.trial.FrozenTrial) -> str:
    a = trial.user_attrs[RESULT]
    met = "" if a["feasible"] else "; breaks a constraint"
    if problem.robust is not None:
        return optimize_robust.line(k, trials, problem, a)
    if problem.objectives:
        values = ", ".join(
            f"{o.label} {v:+,.0f}" if abs(v) >= 1000 else f"{o.label} {v:+.3g}"
            for o, v in zip(problem.objectives, a["values"], strict=True)
        )
        return (
            f"relsim: trial {k} of {trials}: {describe(problem.levers, a['params'])} -> "
            f"{values} over {problem.baseline} ({a['n']} replications{met})"
        )
    shares = ", ".join(f"{b} {v:.0%}" for b, v in a.get("shares", {}).items())
    design = f"{shares}: " if shares else ""
    return (
        f"relsim: trial {k} of {trials}: {design}{describe(problem.levers, a['params'])} -> "
        f"{a['estimate']:+,.0f} [{a['low']:,.0f}, {a['high']:,.0f}] {problem.metric} over "
        f"{problem.baseline} ({a['n']} replications{met})"
    )


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def trials_table(study: optuna.Study, problem: Problem) -> pd.DataFrame:
    """One row per finished trial: its place, lever values, replications, estimate with its
    interval, the constrained columns' means, feasibility, and the best feasible so far (in
    robust mode also the expected value, worst draw, maximum regret against all the trials
    meeting the constraints, the value at each draw: :func:`.optimize_robust.rescore`)."""
    rows, best = [], -np.inf
    for k, trial in enumerate(finished(study), start=1):
        a = trial.user_attrs[RESULT]
        if a["feasible"]:
            best = max(best, a["estimate"])
        rows.append(
            {
                "trial": k,
                **{lever.path: a["params"][lever.path] for lever in problem.levers},
                **{share_name(b): v for b, v in a.get("shares", {}).items()},
                "replications": a["n"],
                "estimate": a["estimate"],
                "estimate_low": a["low"],
                "estimate_high": a["high"],
                **{
                    f"obj_{o.label}": v
                    for o, v in zip(problem.objectives, a.get("values", []), strict=True)
                },
                **optimize_robust.draw_columns(a),
                **{f"{c}_mean": v for c, v in a["means"].items()},
                "feasible": a["feasible"],
                "best_so_far": best if np.isfinite(best) else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    return table if problem.robust is None else optimize_robust.rescore(table, problem)


__all__ = [
    "STUDY_FILE",
    "best_estimate",
    "finished",
    "importance",
    "open_study",
    "search",
    "trials_table",
]
