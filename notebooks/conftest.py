"""Notebooks run in their fast profile under pytest (few replications, small markets), as
nbmake items marked ``notebook`` and ``slow``: ``pytest -m "not slow"`` leaves them out."""

import os

import pytest

os.environ.setdefault("RELSIM_FAST", "1")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)
