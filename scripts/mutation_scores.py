"""Summarise ``mutmut results --all true`` per module: mutants, killed, survived, score.

Reads the listing on stdin (lines ``<module>.x_<function>__mutmut_<n>: <status>``) and prints
one row per module and the surviving mutants' names (``mutmut show <name>`` gives the diff)."""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

LINE = re.compile(r"^\s*(?P<name>[\w.]+__mutmut_\d+): (?P<status>.+?)\s*$")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def main() -> None:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in sys.stdin:
        match = LINE.match(line)
        if not match:
            continue
        name, status = match["name"], match["status"]
        module = name.split(".x_")[0].split(".xǁ")[0]
        counts[module][status] += 1
        if status not in KILLED:
            survivors[module].append(f"{name}: {status}")
    print(f"{'module':<32} {'mutants':>7} {'killed':>6} {'other':>6} {'score':>6}")
    for module, c in sorted(counts.items()):
        total = sum(c.values())
        killed = sum(c[s] for s in KILLED)
        print(f"{module:<32} {total:>7} {killed:>6} {total - killed:>6} {killed / total:>6.0%}")
    for module, names in sorted(survivors.items()):
        print(f"\n{module}: not killed")
        for name in names:
            print(f"  {name}")


if __name__ == "__main__":
    main()
