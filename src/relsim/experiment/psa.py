"""Probabilistic sensitivity analysis: the uncertain assumptions and their joint draws.

Every numeric assumption of the register (:data:`relsim.experiment.assumptions.REGISTER`, the
same entries ``relsim run --robustness`` moves) is uncertain, all at once, unless the
scenario's ``uncertainty:`` block fixes it; the block may add fields of its own. Each becomes a
:class:`Quantity`: one uncertain number, drawn once per draw, set in every scenario path it
stands for (a ``*`` entry, say every segment's price sensitivity, moves all its items together
by the same quantile of each item's own distribution, so the segments keep their order).

The default distribution is **Beta-PERT** over the register's plausible range with its mode at
the scenario's value: the range bounds what is plausible (no mass outside it), the scenario's
value is the analyst's best guess, and PERT (Vose 2008) puts less weight on the ends than a
triangular distribution, whose mean the ends pull far from the guess. A scenario value outside
the register's range widens the range to include it.

The joint draws are a scrambled Sobol sequence (or a Latin hypercube) on the unit cube, one
dimension per quantity, mapped through each quantity's quantile function. A draw that makes
the scenario invalid (a cross-check between an assumption and a strategy's lever) is left out
and the sequence continues: the analysis is conditional on a valid scenario, and says how
many draws were left out and why. Each draw gets its own root seed, so simulation noise is
independent between draws (and common to the strategies within one).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from relsim.experiment.assumptions import REGISTER, Assumption, concrete_paths
from relsim.experiment.design import tidy
from relsim.scenario import Scenario
from relsim.scenario.model import Uncertainty, UncertainValue
from relsim.scenario.paths import FieldPathError, get_value, with_values

PSA_STREAM = 0x95A
"""Spawn key of the draws' stream and of every draw's root seed (apart from every run's)."""
MAX_DRAWS_PER_SAMPLE = 16
"""Draws tried per draw kept before a scenario whose draws are mostly invalid is refused."""
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "customers (segments)": ("segments.",),
    "satisfaction and trust": ("satisfaction.", "trust."),
    "service": ("service.",),
    "bonds and programs": ("bonding.", "strategies.*.bonds."),
    "operations and retention tools": ("firms.", "strategies.*.retention."),
    "rivals": ("rivalry.",),
    "switching, acquisition, market, money": (
        "switching.",
        "acquisition.",
        "market.",
        "economics.",
    ),
}
"""Named groups of the register (by path prefix), as docs/model.md, section 5, sorts it."""


@dataclass(frozen=True)
class Quantity:
    """One uncertain number and where it goes: ``name`` (the register entry's path, or the
    block's own), its scenario ``paths``, its family, and per path (low, mode, high, sd)."""

    name: str
    paths: tuple[str, ...]
    kind: str
    bounds: tuple[tuple[float, float, float, float | None], ...]
    unit: str
    whole: tuple[bool, ...]

    def values(self, u: np.ndarray) -> dict[str, list[Any]]:
        """The values of every path at the unit draws ``u`` (whole-number fields rounded)."""
        out = {}
        for path, (low, mode, high, sd), whole in zip(
            self.paths, self.bounds, self.whole, strict=True
        ):
            x = quantile(self.kind, low, mode, high, sd, u)
            out[path] = [round(float(v)) for v in x] if whole else [tidy(v) for v in x]
        return out


def quantile(
    kind: str, low: float, mode: float, high: float, sd: float | None, u: np.ndarray
) -> np.ndarray:
    """The quantile function of one family at the unit draws ``u``."""
    u = np.asarray(u, dtype=float)
    width = high - low
    if kind == "pert":
        a = 1 + 4 * (mode - low) / width
        b = 1 + 4 * (high - mode) / width
        return low + width * stats.beta.ppf(u, a, b)
    if kind == "triangular":
        return stats.triang.ppf(u, (mode - low) / width, loc=low, scale=width)
    if kind == "uniform":
        return low + width * u
    if kind == "loguniform":
        return np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
    if kind == "normal":
        assert sd is not None
        a, b = (low - mode) / sd, (high - mode) / sd
        return stats.truncnorm.ppf(u, a, b, loc=mode, scale=sd)
    raise ValueError(f"unknown distribution {kind!r}")


def quantities(scenario: Scenario) -> tuple[list[Quantity], list[str]]:
    """The uncertain quantities of ``scenario`` (register entries, then the block's own), and
    notes on what was left out and why."""
    block = scenario.uncertainty or Uncertainty()
    register = {a.path: a for a in REGISTER}
    found, notes = [], []
    for assumption in REGISTER:
        spec = block.assumptions.get(assumption.path, UncertainValue(kind=block.default))
        made = _quantity(scenario, assumption, spec, notes)
        if made is not None:
            found.append(made)
    for path, spec in block.assumptions.items():
        if path in register:
            continue
        if spec.kind == "fixed":
            notes.append(f"{path}: fixed (not in the register, so never varied anyway)")
            continue
        if spec.low is None or spec.high is None:
            raise ValueError(
                f"uncertainty.assumptions.{path}: not in the register, so give its low and high"
            )
        own = Assumption(path, spec.low, spec.high, "")
        made = _quantity(scenario, own, spec, notes)
        if made is not None:
            _no_overlap(made, found)
            found.append(made)
    return found, notes


