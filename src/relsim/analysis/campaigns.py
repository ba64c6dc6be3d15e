"""What the focal firm's campaigns did, and what they added over a random-target control.

For every strategy with campaigns (``strategy.crm``): contacts, offers taken up and customers
won back a year, what the database and the campaigns cost a year (means over replications),
and -- when the experiment holds a *control*, a strategy whose campaigns all aim at random --
the paired difference from it (same replications: common random numbers) in focal customers
at the end and in the decision metric, with 95% t-intervals (one comparison each, not
adjusted for several). This is the uplift a CRM vendor would claim, measured honestly: over
random contacts of the same budget, not over doing nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from relsim.scenario import Scenario
from relsim.statistics import mean_interval
from relsim.units import WEEKS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    from relsim.experiment import Experiment

RECORDS = ("campaign_contacts", "campaign_responses", "campaign_won_back")
"""The weekly records summed per year."""


def control_strategy(scenario: Scenario, names: list[str]) -> str | None:
    """The first of ``names`` whose campaigns all aim at random (None without one)."""
    for name in names:
        crm = scenario.strategy(name).crm
        if crm is not None and crm.campaigns and all(k.target == "random" for k in crm.campaigns):
            return name
    return None


def campaign_results(scenario: Scenario, experiment: Experiment) -> pd.DataFrame:
    """One row per strategy with campaigns (module docstring); empty when none has any."""
    names = [n for n in experiment.strategies if scenario.strategy(n).crm is not None]
    weekly = experiment.weekly
    if not names or "campaign_contacts" not in weekly.columns:
        return pd.DataFrame()
    focal = weekly[weekly["firm"] == experiment.focal]
    years = focal["week"].nunique() / WEEKS_PER_YEAR
    per_year = focal.groupby("strategy", observed=True)[list(RECORDS)].sum()
    per_year = per_year.div(years * experiment.replications["replication"].nunique())
    table = experiment.replications
    costs = table.groupby("strategy", observed=True)[["database", "campaigns"]].mean() / years
    control = control_strategy(scenario, names)
    customers = experiment.values("customers_end")
    metric = experiment.values()
    rows = []
    for name in names:
        row = {"strategy": name, **per_year.loc[name].to_dict(), **costs.loc[name].to_dict()}
        if control is not None and name != control:
            for key, values in (("customers_end", customers), ("metric", metric)):
                interval = mean_interval(values[name] - values[control])
                row[f"{key}_vs_control"] = interval.mean
                row[f"{key}_vs_control_low"] = interval.low
                row[f"{key}_vs_control_high"] = interval.high
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["control"] = control
    return out
