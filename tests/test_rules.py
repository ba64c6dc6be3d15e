"""Unit tests of the model's rules, each on its own."""

from __future__ import annotations

import numpy as np
import pytest

from relsim.domain import (
    CLIENT,
    CUSTOMER,
    PARTNER,
    POLITICAL,
    PRICE,
    PRODUCT,
    SERVICE,
    UNOBSERVED,
)
from relsim.model import choice, defection, ladder
from relsim.model.continuation import annuity
from relsim.model.economics import Ledger, sum_by_firm, to_cents
from relsim.model.population import NEVER, NONE

Z = 4.5


def test_choice_probabilities_equal_the_logit_formula() -> None:
    v = np.array([[0.5, -0.2, 1.0], [2.0, 2.0, -3.0]])
    outside = np.array([0.0, 1.0])
    p = choice.probabilities(v.T, outside)  # firm-major: (F + 1, n)
    for i in range(2):
        expo = np.exp(np.append(v[i], outside[i]))
        np.testing.assert_allclose(p[:, i], expo / expo.sum(), rtol=1e-12)


def test_one_alternative_s_probability_is_its_row_of_the_logit_s_bit_for_bit() -> None:
    rng = np.random.default_rng(5)
    v, outside = rng.normal(0, 2, (9, 40)), rng.normal(0, 1, 40)  # 9 firms: pairwise sums
    firm = rng.integers(0, 9, 40)
    every = choice.probabilities(v, outside)
    assert np.array_equal(choice.chosen_probability(v, outside, firm), every[firm, np.arange(40)])
    assert np.array_equal(choice.chosen_probability(v, outside, 3), every[3])


def test_sampled_choices_have_the_logit_frequencies() -> None:
    n = 200_000
    v = np.tile([[0.3], [-0.5], [0.9]], (1, n))
    outside = np.full(n, -0.2)
    rng = np.random.default_rng(1)
    chosen = choice.sample(v, outside, rng.random(n))
    freq = np.bincount(chosen, minlength=4) / n
    p = choice.probabilities(v[:, :1], outside[:1])[:, 0]
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) < Z * se), (freq, p)


def test_primary_lead_and_winback_terms_shift_only_their_firm() -> None:
    table = np.zeros((1, 6, 3))
    terms = choice.ChoiceTerms(
        habit=np.arange(6.0), satisfaction_weight=2.0, lead_bonus=0.7, winback_penalty=1.5
    )
    v = choice.utilities(
        table,
        terms,
        segment=np.array([0, 0, 0]),
        rung=np.array([2, 0, 0], np.int8),
        primary=np.array([1, NONE, NONE], np.int8),
        satisfaction=np.array([0.75, 0.5, 0.5], np.float32),
        lead=np.array([NONE, 2, NONE], np.int8),
        left=np.array([NONE, NONE, 0], np.int8),
    )
    np.testing.assert_allclose(v[:, 0], [0, 2.0 + 2.0 * 0.25, 0])
    np.testing.assert_allclose(v[:, 1], [0, 0, 0.7])
    np.testing.assert_allclose(v[:, 2], [-1.5, 0, 0])


def test_ladder_climbs_and_falls_one_rung_within_bounds() -> None:
    up = np.array([1.0, 1.0, 0.5, 0.5, 0.5, 0.0])
    down = np.array([0.0, 0.0, 0.5, 0.5, 0.5, 0.5])
    rung = np.array([CUSTOMER, CLIENT, CLIENT, PARTNER, CUSTOMER, PARTNER], np.int8)
    satisfying = np.array([True, True, False, True, False, False])
    u = np.array([0.9, 0.4, 0.4, 0.0, 0.0, 0.1])
    new = ladder.move(rung, satisfying, u, up, down)
    assert new.tolist() == [CLIENT, CLIENT + 1, CUSTOMER, PARTNER, CUSTOMER, PARTNER - 1]
    u_high = np.full(6, 0.99)
    assert ladder.move(rung, satisfying, u_high, up, down).tolist()[1:3] == [CLIENT, CLIENT]


def test_a_new_relationship_starts_as_client_after_two_orders() -> None:
    assert ladder.start_rung(np.array([1, 2, 5])).tolist() == [CUSTOMER, CLIENT, CLIENT]


