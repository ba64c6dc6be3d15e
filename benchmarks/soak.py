"""The deep reliability profile: what CI checks in a fast profile, at depth.

1. Fuzzing and properties with thousands of cases (``RELSIM_FUZZ_CASES``): random edits and
   hostile scenario files give a valid scenario or a located error; random valid markets
   conserve customers and money and put no NaN or negative count in a table.
2. A kill-and-resume soak: runs killed (SIGKILL) or interrupted (SIGINT to the process group,
   as Ctrl-C) at random moments, on 1 or 2 workers, sometimes several times in a row, then
   resumed; a SIGINT must exit 130 without a traceback (or 0, once the run has finished), and
   every resumed folder's tables must equal an uninterrupted run's, bit for bit.
3. Damage rounds: a run interrupted, then one of the damages of issue 34 (an empty
   summary.json in a part, a deleted ladder.parquet, a stray file in parts/, a truncated
   manifest.json, a part's summary values edited to 1e30; and parts of an older relsim, without
   records, one with a truncated table), then resumed: it must finish with tables identical to
   the uninterrupted run's and say what it healed.

Usage::

    python benchmarks/soak.py                 # 5000 cases, 20 interruption rounds (~30 min)
    python benchmarks/soak.py --cases 500 --rounds 3
    python benchmarks/soak.py --fast          # 50 cases, 2 interruption rounds, every damage

Prints a Markdown summary to paste into ``docs/reliability.md``; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
RUN = [
    str(SCENARIO),
    *("--replications", "8"),  # x 3 strategies: 24 replications
    *("--set", "market.customers=1500", "--set", "horizon.weeks=60"),
    *("--set", "horizon.warmup_weeks=20"),
    *("--strategy", "transactional", "--strategy", "financial", "--strategy", "social"),
    "--no-progress",
]
TABLES = ("replications", "weekly", "ladder", "defections", "survival", "moves")


def relsim(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "relsim", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **kwargs,  # type: ignore[arg-type]
    )


def fuzz(cases: int) -> tuple[bool, str]:
    started = time.time()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_scenario_fuzz.py",
            "tests/test_properties.py",
        ],
        cwd=ROOT,
        env={**os.environ, "RELSIM_FUZZ_CASES": str(cases)},
        capture_output=True,
        text=True,
    )
    tail = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    return result.returncode == 0, f"{tail} ({time.time() - started:.0f} s)"


def same_tables(a: Path, b: Path) -> list[str]:
    differ = []
    for name in TABLES:
        x, y = pd.read_parquet(a / f"{name}.parquet"), pd.read_parquet(b / f"{name}.parquet")
        if name == "replications":
            x, y = x.drop(columns="seconds"), y.drop(columns="seconds")
        if not x.equals(y):
            differ.append(name)
    return differ


def interrupt_round(
    rng: random.Random, work: Path, reference: Path, k: int, duration: float
) -> dict[str, object]:
    """Start a run, interrupt it 1-3 times at random moments (each time with SIGKILL or
    SIGINT) while it is still computing (within 90% of an uninterrupted run's duration),
    resume to the end, compare with the reference."""
    out = work / f"round-{k}"
    workers = rng.choice(["1", "2"])
    events = []
    process = relsim("run", *RUN, "--workers", workers, "--out", str(out))
    for _ in range(rng.randint(1, 3)):
        time.sleep(rng.uniform(0.5, max(1.0, 0.9 * duration)))
        if process.poll() is not None:
            break
        how = rng.choice([signal.SIGKILL, signal.SIGINT])
        os.killpg(process.pid, how)
        _, stderr = process.communicate(timeout=120)
        code = process.returncode
        parts = len(list(out.glob("parts/*/r*")))
        events.append(f"{how.name}->{code} ({parts} parts kept)")
        if not (out / "manifest.json").exists():
            # stopped before the run began (e.g. while Python imported): nothing was
            # computed, so the user simply starts again
            process = relsim("run", *RUN, "--workers", workers, "--out", str(out))
            continue
        finished = json.loads((out / "manifest.json").read_text())["status"] == "complete"
        if how == signal.SIGINT and code == 0 and finished:
            # it came as the finished run was ending: there was nothing left to interrupt
            events[-1] += " as the finished run ended"
        elif how == signal.SIGINT and code != 130:
            why = f"SIGINT gave exit {code}: {stderr.decode()[-300:]}"
            return {"round": k, "ok": False, "why": why, "events": events}
        if how == signal.SIGINT and b"Traceback" in stderr:  # a worker's, or ours
            why = f"SIGINT printed a traceback: {stderr.decode()[-300:]}"
            return {"round": k, "ok": False, "why": why, "events": events}
        process = relsim("run", "--resume", str(out), "--workers", workers)
    code = process.wait(timeout=900)
    if code != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        return {"round": k, "ok": False, "why": f"exit {code}: {error[-300:]}", "events": events}
    manifest = json.loads((out / "manifest.json").read_text())
    differ = same_tables(out, reference)
    ok = manifest["status"] == "complete" and not differ
    shutil.rmtree(out, ignore_errors=True)
    why = "" if ok else f"tables differ: {differ}"
    return {"round": k, "ok": ok, "why": why, "events": events, "workers": workers}


def _first_part(out: Path) -> Path:
    return sorted(out.glob("parts/*/r*"))[0]


def _edit_values(out: Path) -> None:
    summary = _first_part(out) / "summary.json"
    summary.write_text(json.dumps({k: 1e30 for k in json.loads(summary.read_text())}))


def _older_relsim(out: Path) -> None:
    """Parts as an older relsim wrote them (no record), one of them with a truncated table."""
    for record in out.glob("parts/*/r*/record.json"):
        record.unlink()
    os.truncate(_first_part(out) / "weekly.parquet", 50)


DAMAGES = {
    "empty summary.json": lambda out: (_first_part(out) / "summary.json").write_text(""),
    "deleted ladder.parquet": lambda out: (_first_part(out) / "ladder.parquet").unlink(),
    "stray file in parts/": lambda out: (out / "parts" / "notes.txt").write_text("mine"),
    "truncated manifest.json": lambda out: os.truncate(out / "manifest.json", 100),
    "summary values edited to 1e30": _edit_values,
    "older parts, one table truncated": _older_relsim,
}
"""The damages of issue 34's 'What was measured' 4 (and parts without records)."""


def damage_round(work: Path, reference: Path, damage: str) -> dict[str, object]:
    """Run until a few parts are finished, SIGKILL the process group, damage the folder,
    resume; the resumed tables must equal the reference and the resume must say what it
    healed."""
    out = work / f"damage-{len(list(work.glob('damage-*')))}"
    process = relsim("run", *RUN, "--workers", "2", "--out", str(out))
    deadline = time.time() + 300
    while time.time() < deadline and len(list(out.glob("parts/*/r*/record.json"))) < 3:
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=120)
    DAMAGES[damage](out)
    resumed = subprocess.run(
        [sys.executable, "-m", "relsim", "run", "--resume", str(out), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    said = [line for line in resumed.stderr.splitlines() if line.startswith("relsim: resume:")]
    if resumed.returncode != 0:
        why = f"exit {resumed.returncode}: {resumed.stderr[-300:]}"
    else:
        differ = same_tables(out, reference)
        why = f"tables differ: {differ}" if differ else "" if said else "nothing said"
    shutil.rmtree(out, ignore_errors=True)
    return {"damage": damage, "ok": not why, "why": why, "said": said[:2]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000, help="hypothesis cases per test")
    parser.add_argument("--rounds", type=int, default=20, help="interruption rounds")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the interruption times")
    parser.add_argument(
        "--fast", action="store_true", help="50 cases and 2 interruption rounds (damages: all)"
    )
    args = parser.parse_args()
    if args.fast:
        args.cases, args.rounds = 50, 2
    rng = random.Random(args.seed)
    failures = 0
    lines = [
        f"### Deep profile, {date.today()} "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})",
        "",
        f"Command: `python benchmarks/soak.py --cases {args.cases} --rounds {args.rounds} "
        f"--seed {args.seed}`",
        "",
    ]
    ok, text = fuzz(args.cases)
    failures += not ok
    lines.append(f"- Fuzzing and properties, {args.cases} cases per test: {text}")
    with tempfile.TemporaryDirectory(prefix="relsim-soak-") as tmp:
        work = Path(tmp)
        reference = work / "reference"
        started = time.time()
        code = relsim("run", *RUN, "--workers", "2", "--out", str(reference)).wait()
        if code != 0:
            print(f"the reference run failed with exit {code}", file=sys.stderr)
            return 1
        duration = time.time() - started
        lines.append(f"- Reference run: {duration:.0f} s")
        results = []
        for k in range(args.rounds):
            result = interrupt_round(rng, work, reference, k, duration)
            results.append(result)
            print(json.dumps(result), file=sys.stderr)
        passed = sum(bool(r["ok"]) for r in results)
        failures += len(results) - passed
        kills = sum(str(e).startswith("SIGKILL") for r in results for e in r["events"])  # type: ignore[union-attr]
        ints = sum(str(e).startswith("SIGINT") for r in results for e in r["events"])  # type: ignore[union-attr]
        lines.append(
            f"- Interruption rounds: {passed} of {len(results)} resumed to tables identical to "
            f"the uninterrupted run ({kills} SIGKILLs, {ints} SIGINTs, 1 or 2 workers)"
        )
        total = 8 * 3
        kept = [
            int(str(e).split("(")[1].split()[0])
            for r in results
            for e in r["events"]  # type: ignore[union-attr]
        ]
        if kept:
            lines.append(
                f"- Finished replications (of {total}) when a signal came: "
                + ", ".join(str(n) for n in sorted(kept))
            )
        for r in results:
            if not r["ok"]:
                lines.append(f"  - round {r['round']} FAILED: {r['why']} ({r['events']})")
        healed = [damage_round(work, reference, damage) for damage in DAMAGES]
        for h in healed:
            print(json.dumps(h), file=sys.stderr)
        failures += sum(not h["ok"] for h in healed)
        lines.append(
            f"- Damage rounds: {sum(bool(h['ok']) for h in healed)} of {len(healed)} resumed "
            "to tables identical to the uninterrupted run ("
            + "; ".join(str(h["damage"]) for h in healed)
            + ")"
        )
        for h in healed:
            if not h["ok"]:
                lines.append(f"  - {h['damage']} FAILED: {h['why']}")
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
