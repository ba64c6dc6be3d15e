#!/usr/bin/env bash
# Mutation testing of the modules that decide results, with mutmut 3 configured in
# pyproject.toml ([tool.mutmut]). Slow (minutes to an hour): run by hand, never in CI.
# Scores and every surviving mutant, classified, are in docs/testing.md.
#
#   pip install -e ".[dev]"                       # or ".[test,mutation]"
#   scripts/mutation.sh                           # every configured module
#   scripts/mutation.sh 'relsim.statistics*'   # one module (mutant-name glob)
#   scripts/mutation.sh --fresh ...               # forget earlier results first
#
# mutmut copies src/, tests/ and scenarios/ to mutants/ (git-ignored), records which of the
# selected tests reach each function, then runs, for each mutant, only those tests. It keeps
# its results in mutants/ between runs, so a second run only retries what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
MUTMUT=${MUTMUT:-mutmut}
if [[ "${1:-}" == "--fresh" ]]; then
    rm -rf mutants
    shift
fi
# one child: the machine is shared and the tests are numpy-heavy; nice keeps others responsive
nice -n 10 "$MUTMUT" run --max-children "${MUTATION_CHILDREN:-1}" "$@" || true
"$MUTMUT" results --all true | python3 scripts/mutation_scores.py
