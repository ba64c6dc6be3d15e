"""The command line, exercised through subprocesses as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from relsim import load_scenario
from tests.conftest import SCENARIOS, relsim

SMOKE = SCENARIOS / "ci-smoke.yaml"

FAST = [
    "--replications",
    "3",
    "--workers",
    "1",
    "--set",
    "market.customers=800",
    "--set",
    "horizon.weeks=20",
    "--set",
    "horizon.warmup_weeks=10",
]


@pytest.mark.slow
@pytest.mark.subprocess
def test_run_writes_results_and_prints_the_comparison(tmp_path: Path) -> None:
    out = tmp_path / "res"
    result = relsim("run", str(SCENARIOS / "baseline.yaml"), "--out", str(out), *FAST)
    assert result.returncode == 0, result.stderr
    assert "transactional" in result.stdout and "(baseline)" in result.stdout
    assert "P(best)" in result.stdout and "could be best" in result.stdout
    assert str(out) in result.stderr
    # the slow part after the tables is never silent: each phase says so as it starts
    assert "drawing the plots" in result.stderr and "writing the report" in result.stderr
    table = pd.read_parquet(out / "replications.parquet")
    # where the value comes from: within the horizon, after it, total, per strategy
    parts = result.stdout.split("where the value comes from")[1].split("means over")[0]
    assert parts.splitlines()[1].split() == ["within", "horizon", "after", "horizon", "total"]
    means = table.groupby("strategy")[["npv", "residual_value", "npv_with_residual"]].mean()
    table_lines = parts.split("\nThe recommendation")[0].split("\nWithin the horizon")[0]
    rows = {
        line.split()[0]: line.split()[1:]
        for line in table_lines.splitlines()[2:]
        if line[:1].strip()  # a strategy's means; its differences and CIs are indented
    }
    for strategy, row in means.iterrows():
        assert rows[strategy] == [f"{v:,.0f}" for v in row], strategy
    assert ("holds within the horizon too" in parts) != ("Within the horizon alone" in parts)
    strategies = [s.name for s in load_scenario(SCENARIOS / "baseline.yaml").strategies]
    assert list(dict.fromkeys(table["strategy"])) == strategies
    assert len(table) == len(strategies) * 3
    weekly = pd.read_parquet(out / "weekly.parquet")
    assert len(weekly) == len(strategies) * 3 * 20 * 3  # strategies x replications x weeks x firms
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_per_strategy"] == 3
    assert manifest["root_seed"] == 2026 and len(manifest["scenario_hash"]) == 64
    assert (out / "scenario.resolved.yaml").exists()


@pytest.mark.slow
@pytest.mark.subprocess
def test_json_output_is_machine_readable(tmp_path: Path) -> None:
    result = relsim(
        "run",
        str(SCENARIOS / "baseline.yaml"),
        "--json",
        "--out",
        str(tmp_path),
        "--strategy",
        "transactional",
        "--strategy",
        "financial",
        *FAST,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [row["strategy"] for row in data["compare"]] == ["transactional", "financial"]
    assert {"npv_difference", "residual_value_difference_low"} <= set(data["compare"][1])
    assert {row["metric"] for row in data["summary"]} >= {"npv", "profit"}


@pytest.mark.slow
@pytest.mark.subprocess
def test_an_existing_results_folder_is_never_overwritten(tmp_path: Path) -> None:
    args = [
        "run",
        str(SCENARIOS / "baseline.yaml"),
        "--out",
        str(tmp_path),
        "--strategy",
        "transactional",
        *FAST,
    ]
    assert relsim(*args).returncode == 0
    first = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "my-notes.txt").write_text("mine")
    (tmp_path / "parts" / "transactional" / "r00099").mkdir(parents=True)  # a stale part
    again = relsim(*args)
    assert again.returncode == 2 and "already holds complete results" in again.stderr
    assert "--force" in again.stderr
    assert json.loads((tmp_path / "manifest.json").read_text()) == first
    both = relsim(*args, "--resume", str(tmp_path), "--force")
    assert both.returncode == 2 and "choose one" in both.stderr
    forced = relsim(*args, "--force", "--seed", "7")
    assert forced.returncode == 0, forced.stderr
    assert json.loads((tmp_path / "manifest.json").read_text())["root_seed"] == 7
    assert not (tmp_path / "parts" / "transactional" / "r00099").exists()
    assert (tmp_path / "my-notes.txt").read_text() == "mine"  # only relsim's own files go


@pytest.mark.subprocess
def test_invalid_scenario_exits_65_with_a_located_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsegmnets: []\n")
    result = relsim("validate", str(bad))
    assert result.returncode == 65
    assert f"{bad}:2:1: segmnets: unknown key 'segmnets' (did you mean 'segments'?)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.subprocess
def test_missing_file_exits_66(tmp_path: Path) -> None:
    result = relsim("run", str(tmp_path / "nope.yaml"))
    assert result.returncode == 66
    assert "no such file" in result.stderr


@pytest.mark.subprocess
def test_unknown_strategy_is_a_clear_error(tmp_path: Path) -> None:
    result = relsim(
        "run", str(SCENARIOS / "baseline.yaml"), "--strategy", "loyalty", "--out", str(tmp_path)
    )
    assert result.returncode == 1
    assert "unknown strategy 'loyalty'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.subprocess
def test_usage_error_exits_2() -> None:
    assert relsim("frobnicate").returncode == 2
    assert relsim("run", "--help").stdout.count("example") == 1


@pytest.mark.slow
@pytest.mark.subprocess
def test_run_warns_when_week_0_is_not_a_steady_state(tmp_path: Path) -> None:
    """Initial shares far from the market's own equilibrium (focal 0.7 where it settles near
    0.4): the warm-up's last year still trends about -0.06 a year, so the user is warned."""
    common = [
        "--strategy",
        "transactional",
        "--set",
        "horizon.weeks=4",
        "--replications",
        "1",
        "--workers",
        "1",
    ]
    far = relsim(
        "run",
        str(SCENARIOS / "baseline.yaml"),
        *common,
        "--set",
        "firms.0.initial_share=0.7",
        "--set",
        "firms.1.initial_share=0.1",
        "--set",
        "firms.2.initial_share=0.2",
        "--set",
        "horizon.warmup_weeks=52",
        "--out",
        str(tmp_path / "far"),
    )
    assert far.returncode == 0, far.stderr
    assert "week 0 is not a steady state" in far.stderr
    near = relsim("run", str(SCENARIOS / "baseline.yaml"), *common, "--out", str(tmp_path / "n"))
    assert near.returncode == 0 and "steady state" not in near.stderr


