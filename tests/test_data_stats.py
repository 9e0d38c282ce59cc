"""Statistics: Wilson intervals, funnel limits, overdispersion and period-to-period change.

Reference values are computed independently here (root finding on the score statistic, brute-force
binomial sums, numpy percentiles, scipy's contingency test) or taken from Newcombe (1998),
"Two-sided confidence intervals for the single proportion", Stat Med 17:857–872, Table I.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import binom, chi2, chi2_contingency, norm

from assistant.data import stats

Z95 = norm.ppf(0.975)


def score_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Independent Wilson: the p where (p̂ − p)² = z² p(1 − p)/n, found by root finding."""
    ph = k / n

    def f(p: float) -> float:
        return (ph - p) ** 2 - z * z * p * (1 - p) / n

    lo = 0.0 if k == 0 else brentq(f, 1e-15, ph - 1e-12, xtol=1e-14)
    hi = 1.0 if k == n else brentq(f, ph + 1e-12, 1 - 1e-15, xtol=1e-14)
    return lo, hi


# Exact expected values (6 decimals). Closed forms at the edges: 0 of n -> (0, z²/(n + z²)),
# n of n -> (n/(n + z²), 1).
WILSON_EXPECTED = {
    (0, 10): (0.0, 0.277533),
    (10, 10): (0.722467, 1.0),
    (1, 1): (0.206549, 1.0),
    (0, 1): (0.0, 0.793451),
    (5, 10): (0.236593, 0.763407),
    (78, 100): (0.689296, 0.849987),
}


@pytest.mark.parametrize(("k", "n"), sorted(WILSON_EXPECTED))
def test_wilson_exact_values(k, n):
    low, high = stats.wilson(k, n)
    exp_low, exp_high = WILSON_EXPECTED[(k, n)]
    assert low == pytest.approx(exp_low, abs=1e-6)
    assert high == pytest.approx(exp_high, abs=1e-6)
    ref_low, ref_high = score_interval(k, n)
    assert low == pytest.approx(ref_low, abs=1e-9)
    assert high == pytest.approx(ref_high, abs=1e-9)


def test_wilson_edges_are_exact():
    for n in (1, 2, 7, 30, 1204):
        low, high = stats.wilson(0, n)
        assert low == 0.0
        assert high == pytest.approx(Z95**2 / (n + Z95**2), abs=1e-12)
        low, high = stats.wilson(n, n)
        assert high == 1.0
        assert low == pytest.approx(n / (n + Z95**2), abs=1e-12)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe_1998(k, n, low, high):
    got = stats.wilson(k, n)
    assert got[0] == pytest.approx(low, abs=5e-5)
    assert got[1] == pytest.approx(high, abs=5e-5)


def test_wilson_rejects_nonsense():
    with pytest.raises(ValueError):
        stats.wilson(1, 0)
    with pytest.raises(ValueError):
        stats.wilson(5, 4)
    with pytest.raises(ValueError):
        stats.wilson(-1, 4)


def test_wilson_fractional_k_lies_between_neighbours():
    lo_a, hi_a = stats.wilson(78, 100)
    lo_b, hi_b = stats.wilson(79, 100)
    lo, hi = stats.wilson(78.5, 100)
    assert lo_a < lo < lo_b
    assert hi_a < hi < hi_b


# ---------------------------------------------------------------- funnel limits


def brute_binomial_limit(n: int, theta: float, p: float) -> float:
    """Spiegelhalter (2005) Appendix A.1.1 computed by summing the pmf, without ppf/cdf."""
    cum = 0.0
    prev = 0.0
    for r in range(n + 1):
        prev = cum
        cum += binom.pmf(r, n, theta)
        if cum >= p:
            alpha = (cum - p) / (cum - prev)
            return max(0.0, (r - alpha) / n)  # at r_p = 0 the formula dips below 0: a share cannot
    return 1.0


@pytest.mark.parametrize("n", [30, 57, 120, 400, 1204])
@pytest.mark.parametrize("theta", [0.05, 0.5, 0.87])
def test_binomial_limits_match_independent_sum(n, theta):
    for p in (0.001, 0.025, 0.975, 0.999):
        assert stats.binomial_limit(n, theta, p) == pytest.approx(brute_binomial_limit(n, theta, p), abs=1e-9)


@pytest.mark.parametrize("n", [1, 2, 10, 30, 57, 400, 1204, 20_000, 1_000_000])
@pytest.mark.parametrize("theta", [0.0005, 0.03, 0.5, 0.87, 0.9995])
def test_binomial_cdf_and_limits_match_scipy(n, theta):
    mean, sd = n * theta, math.sqrt(n * theta * (1 - theta))
    rs = {0, n, round(mean), max(0, round(mean - 3 * sd)), min(n, round(mean + 3 * sd)), round(mean + sd)}
    for r in sorted(rs):
        assert stats.binomial_cdf(r, n, theta) == pytest.approx(binom.cdf(r, n, theta), abs=1e-9)
    for p in (0.001, 0.025, 0.975, 0.999):
        r_p = int(binom.ppf(p, n, theta))
        f_r = binom.cdf(r_p, n, theta)
        f_below = binom.cdf(r_p - 1, n, theta) if r_p > 0 else 0.0
        expected = min(1.0, max(0.0, (r_p - (f_r - p) / (f_r - f_below)) / n))
        assert stats.binomial_limit(n, theta, p) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 9, 15, 30, 99, 250, 1000])
@pytest.mark.parametrize("q", [0.05, 0.5, 0.95, 0.999])
def test_chi2_ppf_matches_scipy(df, q):
    assert stats.chi2_ppf(q, df) == pytest.approx(chi2.ppf(q, df), rel=1e-9)


