"""Bitwise fingerprints of every array of every run: the check behind "no number moved".

The golden outputs (``tests/golden.py``) compare a few small scenarios' tables to 10
significant digits. A change meant to move no number at all (a faster engine, a refactoring)
can be held to more: this script runs every bundled scenario under every strategy with two
seeds at full horizons (112 runs today, about a minute on one core) and writes one SHA-256
per run over every array and record of its :class:`~relsim.model.raw_run.RawRun`
(``RawRun.fingerprint``: dtype, shape and bytes; the run's timing left out). Write the
fingerprints before the change, again after, and compare::

    git stash && python scripts/bitwise_fingerprints.py /tmp/before.json && git stash pop
    python scripts/bitwise_fingerprints.py /tmp/after.json
    python scripts/bitwise_fingerprints.py --compare /tmp/before.json /tmp/after.json

``--compare`` prints the runs that differ and exits 1 if any does. Bitwise identity holds on
one machine; across CPUs numpy's vectorised ``exp``/``log`` may differ in the last bit
(``CHANGELOG.md``, the model-version policy).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fingerprints(seeds: tuple[int, ...] = (1, 2)) -> dict[str, str]:
    """``scenario/strategy/seed`` -> SHA-256 of the run's arrays, for every bundled scenario."""
    from relsim import load_scenario
    from relsim.model import simulate_strategies

    out = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        strategies = list(scenario.strategies)
        for seed in seeds:
            runs = simulate_strategies(scenario, strategies, seed)
            for strategy, raw in zip(strategies, runs, strict=True):
                out[f"{path.stem}/{strategy.name}/{seed}"] = raw.fingerprint()
    return out


def compare(before: Path, after: Path) -> int:
    """Print how many runs differ between two fingerprint files; 1 if any does (or is missing)."""
    a, b = (json.loads(p.read_text()) for p in (before, after))
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    print(f"{len(a)} runs before, {len(b)} after, {len(differ)} differ")
    for key in differ:
        print(f"  {key}")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", type=Path, help="the JSON file to write")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    if args.out is None:
        parser.error("give the JSON file to write, or --compare BEFORE AFTER")
    if args.out.exists():
        parser.error(f"{args.out} exists: choose a new file (nothing is replaced)")
    found = fingerprints()
    args.out.write_text(json.dumps(found, indent=1, sort_keys=True))
    print(f"{len(found)} runs fingerprinted into {args.out}")


if __name__ == "__main__":
    main()
