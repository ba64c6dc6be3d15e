"""Presets: the canonical bonding strategies as starting points for a strategy.

A preset is a partial strategy (plain data, the same keys as a scenario file). A strategy
names one and overrides any of its values; ``relsim presets`` prints them. Combinations join
their parts: instruments and relationship levels are merged (the higher level wins), staff
counts are added (each part needs its own workload covered).

The staff counts are sized for the default market of about 10 000 customers, of whom the focal
firm serves about 4 000 (``docs/model.md`` shows the arithmetic); scale them with the market.
"""

from __future__ import annotations

import copy
from typing import Any, Literal, get_args

from relsim.domain import LEVELS

PresetName = Literal[
    "transactional",
    "financial",
    "social",
    "structural",
    "financial+social",
    "financial+structural",
    "social+structural",
    "financial+social+structural",
]
"""Every preset name a scenario accepts (a strategy's or a rival firm's ``preset``)."""
PARTS: tuple[str, ...] = ("financial", "social", "structural")

_PARTS: dict[str, dict[str, Any]] = {
    # level 1: price incentives -- a points program and a discount for regulars
    "financial": {
        "bonds": {
            "points": {
                "earn_rate": 1.0,
                "threshold": 500.0,
                "reward_value": 25.0,
                "breakage": 0.2,
                "fixed_cost_per_week": 600.0,
                "regular_discount": 0.0,
            }
        },
    },
    # level 2: personal contact (calls, outreach, a named manager for the best customers)
    # and a club, delivered by staff
    "social": {
        "levels": {
            "default": "reactive",
            "rungs": {
                "client": "accountable",
                "supporter": "accountable",
                "advocate": "proactive",
                "partner": "proactive",
            },
        },
        "key_accounts": {"top_share": 0.02, "accounts_per_manager": 25, "level": "partnership"},
        "staffing": {
            "desk": {"count": 0.5},
            "contact_centre": {"count": 8.5},
            "managers": {"count": 3.0},
            "senior_manager": {"count": 0.25},
        },
        "bonds": {
            "club": {
                "min_rung": "supporter",
                "join_probability": 0.5,
                "status_utility": 0.3,
                "events_per_year": 4.0,
                "event_social_gain": 0.1,
                "cost_per_member_per_week": 0.5,
                "fixed_cost_per_week": 300.0,
            }
        },
    },
    # level 3: structural ties for the few customers they pay for, with key-account managers
    "structural": {
        "levels": {"default": "reactive"},
        "key_accounts": {"top_share": 0.02, "accounts_per_manager": 25, "level": "partnership"},
        "staffing": {
            "desk": {"count": 0.5},
            "managers": {"count": 3.0},
            "senior_manager": {"count": 0.25},
        },
        "bonds": {
            "structural": {
                "min_rung": "supporter",
                "top_share": 0.03,
                "setup_cost": 1500.0,
                "setup_manager_hours": 6.0,
                "running_cost_per_week": 8.0,
            }
        },
    },
}


def preset_parts(name: str) -> tuple[str, ...]:
    """The canonical parts of a preset name ('transactional' has none)."""
    if name == "transactional":
        return ()
    parts = tuple(name.split("+"))
    unknown = [p for p in parts if p not in PARTS]
    if unknown or len(set(parts)) != len(parts):
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
    return tuple(p for p in PARTS if p in parts)


def preset_names() -> list[str]:
    """Every preset: the four canonical strategies and the combinations (the names the
    scenario model accepts)."""
    return list(get_args(PresetName))


def preset(name: str) -> dict[str, Any]:
    """The partial strategy of preset ``name`` (a fresh copy)."""
    out: dict[str, Any] = {}
    for part in preset_parts(name):
        out = _combine(out, _PARTS[part])
    return out


def apply_preset(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (a strategy's keys as written) over the preset's values. An unknown preset
    name is left for validation to report."""
    try:
        base = preset(name)
    except ValueError:
        return given
    return _override(base, given)


def with_preset(data: object, keep: set[str] | None = None) -> object:
    """The keys a scenario gives over its preset's values; with ``keep``, preset values of
    other keys are dropped (the keys the scenario itself gives always stay)."""
    if not (isinstance(data, dict) and isinstance(data.get("preset"), str)):
        return data
    merged = apply_preset(data["preset"], data)
    if keep is None:
        return merged
    return {k: v for k, v in merged.items() if k in keep or k in data}


def _override(base: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: ``given`` wins; nested mappings merge; ``None`` removes a preset's value."""
    out = copy.deepcopy(base)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _override(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Join two presets' parts: staff counts add, the higher level wins, the rest merges."""
    out = copy.deepcopy(a)
    for key, value in b.items():
        if key == "staffing" and key in out:
            staff = out[key]
            for pool, spec in value.items():
                count = staff.get(pool, {}).get("count", 0.0) + spec.get("count", 0.0)
                staff[pool] = {**staff.get(pool, {}), **spec, "count": count}
        elif key == "levels" and key in out:
            out[key] = _higher_levels(out[key], value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _combine(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _higher_levels(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    def higher(x: str, y: str) -> str:
        return x if LEVELS.index(x) >= LEVELS.index(y) else y

    out = {"default": higher(a.get("default", "basic"), b.get("default", "basic"))}
    rungs = dict(a.get("rungs", {}))
    for rung, level in b.get("rungs", {}).items():
        rungs[rung] = higher(rungs.get(rung, out["default"]), level)
    if rungs:
        out["rungs"] = {r: higher(lv, out["default"]) for r, lv in rungs.items()}
    return out
