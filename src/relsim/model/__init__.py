"""The simulation engine: customer arrays advanced weekly by numpy, scheduled by SimPy.

Imports only the scenario types, numpy and simpy (no pandas, no plotting).
"""

from relsim.model.engine import Market, RawRun, simulate_arrays
from relsim.model.shared_warm_up import simulate_strategies

__all__ = ["Market", "RawRun", "simulate_arrays", "simulate_strategies"]
