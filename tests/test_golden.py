"""The model is pinned: small scenarios' results equal the stored golden outputs, and the
stored outputs, ``MODEL_VERSION`` and ``CHANGELOG.md`` agree (the policy in ``tests/golden``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from relsim import MODEL_VERSION
from tests import golden

POLICY = (
    "the model's numbers moved. If that is intended: bump MODEL_VERSION in "
    "src/relsim/version.py, say in CHANGELOG.md what changed in the model and why, and run "
    "`python -m tests.golden --update`. Differences: "
)


def test_stored_outputs_belong_to_this_model_version_and_its_changelog_entry() -> None:
    assert golden.stored_version() == MODEL_VERSION, (
        f"tests/data/golden was made with model {golden.stored_version()}, relsim is model "
        f"{MODEL_VERSION}: run `python -m tests.golden --update`"
    )
    assert golden.changelog_has(MODEL_VERSION), (
        f"CHANGELOG.md lacks 'Model version {MODEL_VERSION}'"
    )


@pytest.mark.parametrize("case", golden.CASES, ids=lambda case: case.name)
def test_results_equal_the_golden_outputs(case: golden.Case) -> None:
    found = golden.differences(golden.compute(case), golden.stored(case))
    assert not found, POLICY + "; ".join(found[:5])


def test_the_comparison_sees_a_single_customer_or_a_cent() -> None:
    """Power: one customer more, or money off in the 8th digit, is a difference; a last-bit
    difference in a float (what another CPU's exp/log gives) is not."""
    case = golden.CASES[0]
    tables = golden.stored(case)

    def moved(table: str, column: str, change) -> list[str]:
        copy = {name: frame.copy() for name, frame in tables.items()}
        copy[table].loc[0, column] = change(copy[table].loc[0, column])
        return golden.differences(copy, tables)

    assert moved("weekly", "customers", lambda v: v + 1)
    assert moved("summary", "npv", lambda v: v * (1 + 1e-8))
    assert not moved("summary", "npv", lambda v: v * (1 + 1e-15))
    assert moved("defections", "reason", lambda v: "political" if v != "political" else "price")


def test_update_refuses_moved_numbers_under_the_same_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = tmp_path / "golden"
    shutil.copytree(golden.GOLDEN, stored)
    monkeypatch.setattr(golden, "GOLDEN", stored)
    monkeypatch.setattr(golden, "CASES", golden.CASES[:1])
    summary = stored / "ci-smoke" / "summary.csv"
    table = pd.read_csv(summary)
    table.loc[0, "profit"] += 1.0
    summary.write_text(golden.to_csv(table))
    assert golden.update() == 1
    assert pd.read_csv(summary).loc[0, "profit"] == table.loc[0, "profit"]  # not rewritten

    monkeypatch.setattr(golden, "CHANGELOG", tmp_path / "CHANGELOG.md")
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n## Model version 0\n")
    (stored / "MODEL_VERSION").write_text("0\n")
    assert golden.update() == 1  # a new version needs its entry first
    (tmp_path / "CHANGELOG.md").write_text(f"# Changelog\n\n## Model version {MODEL_VERSION}\n")
    assert golden.update() == 0
    assert golden.differences(golden.compute(golden.CASES[0]), golden.stored(golden.CASES[0])) == []
