"""relsim's two version numbers, in a module of their own so that any part of the package can
read them without importing the package root (``relsim/__init__.py`` re-exports both).

The **package version** follows the code; the **model version** moves only when simulated
numbers move for the same scenario and seed (the policy in ``CHANGELOG.md`` and
``tests/golden.py``). Results folders record both, and a folder made by another model version
cannot be resumed.
"""

from __future__ import annotations

__version__ = "0.1.0"
MODEL_VERSION = "12"
"""Bumped whenever a change moves simulated numbers for the same scenario and seed."""

__all__ = ["MODEL_VERSION", "__version__"]
