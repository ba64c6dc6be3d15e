"""Periodic death opportunities: dropout only at fixed weeks of the calendar.

Jerath, Fader & Hardie (2011, "New perspectives on customer 'death' using a generalization of
the Pareto/NBD model", Marketing Science 30(5)) let customers drop out only at death
opportunities that come every ``tau`` units of calendar time, the same weeks for everyone, with
a heterogeneous chance at each; purchasing while alive is the Pareto/NBD's. A short period gives
back the Pareto/NBD, a period longer than the calibration period the NBD (no death). Their story
fits businesses whose customers reconsider at fixed times (a budget year, a catalogue season).

In relsim's discrete-time process (``relsim.calibration.process``) the periodic variant keeps
the weekly purchase occasions and the annual propensity ``theta ~ Beta(a, b)`` (rate-linked or
not) and lumps the dropout at the opportunities: a customer in a relationship at the
opportunity of week ``w`` (a week with ``w % tau == 0``, counted from the log's first week, as
the calendar's origin; checked before that week's occasion) ends it with probability
``1 - (1 - theta) ** (g tau / 52)``, the dropout its clock would have run through in the
``tau`` weeks since the last one, and never in another week. At ``tau = 52`` that chance is
JFH's beta-distributed ``theta`` itself; at ``tau = 1`` the variant is the weekly process.

So a customer who was in a relationship at its ``s``-th week after the first purchase has been
exposed to ``E(s) = tau * D(s)`` weeks of dropout, ``D(s)`` the opportunities in its weeks
``1..s``, and ``B(s) = Beta(a, b + g E(s) / 52) / Beta(a, b)``: the likelihood is the weekly
process's with ``s`` replaced by ``E(s)``. ``D`` depends on the calendar week of the first
purchase, which a weekly summary gives by ``n`` (every history ends in the calibration period's
last week): the fit records, as a setting beside its parameters, how many weeks before that last
week the last opportunity came (:data:`SINCE`).
"""

from __future__ import annotations

import numpy as np

PERIOD = "defection_period_weeks"
"""The weeks between death opportunities, ``tau`` (a setting of the fit, chosen on the
calibration data; the scenario field of the same name)."""
SINCE = "weeks_since_opportunity"
"""At the calibration period's last week, the weeks since the last death opportunity (0: that
week was one): where the histories' ends sit on the opportunities' calendar."""
PERIODS = (2, 4, 8, 13)
"""The periods the ``periodic`` variant tries (weeks): a fortnight, four weeks, two months, a
quarter; the one of highest likelihood on the calibration data is kept."""


def settings(params: dict[str, float]) -> tuple[int, int]:
    """``(tau, since)`` of a parameter set: ``(1, 0)`` (every week) without the variant."""
    if PERIOD not in params:
        return 1, 0
    period = round(float(params[PERIOD]))
    return period, round(float(params.get(SINCE, 0))) % period


def since_at_end(period: int, calibration_weeks: int) -> int:
    """:data:`SINCE` for a log whose calibration weeks are ``0..calibration_weeks - 1`` and
    whose opportunities fall on the weeks divisible by ``period``."""
    return (calibration_weeks - 1) % period


def exposure(n: np.ndarray, top: int, period: int, since: int) -> tuple[np.ndarray, np.ndarray]:
    """Each history's class and, per class, the weeks of dropout ``E(s)`` a customer has been
    exposed to by its week ``s = 0..top`` after the first purchase: ``s`` itself without the
    variant (one class). A history ending (week ``n``) ``since`` weeks after an opportunity has
    opportunities at the weeks ``s >= 1`` with ``(s - n + since) % tau == 0``."""
    n = np.asarray(n, dtype=np.int64)
    weeks = np.arange(top + 1)
    if period <= 1:
        return np.zeros(len(n), dtype=np.int64), weeks[None, :].astype(float)
    shift = (since - n) % period  # the class: opportunities where (s + shift) % tau == 0
    table = period * ((weeks[None, :] + np.arange(period)[:, None]) // period)
    return shift, table.astype(float)


def exposure_at_end(n: np.ndarray, period: int, since: int) -> np.ndarray:
    """``E(n)``: the weeks of dropout a customer in a relationship at its last observed week
    has been exposed to since its first purchase."""
    n = np.asarray(n, dtype=np.int64)
    if period <= 1:
        return n.astype(float)
    shift = (since - n) % period
    return (period * ((n + shift) // period)).astype(float)


def exposure_ahead(weeks: np.ndarray, period: int, since: int) -> np.ndarray:
    """The weeks of dropout in the first ``k`` weeks after the calibration period, for each
    ``k`` in ``weeks``: the same for every customer (the opportunities are calendar weeks)."""
    weeks = np.asarray(weeks, dtype=np.int64)
    if period <= 1:
        return weeks.astype(float)
    return (period * ((weeks + since) // period)).astype(float)


def first_week_offset(period: int, since: int) -> int:
    """The scenario's ``defection_period_offset_weeks`` for a run whose week 0 is the first
    week after the calibration period: its opportunities at the run's weeks ``w`` with
    ``(w - offset) % tau == 0``."""
    return (-(since + 1)) % period


__all__ = [
    "PERIOD",
    "PERIODS",
    "SINCE",
    "exposure",
    "exposure_ahead",
    "exposure_at_end",
    "first_week_offset",
    "settings",
    "since_at_end",
]
