"""Mutants of the ``@property`` bodies of ``Interval``, which mutmut 3 does not mutate (its
trampoline cannot stand in for a property). Each mutant is the change mutmut's operators would
make; it is applied to a copy of ``src/`` in a temporary folder and the statistics tests run
against that copy (``PYTHONPATH`` puts it before the editable install). Not run in CI.

    python scripts/mutation_properties.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE = Path("relsim/statistics.py")
TESTS = [
    "tests/test_statistics.py",
    "tests/test_experiment.py::test_the_precision_rule_adds_replications_until_precise",
]
HALF = "return (self.high - self.low) / 2.0"
RELATIVE = 'return self.half_width / abs(self.mean) if self.mean else float("inf")'
MUTANTS: list[tuple[str, str]] = [
    (HALF, "return (self.high - self.low) * 2.0"),
    (HALF, "return (self.high - self.low) / 3.0"),
    (HALF, "return (self.high + self.low) / 2.0"),
    (HALF, "return None"),
    (RELATIVE, RELATIVE.replace("self.half_width / abs", "self.half_width * abs")),
    (RELATIVE, RELATIVE.replace("abs(self.mean)", "self.mean")),
    (RELATIVE, RELATIVE.replace("if self.mean", "if not self.mean")),
    (RELATIVE, RELATIVE.replace('float("inf")', 'float("-inf")')),
    (RELATIVE, RELATIVE.replace('float("inf")', "None")),
    (RELATIVE, "return None"),
]


def main() -> int:
    source = (ROOT / "src" / MODULE).read_text()
    killed = 0
    for old, new in [("", ""), *MUTANTS]:  # first the unmutated copy: it must pass
        assert not old or source.count(old) == 1, old
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "src"
            shutil.copytree(ROOT / "src", copy)
            (copy / MODULE).write_text(source.replace(old, new))
            env = {**os.environ, "PYTHONPATH": str(copy)}
            where = subprocess.run(
                [sys.executable, "-c", "import relsim; print(relsim.__file__)"],
                env=env,
                capture_output=True,
                text=True,
            ).stdout
            assert where.startswith(str(copy)), f"the tests would import {where}"
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
        caught = result.returncode != 0
        if not old:
            assert not caught, "the tests fail on the unmutated copy:\n" + result.stdout
            continue
        killed += caught
        print(f"{'killed  ' if caught else 'SURVIVED'}  {old.strip()}  ->  {new.strip()}")
    print(f"{killed} of {len(MUTANTS)} killed")
    return 0 if killed == len(MUTANTS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
