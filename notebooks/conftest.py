"""Notebooks run in their fast profile under pytest (few replications, small markets)."""

import os

os.environ.setdefault("RELSIM_FAST", "1")