def _quantity(
    scenario: Scenario, assumption: Assumption, spec: UncertainValue, notes: list[str]
) -> Quantity | None:
    """The quantity of one entry, or None (with a note) when it is fixed or absent."""
    paths = concrete_paths(scenario, assumption)
    if not paths:
        notes.append(f"{assumption.path}: no such field in this scenario")
        return None
    if spec.kind == "fixed":
        notes.append(f"{assumption.path}: fixed at the scenario's value")
        return None
    bounds, whole = [], []
    for path in paths:
        value = get_value(scenario, path)
        low = spec.low if spec.low is not None else min(assumption.low, value)
        high = spec.high if spec.high is not None else max(assumption.high, value)
        if not low < high:
            raise ValueError(f"{assumption.path}: the range {low:g}-{high:g} is empty")
        if spec.kind == "loguniform" and low <= 0:
            raise ValueError(f"{assumption.path}: a loguniform distribution needs low > 0")
        mode = float(np.clip(spec.mode if spec.mode is not None else value, low, high))
        bounds.append((float(low), mode, float(high), spec.sd))
        whole.append(isinstance(value, int) and not isinstance(value, bool))
    return Quantity(
        assumption.path, tuple(paths), spec.kind, tuple(bounds), assumption.unit, tuple(whole)
    )


def _no_overlap(made: Quantity, found: list[Quantity]) -> None:
    for other in found:
        shared = set(made.paths) & set(other.paths)
        if shared:
            raise ValueError(
                f"uncertainty.assumptions.{made.name}: {sorted(shared)[0]} is already the "
                f"register's {other.name}; name that entry instead"
            )


def groups(scenario: Scenario, found: list[Quantity]) -> dict[str, list[str]]:
    """Named groups of the quantities: the block's, else :data:`DEFAULT_GROUPS`; a member
    is an entry's name or a prefix of names. Groups of fewer than two quantities are left
    out (a group of one is that assumption)."""
    block = scenario.uncertainty
    named = dict(block.groups) if block is not None and block.groups else DEFAULT_GROUPS
    out = {}
    for name, prefixes in named.items():
        members = [q.name for q in found if any(q.name.startswith(p) for p in prefixes)]
        if len(members) >= 2:
            out[name] = members
    return out


@dataclass
class Draws:
    """The joint draws: one row per draw kept, one column per scenario path, and ``seed``
    (the draw's root seed); the quantities' own values; what was left out."""

    points: pd.DataFrame
    inputs: pd.DataFrame
    rejected: int
    reasons: list[str]


def draw(scenario: Scenario, found: list[Quantity], samples: int, design: str = "sobol") -> Draws:
    """``samples`` valid joint draws of ``found`` (see the module docstring)."""
    from scipy.stats import qmc

    if not found:
        raise ValueError("nothing is uncertain: every assumption is fixed")
    rng = np.random.default_rng(np.random.SeedSequence(scenario.seed, spawn_key=(PSA_STREAM,)))
    d = len(found)
    sampler = (
        qmc.Sobol(d, scramble=True, seed=rng)
        if design == "sobol"
        else qmc.LatinHypercube(d, seed=rng)
    )
    block = 1 << int(np.ceil(np.log2(max(samples, 2))))
    plain = scenario.model_copy(update={"sweep": None, "uncertainty": None})
    rows: list[dict[str, Any]] = []
    reasons: list[str] = []
    tried = 0
    while len(rows) < samples:
        if tried >= MAX_DRAWS_PER_SAMPLE * samples:
            raise ValueError(
                f"{tried} draws, {len(rows)} valid: the assumptions' ranges contradict the "
                f"scenario's levers; fix or narrow them. First reason: {reasons[0]}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unit = sampler.random(block)
        tried += block
        _keep(plain, found, unit, samples, rows, reasons)
    seeds = [draw_seed(scenario.seed, k) for k in range(samples)]
    points = pd.DataFrame(rows).assign(seed=seeds)
    inputs = pd.DataFrame({q.name: points[q.paths[0]].to_numpy(dtype=float) for q in found})
    return Draws(points, inputs, len(reasons), reasons[:5])


def _keep(
    plain: Scenario,
    found: list[Quantity],
    unit: np.ndarray,
    samples: int,
    rows: list[dict[str, Any]],
    reasons: list[str],
) -> None:
    """Append the valid draws of ``unit`` to ``rows`` (until there are ``samples``), the
    invalid ones' reasons to ``reasons``."""
    columns: dict[str, list[Any]] = {}
    for j, quantity in enumerate(found):
        columns.update(quantity.values(unit[:, j]))
    for i in range(len(unit)):
        if len(rows) >= samples:
            return
        row = {path: values[i] for path, values in columns.items()}
        try:
            with_values(plain, row)
        except FieldPathError as error:
            reasons.append(str(error).partition(": ")[2].lstrip(": ") or str(error))
            continue
        rows.append(row)


def draw_seed(root: int, k: int) -> int:
    """The root seed of draw ``k``: independent of every other draw's and of the root's own
    replications."""
    state = np.random.SeedSequence(root, spawn_key=(PSA_STREAM, k)).generate_state(1)
    return int(state[0])


def describe(found: list[Quantity]) -> list[dict[str, Any]]:
    """The quantities as plain records (for ``psa.json`` and the report)."""
    return [asdict(q) for q in found]


def from_records(records: list[dict[str, Any]]) -> list[Quantity]:
    """The quantities back from :func:`describe`'s records."""
    return [
        Quantity(
            r["name"],
            tuple(r["paths"]),
            r["kind"],
            tuple(tuple(b) for b in r["bounds"]),  # type: ignore[misc]
            r["unit"],
            tuple(r["whole"]),
        )
        for r in records
    ]


__all__ = [
    "DEFAULT_GROUPS",
    "Draws",
    "Quantity",
    "describe",
    "draw",
    "draw_seed",
    "from_records",
    "groups",
    "quantile",
    "quantities",
]