def test_funnel_limits_approach_the_normal_approximation():
    theta = 0.87
    for n in (1000, 5000, 20000):
        lim = stats.funnel(n, theta)
        se = math.sqrt(theta * (1 - theta) / n)
        assert not lim.widened
        assert lim.low95 == pytest.approx(theta - Z95 * se, abs=1.5 / n)
        assert lim.high95 == pytest.approx(theta + Z95 * se, abs=1.5 / n)
        z998 = norm.ppf(0.999)
        assert lim.low998 == pytest.approx(theta - z998 * se, abs=2.5 / n)
        assert lim.high998 == pytest.approx(theta + z998 * se, abs=2.5 / n)


def test_funnel_is_a_funnel():
    widths = [stats.funnel(n, 0.6).high95 - stats.funnel(n, 0.6).low95 for n in (30, 100, 300, 1000, 3000)]
    assert widths == sorted(widths, reverse=True)
    lim = stats.funnel(200, 0.6)
    assert lim.low998 < lim.low95 < 0.6 < lim.high95 < lim.high998


def test_funnel_degenerate_pooled():
    assert stats.funnel(100, 1.0).low95 == 1.0
    assert stats.funnel(100, 0.0).high95 == 0.0


# ---------------------------------------------------------------- overdispersion


def independent_phi(ks, ns):
    ks, ns = np.asarray(ks, float), np.asarray(ns, float)
    theta = ks.sum() / ns.sum()
    z = (ks / ns - theta) / np.sqrt(theta * (1 - theta) / ns)
    lo, hi = np.percentile(z, [10, 90])  # numpy's default is linear interpolation
    zw = np.clip(z, lo, hi)
    return theta, float(np.mean(zw**2))


def test_dispersion_detects_overdispersion_and_widens():
    ns = [400, 500, 600, 450, 520, 610, 380, 700]
    rates = [0.30, 0.45, 0.60, 0.52, 0.38, 0.66, 0.41, 0.55]
    ks = [round(r * n) for r, n in zip(rates, ns, strict=True)]
    units = [stats.Unit(str(i), k, n) for i, (k, n) in enumerate(zip(ks, ns, strict=True))]
    d = stats.dispersion(units)
    theta, phi = independent_phi(ks, ns)
    m = len(units)
    assert d.pooled == pytest.approx(theta)
    assert d.phi == pytest.approx(phi)
    assert d.critical == pytest.approx(chi2.ppf(0.95, m - 1))
    assert d.overdispersed and m * phi > chi2.ppf(0.95, m - 1)
    # tau² by the method of moments (Spiegelhalter 2005): (m·phi − (m − 1)) / (Σw − Σw²/Σw)
    w = np.asarray(ns) / (theta * (1 - theta))
    tau2 = (m * phi - (m - 1)) / (w.sum() - (w**2).sum() / w.sum())
    assert d.tau2 == pytest.approx(tau2)
    narrow = stats.funnel(500, d.pooled)
    wide = stats.funnel(500, d.pooled, d)
    assert wide.widened
    assert wide.low95 < narrow.low95 and wide.high95 > narrow.high95
    sd = math.sqrt(theta * (1 - theta) / 500 + tau2)
    assert wide.low95 == pytest.approx(theta - Z95 * sd)
    assert wide.high998 == pytest.approx(theta + norm.ppf(0.999) * sd)


def test_dispersion_not_flagged_for_binomial_noise():
    units = [stats.Unit(str(i), k, 1000) for i, k in enumerate([870, 880, 875, 868, 882, 877, 873, 879])]
    d = stats.dispersion(units)
    assert not d.overdispersed
    assert d.tau2 == 0.0
    assert not stats.funnel(1000, d.pooled, d).widened


def test_winsorise_clamps_to_percentiles():
    values = [-10.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 30.0]
    lo, hi = np.percentile(values, [10, 90])
    assert stats.winsorise(values) == pytest.approx(list(np.clip(values, lo, hi)))


# ---------------------------------------------------------------- change between periods


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"), [(1006, 1150, 939, 1204), (50, 100, 60, 100), (30, 40, 20, 40), (5, 30, 6, 31)]
)
def test_two_proportion_test_matches_chi_square(k1, n1, k2, n2):
    change = stats.two_proportion_test(k1, n1, k2, n2)
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    _, p_value, _, _ = chi2_contingency(table, correction=False)
    assert change.p_value == pytest.approx(p_value, rel=1e-9)
    assert change.significant == (p_value < 0.05)
    assert change.diff == pytest.approx(k2 / n2 - k1 / n1)


def test_two_proportion_test_all_equal_is_not_significant():
    assert not stats.two_proportion_test(10, 10, 20, 20).significant
    assert not stats.two_proportion_test(0, 10, 0, 20).significant


def test_period_key_sorts_naturally():
    periods = ["2025", "2024-Q10", "2024-Q2", "2024", "2023-12", "2024-Q1"]
    assert sorted(periods, key=stats.period_key) == [
        "2023-12",
        "2024",
        "2024-Q1",
        "2024-Q2",
        "2024-Q10",
        "2025",
    ]


def test_flags_never_import_scipy():
    # scipy.stats takes seconds to import; the statistics are computed with the standard library.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.flows import load_catalogue\n"
        "from assistant.data import DEMO_FILE\n"
        "from assistant.data.importer import parse_indicator_file\n"
        "from assistant.data.flags import compute_flags\n"
        "cat = load_catalogue(Path('flows/indicators.toml'))\n"
        "rows = parse_indicator_file(DEMO_FILE, cat).rows\n"
        "assert compute_flags(rows, cat, 'Fysio Norr (påhittad)')\n"
        "print('scipy' in sys.modules)"
    )
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo)
    assert out.stdout.strip() == "False"
