"""The regression metamodel behind the value of partial information: a penalised additive
spline regression (P-splines, Eilers & Marx 1996) whose smoothness is chosen by generalised
cross-validation, the GAM-style estimator of Strong, Oakley & Brennan (2014).

Each input is put on the unit interval by its rank (the analysis needs only *which* values go
with which outputs, not their scale), expanded in a cubic B-spline basis with a second-order
difference penalty, and constrained to sum to zero over the sample so that several inputs add
up (an additive model, one smooth term per input, plus an intercept). The penalty's null space
is a straight line, so a very large smoothing parameter gives a linear fit and a small one a
flexible curve; GCV chooses among :data:`LAMBDAS` for each output column separately. A term
per input and no interactions: a group of inputs whose *joint* values matter in a way no sum of
single curves can follow is underestimated (documented in docs/voi.md).

Everything here is numpy on small arrays (inputs x outputs, a few hundred rows): a fit is a
batch of small linear solves, one per smoothing parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.interpolate import BSpline
from scipy.linalg import null_space

LAMBDAS = 10.0 ** np.arange(-6.0, 7.0)
"""Smoothing parameters tried, relative to the scale of the basis's cross-products; the
largest is indistinguishable from a straight line."""
DEGREE = 3
RIDGE = 1e-9
"""A tiny ridge (relative to the cross-products' scale) that keeps the solves well posed."""


@dataclass(frozen=True)
class Fit:
    """A fitted additive model: fitted values per output column, and for each column the
    smoothing parameter GCV chose and the model's effective degrees of freedom."""

    fitted: np.ndarray
    lam: np.ndarray
    edf: np.ndarray


def unit_ranks(values: np.ndarray) -> np.ndarray:
    """Values as mid-ranks on (0, 1): ``(rank - 0.5) / n``, ties sharing their mean rank."""
    x = np.asarray(values, dtype=float)
    return (stats.rankdata(x, method="average") - 0.5) / len(x)


def basis_size(samples: int, inputs: int = 1) -> int:
    """B-spline functions per input: more with more samples, fewer per input in a group
    (between 5, a cubic on two segments, and 11)."""
    if inputs > 1:
        return 5
    return int(np.clip(samples // 10 + 3, 5, 11))


def bspline_basis(x: np.ndarray, size: int) -> np.ndarray:
    """The cubic B-spline basis of ``size`` functions on [0, 1] (equal segments) at ``x``."""
    segments = size - DEGREE
    inner = np.linspace(0.0, 1.0, segments + 1)
    step = inner[1] - inner[0]
    knots = np.concatenate(
        [inner[0] - step * np.arange(DEGREE, 0, -1), inner, 1.0 + step * np.arange(1, DEGREE + 1)]
    )
    clipped = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    return BSpline.design_matrix(clipped, knots, DEGREE).toarray()


def _term(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One input's smooth term: its basis constrained to sum to zero over the sample, and the
    matching second-difference penalty."""
    basis = bspline_basis(x, size)
    constraint = null_space(basis.sum(axis=0)[None, :])
    difference = np.diff(np.eye(size), n=2, axis=0)
    penalty = constraint.T @ difference.T @ difference @ constraint
    return basis @ constraint, penalty


def design(inputs: np.ndarray, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The additive model's design matrix (intercept, then each input's term) and its
    block-diagonal penalty, for ``inputs`` of shape (samples, inputs) on [0, 1]."""
    x = np.asarray(inputs, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, g = x.shape
    size = size or basis_size(n, g)
    columns, blocks = [np.ones((n, 1))], [np.zeros((1, 1))]
    for j in range(g):
        term, penalty = _term(x[:, j], size)
        columns.append(term)
        blocks.append(penalty)
    width = sum(b.shape[0] for b in blocks)
    full = np.zeros((width, width))
    at = 0
    for block in blocks:
        k = block.shape[0]
        full[at : at + k, at : at + k] = block
        at += k
    return np.hstack(columns), full


def fit(
    inputs: np.ndarray,
    outputs: np.ndarray,
    size: int | None = None,
    lam: np.ndarray | None = None,
) -> Fit:
    """Fit the additive model of every column of ``outputs`` (samples x columns) on
    ``inputs`` (samples x inputs, on [0, 1]); each column gets its own smoothing parameter,
    the one of :data:`LAMBDAS` with the smallest GCV score ``n * RSS / (n - edf)^2``, or the
    one ``lam`` gives it (a bootstrap resample keeps the full sample's: GCV is fooled by the
    exact duplicates a resample holds and would fit them too closely)."""
    y = np.asarray(outputs, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    z, penalty = design(inputs, size)
    n, p = z.shape
    gram = z.T @ z
    scale = np.trace(gram) / max(np.trace(penalty), 1e-300)
    grid = LAMBDAS if lam is None else np.unique(lam)
    systems = (
        gram[None] + (grid * scale)[:, None, None] * penalty[None] + RIDGE * scale * np.eye(p)[None]
    )
    coefficients = np.linalg.solve(systems, np.broadcast_to(z.T @ y, (len(grid), p, y.shape[1])))
    fitted = np.einsum("np,lpm->lnm", z, coefficients)
    edf = np.trace(np.linalg.solve(systems, np.broadcast_to(gram, systems.shape)), axis1=1, axis2=2)
    rss = ((y[None] - fitted) ** 2).sum(axis=1)
    residual_df = n - edf
    with np.errstate(divide="ignore", invalid="ignore"):
        gcv = np.where(residual_df[:, None] > 0.5, n * rss / residual_df[:, None] ** 2, np.inf)
    best = np.argmin(gcv, axis=0) if lam is None else np.searchsorted(grid, lam)
    columns = np.arange(y.shape[1])
    return Fit(fitted[best, :, columns].T, grid[best], edf[best])


def smallest_sample(inputs: int) -> int:
    """The fewest samples a model of ``inputs`` inputs is fitted from: its straight-line part
    (an intercept and a slope per input) and at least eight degrees of freedom left over."""
    return inputs + 9


__all__ = [
    "LAMBDAS",
    "Fit",
    "basis_size",
    "bspline_basis",
    "design",
    "fit",
    "smallest_sample",
    "unit_ranks",
]
