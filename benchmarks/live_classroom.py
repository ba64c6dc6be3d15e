"""Paired live-classroom time: what a class waits for after moving a slider of
``relsim demo --serve``, this checkout against another commit.

A fresh process builds the live server for the bundled classroom scenario (its first page:
``make_server``), then answers ``--changes`` lever changes as the page asks for them: each a
first stage of 2 runs per strategy and a second of ``--replications`` (the command's default,
8), computed by the server's own ``compute`` (the HTTP round trip around it is a few
milliseconds). The two sides run one after the other (each uses every core), the order swapped
every pair, as in ``runner_pairs.py``. Each side imports its own ``src/`` and reads its own
``src/relsim/classroom.yaml``.

Usage::

    python benchmarks/live_classroom.py --baseline d5f9ffd --pairs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from worktrees import checked_out, run_python  # noqa: E402

CHILD = """
import inspect, json, sys, time
from pathlib import Path
from relsim.viz import demo_serve
if __name__ == "__main__":
    tree, replications, changes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    path = Path(tree) / "src" / "relsim" / "classroom.yaml"
    started = time.perf_counter()
    server, jobs = demo_serve.make_server(path, 0, None, (2, replications))
    times = {"first_page": time.perf_counter() - started, "stage_2": [], "stage_last": []}
    for k in range(changes):
        lever = {"firms.1.price_index": round(0.9 + 0.02 * k, 2)}
        for stage, key in ((2, "stage_2"), (replications, "stage_last")):
            started = time.perf_counter()
            jobs.compute(lever, 7 + k, stage)
            times[key].append(time.perf_counter() - started)
    (server.close if hasattr(server, "close") else server.server_close)()
    print(json.dumps(times))
"""


def _time(tree: Path, args: argparse.Namespace) -> dict[str, object]:
    """One live session in a fresh process importing ``tree``'s relsim: its seconds."""
    arguments = ["-c", CHILD, str(tree), str(args.replications), str(args.changes)]
    return json.loads(run_python(tree, arguments, "a session"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--replications", type=int, default=8, help="the second stage's runs")
    parser.add_argument("--changes", type=int, default=3, help="lever changes per session")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    sessions: dict[str, list[dict[str, object]]] = {"baseline": [], "this": []}
    with (
        tempfile.TemporaryDirectory() as scratch,
        checked_out(ROOT, args.baseline, Path(scratch)) as baseline,
    ):
        for i in range(args.pairs):
            order = [("baseline", baseline), ("this", ROOT)]
            for side, tree in order if i % 2 == 0 else order[::-1]:
                sessions[side].append(_time(tree, args))
            print(json.dumps({"pair": i + 1, **{s: v[-1] for s, v in sessions.items()}}))
    summary: dict[str, object] = {"baseline": args.baseline, "pairs": args.pairs}
    for key in ("first_page", "stage_2", "stage_last"):
        for side, runs in sessions.items():
            values = [v for run in runs for v in _as_list(run[key])]
            summary[f"{side}_{key}_seconds"] = _spread(values)
    print(json.dumps(summary))


def _as_list(value: object) -> list[float]:
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]  # type: ignore[arg-type]


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    main()
