"""Calibration: in simulated regions where nothing is going on, few claims; planted causes are found.

The simulator is ``tests/calibration.py`` (its own binomial sampler and region model, independent of
assistant/data/stats.py). Fixed seeds keep the fast test deterministic; the slow test measures the
false-claim rate and the power over many regions (the figures in docs/statistics.md).
"""

from __future__ import annotations

import calibration as sim
import pytest

SEEDS = (1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_region_where_nothing_is_going_on_gets_few_claims_and_the_planted_causes_are_found(seed):
    out = sim.evaluate(sim.region(seed))
    # at most 1 in 8 ordinary clinics has any claim for the latest period
    assert out.ordinary_with_claims <= sim.ORDINARY // 8, out
    # a clinic 6.5 points below its target (n = 1 500), one whose rate dropped 16 points in the latest
    # year (n = 1 000) and one 12.5 points from its peers (n = 2 000) are all found
    assert out.target_found and out.drop_found and out.outlier_found, out
    # a clinic with n = 20 gets only insufficient_data, whatever its values
    assert out.small_states == {"insufficient_data"}


def test_the_simulated_region_is_what_the_issue_describes():
    reg = sim.region(1, planted=False)
    clinics = {r["clinic"] for r in reg.rows}
    assert len(clinics) == 24
    assert {r["indicator"] for r in reg.rows} == {i for i, _, _ in sim.INDICATORS} and len(sim.INDICATORS) == 8
    assert {r["period"] for r in reg.rows} == set(sim.PERIODS) and len(sim.PERIODS) == 4
    assert all(270 <= r["denominator"] <= 3300 for r in reg.rows)
    # the spread between clinics is common-cause sized: 1.5 points between them, 1 from year to year,
    # and binomial noise (up to ~3 points at n = 300)
    import statistics

    by = {}
    for r in reg.rows:
        if r["period"] == sim.LATEST:
            by.setdefault(r["indicator"], []).append(r["value"])
    for values in by.values():
        assert 0.010 < statistics.stdev(values) < 0.04


def test_the_binomial_sampler_is_a_binomial():
    import random
    import statistics

    rng = random.Random(7)
    for n, p in ((1000, 0.85), (300, 0.1), (3000, 0.5)):
        draws = [sim.binomial(rng, n, p) for _ in range(4000)]
        assert statistics.fmean(draws) == pytest.approx(n * p, rel=0.01)
        assert statistics.pstdev(draws) == pytest.approx((n * p * (1 - p)) ** 0.5, rel=0.06)


@pytest.mark.slow
def test_false_claim_rate_and_power_over_many_regions():
    result = sim.measure(200)
    assert result["false_claim_rate"] <= 0.05
    assert result["regions_over_one_in_eight"] <= 0.02
    assert result["power_target"] >= 0.75  # the true rate 6.5 points below: its own noise can hide it
    assert result["power_drop"] >= 0.95
    assert result["power_outlier"] >= 0.9
