"""Tidy tables and summary metrics of one simulated run: :class:`Run` (:mod:`.run`) builds
the tables from the engine's arrays, :mod:`.summary` the scalar metrics part by part."""

from relsim.results.run import Run, warmup_drift
from relsim.results.summary import loss_summary

__all__ = ["Run", "loss_summary", "warmup_drift"]