@pytest.mark.slow
@pytest.mark.subprocess
def test_export_writes_every_table_as_csv(tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert (
        relsim(
            "run",
            str(SCENARIOS / "baseline.yaml"),
            "--out",
            str(out),
            "--strategy",
            "transactional",
            *FAST,
        ).returncode
        == 0
    )
    result = relsim("export", str(out))
    assert result.returncode == 0, result.stderr
    assert "writing weekly.csv" in result.stderr  # each table says so as it starts
    for name in ("replications", "weekly", "ladder", "defections"):
        csv = pd.read_csv(out / "csv" / f"{name}.csv")
        assert len(csv) == len(pd.read_parquet(out / f"{name}.parquet"))
    assert relsim("export", str(tmp_path / "nothing")).returncode == 66


GOOD = """\
# yaml-language-server: $schema=scenario.schema.json
name: shop
segments:
  - name: all
    share: 1.0
firms:
  - name: focal
    initial_share: 0.6
  - name: rival
    initial_share: 0.4
strategies:
  - name: a
  - name: b
baseline: a
"""

MISTAKES = [
    # (what, text, exit code, expected fragments of the message)
    (
        "wrong type",
        GOOD.replace("share: 1.0", "share: lots"),
        65,
        ["s.yaml:5:5: segments[0].share:", "'lots'"],
    ),
    (
        "out of range",
        GOOD.replace("share: 1.0", "share: 1.7"),
        65,
        ["segments[0].share:", "less than or equal to 1", "1.7"],
    ),
    (
        "negative price",
        GOOD.replace("    initial_share: 0.6", "    initial_share: 0.6\n    price_index: -2"),
        65,
        ["firms[0].price_index:"],
    ),
    (
        "shares do not sum to 1",
        GOOD.replace("initial_share: 0.4", "initial_share: 0.3"),
        65,
        ["initial_share must sum to 1, got 0.9"],
    ),
    (
        "unknown baseline",
        GOOD.replace("baseline: a", "baseline: c"),
        65,
        ["baseline 'c' is not one of the strategies"],
    ),
    (
        "duplicate strategy names",
        GOOD.replace("  - name: b", "  - name: a"),
        65,
        ["strategies: name 'a' is used twice"],
    ),
    (
        "unknown key",
        GOOD.replace("baseline: a", "baseline: a\nhorizn: {weeks: 5}"),
        65,
        ["s.yaml:15:1: horizn: unknown key 'horizn' (did you mean 'horizon'?)"],
    ),
    (
        "YAML syntax error",
        GOOD.replace("share: 1.0", "share: [1.0"),
        65,
        ["s.yaml:", "YAML syntax error"],
    ),
    ("empty file", "", 65, ["s.yaml: the file is empty"]),
    (
        "churn stated twice, differently",
        GOOD.replace(
            "    share: 1.0",
            "    share: 1.0\n    annual_churn_percent: 20\n    defection_propensity: {mean: 0.3}",
        ),
        65,
        ["s.yaml:4:5: segments[0]:", "give `annual_churn_percent` or `defection_propensity.mean`"],
    ),
    (
        "churn below market exits",
        GOOD.replace("    share: 1.0", "    share: 1.0\n    annual_churn_percent: 1"),
        65,
        ["segments[0]:", "below the 5% a year who leave the market"],
    ),
    (
        "tag",
        GOOD.replace("name: shop", "name: !!python/object:os.system x"),
        65,
        ["YAML tags are not allowed"],
    ),
]


@pytest.mark.subprocess
@pytest.mark.parametrize("what, text, code, fragments", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_class_of_mistake_gets_a_located_message_and_its_exit_code(
    tmp_path: Path, what: str, text: str, code: int, fragments: list[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    result = relsim("validate", str(path))
    assert result.returncode == code, (what, result.stderr)
    for fragment in fragments:
        assert fragment in result.stderr, (what, result.stderr)
    assert "Traceback" not in result.stderr
    debug = relsim("validate", str(path), "--debug")
    assert debug.returncode == code


@pytest.mark.slow
@pytest.mark.subprocess
def test_debug_shows_the_traceback_of_a_runtime_failure(tmp_path: Path) -> None:
    plain = relsim(
        "run",
        str(SCENARIOS / "baseline.yaml"),
        "--strategy",
        "loyalty",
        "--out",
        str(tmp_path / "a"),
    )
    assert "Traceback" not in plain.stderr and "--debug" in plain.stderr
    debug = relsim(
        "run",
        str(SCENARIOS / "baseline.yaml"),
        "--strategy",
        "loyalty",
        "--out",
        str(tmp_path / "b"),
        "--debug",
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr


@pytest.mark.subprocess
def test_presets_lists_every_preset_with_its_parameters() -> None:
    from relsim.scenario.presets import preset, preset_names

    result = relsim("presets", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == preset_names()
    assert data["financial"] == preset("financial")
    text = relsim("presets", "social+structural").stdout
    assert "# preset: social+structural" in text and "structural:" in text and "club:" in text
    wrong = relsim("presets", "loyalty")
    assert wrong.returncode == 2 and "unknown preset 'loyalty'" in wrong.stderr


@pytest.mark.slow
@pytest.mark.subprocess
def test_an_unregistered_instrument_or_plugin_is_a_clear_usage_error(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    text = (SCENARIOS / "ci-smoke.yaml").read_text()
    scenario.write_text(text.replace("choice_rule: logit", "") + "\nchoice_rule: greedy\n")
    result = relsim("run", str(scenario), "--replications", "2", "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "unknown choice rule 'greedy'" in result.stderr and "--plugin" in result.stderr
    result = relsim("run", str(scenario), "--plugin", "no_such_module_here")
    assert result.returncode == 2 and "--plugin no_such_module_here" in result.stderr


@pytest.mark.slow
@pytest.mark.subprocess
def test_absurd_sizes_are_refused_up_front_with_what_they_would_need(tmp_path: Path) -> None:
    """10^9 customers or 10^6 weeks: a located error naming the memory or the years; a market
    the machine cannot hold with the workers asked for: refused before any folder is written,
    with the estimate."""
    from relsim.experiment import limits

    for change, fragment in (
        ("market.customers=1000000000", "would need about 400 GB of memory"),
        ("horizon.weeks=1000000", "1,000,000 weeks are 19,231 years"),
    ):
        result = relsim("run", str(SMOKE), "--set", change, "--out", str(tmp_path / "a"))
        assert result.returncode == 65, result.stderr
        assert fragment in result.stderr and "Traceback" not in result.stderr
    # 50 million customers on 8 workers at once: hundreds of GB
    big = load_scenario(SMOKE, overrides={"market.customers": 50_000_000})
    needed = limits.estimate(big).bytes_per_replication * 8
    available = limits.available_memory()
    if available is None or needed < available:
        pytest.skip("this machine could hold it")
    out = tmp_path / "big"
    result = relsim(
        "run", str(SMOKE), "--set", "market.customers=50000000", "--workers", "8", "--out", str(out)
    )
    assert result.returncode == 1, result.stderr
    assert "GB per replication" in result.stderr and "memory is available" in result.stderr
    assert not out.exists()


def test_the_memory_check_refuses_only_what_does_not_fit() -> None:
    from relsim.experiment import limits

    sc = load_scenario(SMOKE)
    need = limits.estimate(sc).bytes_per_replication
    assert need == limits.estimate(sc).customers_ever * limits.BYTES_PER_CUSTOMER
    assert limits.estimate(sc).customers_ever >= sc.market.customers
    # ten runs on two workers: passes of at most five markets (a pass per worker), each
    # holding its markets beside one run's memory
    task = limits.bytes_per_task(sc, runs=10, workers=2)
    assert task == 6 * need
    limits.check_memory(sc, workers=2, runs=10, available=15 * need)
    with pytest.raises(limits.ResourceLimitError, match="fewer --workers"):
        limits.check_memory(sc, workers=2, runs=10, available=2 * task)
    # one run at a time needs one replication's memory however many workers are asked for
    limits.check_memory(sc, workers=8, runs=1, available=2 * need)