def test_reasons_follow_the_documented_rule() -> None:
    service = np.array([True, False, False, False, False, False])
    price = np.array([5.0, 1.0, 0.2, 0.0, -1.0, 0.5])
    product = np.array([5.0, 0.5, 0.9, 0.0, -0.5, 0.5])
    political = np.array([0.0, 0.0, 0.0, 0.3, 0.0, 0.0])
    codes, chance = defection.classify(service, price, product, political)
    assert codes.tolist() == [SERVICE, PRICE, PRODUCT, POLITICAL, UNOBSERVED, PRICE]
    assert chance.tolist() == [False, False, False, False, True, False]


def test_a_drift_off_is_service_product_or_unobserved() -> None:
    """A lapse names no alternative: an open problem and dissatisfaction make it service,
    dissatisfaction alone product (the experience fell short), satisfaction nothing seen."""
    service = np.array([True, False, False])
    dissatisfied = np.array([True, True, False])
    codes, chance = defection.drift_off(service, dissatisfied)
    assert codes.tolist() == [SERVICE, PRODUCT, UNOBSERVED]
    assert codes.dtype == np.int8 and not chance.any()


def test_reasons_name_the_first_largest_part_as_an_argmax_would() -> None:
    """The reason is the first of equal largest parts (price, product, political); classify
    writes that argmax as comparisons, checked here against argmax on tie-heavy parts."""
    rng = np.random.default_rng(9)
    n = 5000
    parts = rng.integers(-2, 3, size=(n, 3)).astype(float) / 2  # many ties, zeros, negatives
    service = rng.random(n) < 0.1
    codes, chance = defection.classify(service, *parts.T)
    expected = np.array([PRICE, PRODUCT, POLITICAL])[np.argmax(parts, axis=1)]
    expected_chance = ~service & (parts.max(axis=1) <= 0)
    expected = np.where(expected_chance, UNOBSERVED, expected)
    expected = np.where(service, SERVICE, expected)
    np.testing.assert_array_equal(codes, expected)
    np.testing.assert_array_equal(chance, expected_chance)
    assert codes.dtype == np.int8


def test_geometric_waiting_times_have_mean_one_over_p() -> None:
    rng = np.random.default_rng(3)
    n, p = 100_000, 0.07
    k = defection.waiting_weeks(np.full(n, p), rng.random(n))
    assert k.min() >= 1
    se = np.sqrt((1 - p) / p**2 / n)
    assert abs(k.mean() - 1 / p) < Z * se
    # P(K = 1) = p: the event can happen in the first week
    assert abs(np.mean(k == 1) - p) < Z * np.sqrt(p * (1 - p) / n)


def test_zero_and_certain_hazards() -> None:
    u = np.array([0.0, 0.5, 0.999])
    assert defection.schedule(10, np.zeros(3), u).tolist() == [NEVER] * 3
    assert defection.schedule(10, np.ones(3), u).tolist() == [10] * 3


def test_modified_propensity_stays_a_probability_and_compounds() -> None:
    base = np.array([0.1, 0.5, 0.99], np.float32)
    out = defection.effective_propensity(
        base, np.array([2.0, 1.0, 3.0]), np.array([False, True, True]), 1.0
    )
    np.testing.assert_allclose(out, [1 - 0.9**2, 1 - 0.5**2, 1 - (1 - 0.99) ** 6], rtol=1e-6)
    assert np.all((out >= 0) & (out <= 1))


def test_money_is_rounded_once_to_cents_and_profit_adds_up() -> None:
    assert to_cents(np.array([0.004, 1.236, -0.006, 7.0])).tolist() == [0, 124, -1, 700]
    ledger = Ledger(weeks=2, n_firms=2)
    ledger.book_orders(0, np.array([0, 1, 0]), np.array([1000, 250, 199]), np.array([600, 100, 1]))
    ledger.book(0, "acquisition", np.array([50, 0]))
    assert ledger.revenue[0].tolist() == [1199, 250]
    assert ledger.profit()[0].tolist() == [1199 - 601 - 50, 150]


def test_the_value_after_the_horizon_is_the_geometric_tail() -> None:
    m, b, r, d = 10.0, 0.5, 0.9, 0.99
    brute = sum(m * b * r ** (k + 1) * d**k for k in range(2000))
    assert m * b * annuity(np.array(r), d, 1.0) == pytest.approx(brute)


def test_events_beyond_the_last_representable_week_are_never() -> None:
    """Weeks are int16: a far-off event must become NEVER, not wrap to a negative week."""
    far = defection.schedule(32_000, np.array([1e-6, 1.0]), np.array([0.5, 0.5]))
    assert far.tolist() == [NEVER, 32_000]
    assert far.dtype == np.int16


def test_a_degenerate_beta_is_drawn_as_its_mean() -> None:
    """Hypothesis found that a valid mean of 5e-324 underflowed the beta's parameter to 0."""
    from relsim.model.arrivals import _beta

    rng = np.random.default_rng(0)
    assert _beta(rng, 5e-324, 0.5, 3).tolist() == [5e-324] * 3
    assert _beta(rng, 0.0, 4.0, 2).tolist() == [0.0, 0.0]
    drawn = _beta(rng, 0.2, 4.0, 1000)
    assert drawn.min() > 0 and drawn.max() < 1 and drawn.std() > 0.05


@pytest.mark.parametrize("strategy", ["all_bonds", "relationship_levels"])
def test_no_relationship_hazard_exceeds_the_lapse_bound(
    small_baseline, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lapses are thinned from candidates drawn at a bound hazard; the thinning is exact only
    if no state of a relationship (rung, dissatisfaction, trust, bonds) has a higher hazard.
    Checked every week for every non-contractual relationship in a market with every bond or
    every relationship level in use, trust acting strongly and dissatisfaction weighing."""
    from relsim.model import engine

    data = small_baseline.model_dump()
    data["trust"] = {**data["trust"], "defection_weight": 4.0, "loss": 0.6}
    data["satisfaction"] = {**data["satisfaction"], "dissatisfied_defection_multiplier": 3.0}
    sc = type(small_baseline).model_validate(data)
    original = engine.Market._leave
    checked = {"rows": 0, "worst": 0.0}

    def checking(self, week, exits, candidates):  # type: ignore[no-untyped-def]
        c = self.c
        rows = np.flatnonzero(
            c.alive[: c.n] & (c.primary[: c.n] != NONE) & ~self.p.contractual[c.segment[: c.n]]
        )
        ratio = self._propensity(rows) / self._lapse_bound(rows)
        checked["rows"] += len(rows)
        checked["worst"] = max(checked["worst"], float(ratio.max()))
        return original(self, week, exits, candidates)

    monkeypatch.setattr(engine.Market, "_leave", checking)
    engine.simulate_arrays(sc, sc.strategy(strategy), 3)
    assert checked["rows"] > 100_000
    assert checked["worst"] <= 1.0 + 1e-9, checked
    # the bound is not slack beyond need: someone comes within a factor of 4 of it
    assert checked["worst"] > 0.25, checked


def test_contact_slots_are_the_ids_remainder() -> None:
    from relsim.model.population import slot_of

    ids = np.array([0, 1, 12, 13, 14, 2**31 - 1, 1_000_003], dtype=np.int32)
    for interval in (1, 4, 13, 52, 97):
        np.testing.assert_array_equal(slot_of(ids, interval), ids % interval)


def test_top_positions_take_the_set_a_stable_descending_sort_takes() -> None:
    from relsim.model.population import top_positions

    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        values = rng.integers(0, 6, n).astype(np.float32)  # many ties
        count = int(rng.integers(-1, n + 2))
        expected = np.sort(np.argsort(-values, kind="stable")[: max(count, 0)])
        np.testing.assert_array_equal(np.sort(top_positions(values, count)), expected)


def test_scheduled_weeks_are_now_plus_the_geometric_wait_capped_at_never() -> None:
    rng = np.random.default_rng(11)
    p = np.concatenate([rng.random(5000) ** 4, [0.0, 0.0, 1.0, 1.0, 1e-12]]).astype(np.float32)
    u = np.concatenate([rng.random(5000), [0.0, 0.5, 0.0, 0.999, 0.3]]).astype(np.float32)
    for now in (-5200, 0, 17, 32000):
        expected = np.minimum(now + defection.waiting_weeks(p, u) - 1, NEVER)
        np.testing.assert_array_equal(defection.schedule(now, p, u), expected)
    assert defection.schedule(0, p, u)[-5:-3].tolist() == [NEVER, NEVER]  # p = 0: never


def test_rows_added_after_compaction_start_from_the_fill_values() -> None:
    """Compaction resets the rows it frees, so added customers never inherit a departed
    customer's state (add does not reset them again)."""
    from relsim.model.population import BOND_FIELDS, SCALAR_FIELDS, Customers

    c = Customers(n_firms=3, capacity=64)
    for name in BOND_FIELDS:
        c.use(name)
    rows = c.add(50)
    for name in (*SCALAR_FIELDS, *c.firm_fields):
        if name != "id":
            getattr(c, name)[rows] = 1  # every field away from its fill value
    c.remove(np.arange(0, 50, 2))
    c.compact_if_worthwhile(0.2)
    assert c.n == 25
    fresh = c.add(30)  # reuses the 25 freed rows and 5 never used
    for name, (dtype, fill) in {**SCALAR_FIELDS, **c.firm_fields}.items():
        if name != "id":
            values = getattr(c, name)[fresh]
            assert (values == np.asarray(fill, dtype=dtype)).all(), name
    assert c.alive[fresh].all() and not c.alive[c.n :].any()


def test_orders_are_grouped_as_purchase_documents_them() -> None:
    """``purchases._grouped`` builds the orders' group key by int8 arithmetic; checked against
    the key written plainly (np.where) and a stable sort on it, with the six groups' edges."""
    from relsim.model.purchases import _grouped

    rng = np.random.default_rng(5)
    n = 5_000
    b = np.sort(rng.choice(20_000, n, replace=False))
    firm = rng.integers(0, 3, n).astype(np.intp)
    primary = rng.integers(NONE, 3, n).astype(np.int8)
    group = np.where(primary == firm, 0, np.where(primary == NONE, 1, 2))
    key = np.where(firm == 0, group, 5 - group)
    order = np.argsort(key, kind="stable")
    got_b, got_firm, got_primary, edge = _grouped(b, firm, primary)
    np.testing.assert_array_equal(got_b, b[order])
    np.testing.assert_array_equal(got_firm, firm[order])
    np.testing.assert_array_equal(got_primary, primary[order])
    np.testing.assert_array_equal(edge, np.cumsum(np.bincount(key, minlength=6)))
    # the focal firm's orders come first: with primary, new, elsewhere
    assert (got_firm[: edge[2]] == 0).all() and (got_firm[edge[2] :] != 0).all()


@pytest.mark.parametrize("n_firms", [1, 2, 3, 7, 8, 12])
def test_logit_sums_are_numpy_s_on_either_layout(n_firms: int) -> None:
    """The choice's running totals and the taste premium's totals by rows are the numbers of
    numpy's sums (which add fewer than 8 terms one after another, more pairwise along a
    contiguous axis), bit for bit, for utilities laid out by firm or by customer."""
    rng = np.random.default_rng(n_firms)
    n = 5_000
    outside = rng.normal(size=n)
    uniforms = rng.random(n)
    by_firm = rng.normal(size=(n_firms, n)) * 4
    for v in (by_firm, np.asfortranarray(by_firm)):
        e = np.exp(v.clip(-choice.UTILITY_BOUND, choice.UTILITY_BOUND))
        e_out = np.exp(outside.clip(-choice.UTILITY_BOUND, choice.UTILITY_BOUND))
        threshold = uniforms * (e.sum(axis=0) + e_out)
        expected = np.zeros(n, dtype=np.int8)
        cumulative = np.zeros(n)
        for weights in e:
            cumulative += weights
            expected += cumulative < threshold
        assert np.array_equal(choice.sample(v, outside, uniforms), expected)
        gap = (v - outside).clip(-choice.UTILITY_BOUND, choice.UTILITY_BOUND)
        total = np.exp(gap).sum(axis=0)
        inclusive = np.log1p(total)
        premium = np.maximum(inclusive / -np.expm1(-inclusive) - gap[0], 0.0)
        assert np.array_equal(choice.taste_premium(v, outside), premium)


@pytest.mark.parametrize("n_orders", [10, 4_095, 4_096, 50_001])
def test_sums_by_firm_in_lanes_are_bincount_s(n_orders: int) -> None:
    rng = np.random.default_rng(n_orders)
    for n_firms in (1, 3, 25):
        firm = np.sort(rng.integers(0, n_firms, n_orders))  # grouped, as a week's orders are
        cents = np.rint(rng.random(n_orders) * 1e7)
        for order in (np.arange(n_orders), rng.permutation(n_orders)):
            f, x = firm.take(order), cents.take(order)
            expected = np.bincount(f, weights=x, minlength=n_firms).astype(np.int64)
            assert np.array_equal(sum_by_firm(f, x, n_firms), expected)


@pytest.mark.parametrize("n_firms", [1, 3, 7, 8, 12])
def test_the_taste_premium_of_gathered_columns_is_that_of_fancy_indexing(n_firms: int) -> None:
    rng = np.random.default_rng(n_firms)
    v = rng.normal(size=(n_firms, 4_000)) * 4
    outside = rng.normal(size=4_000)
    at = np.sort(rng.choice(4_000, 1_500, replace=False))
    expected = choice.taste_premium(v[:, at], outside.take(at))
    assert np.array_equal(choice.taste_premium(choice.columns(v, at), outside.take(at)), expected)
