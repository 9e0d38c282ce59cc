"""Statistics: Wilson intervals, funnel limits, overdispersion, variation between periods, control charts.

Reference values are computed independently here (root finding on the score statistic, brute-force
binomial sums, numpy percentiles and simulations, scipy's integration) or taken from Newcombe (1998),
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
from scipy.stats import binom, chi2, norm

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


def test_winsor_consistency_is_the_normal_expectation():
    # E[W²] for W = Z clamped to its 10 % / 90 % quantiles, by numerical integration (scipy).
    from scipy.integrate import quad

    a = norm.ppf(0.9)
    inside, _ = quad(lambda z: z * z * norm.pdf(z), -a, a)
    assert stats.WINSOR_CONSISTENCY == pytest.approx(inside + 0.2 * a * a, rel=1e-9)
    # ... so the corrected phi of many standard-normal z-scores is about 1
    rng = np.random.default_rng(5)
    z = rng.standard_normal(200_000)
    lo, hi = np.percentile(z, [10, 90])
    assert np.mean(np.clip(z, lo, hi) ** 2) / stats.WINSOR_CONSISTENCY == pytest.approx(1.0, abs=0.01)


def test_dispersion_phi_tau2_and_the_additive_limits():
    ns = [400, 500, 600, 450, 520, 610, 380, 700]
    rates = [0.30, 0.45, 0.60, 0.52, 0.38, 0.66, 0.41, 0.55]
    ks = [round(r * n) for r, n in zip(rates, ns, strict=True)]
    units = [stats.Unit(str(i), k, n) for i, (k, n) in enumerate(zip(ks, ns, strict=True))]
    d = stats.dispersion(units)
    theta, phi = independent_phi(ks, ns)
    m = len(units)
    assert d.pooled == pytest.approx(theta)
    assert d.phi == pytest.approx(phi / stats.WINSOR_CONSISTENCY)
    assert d.critical == pytest.approx(chi2.ppf(0.95, m - 1))
    assert d.overdispersed and d.excluded == 0
    # tau² by DerSimonian–Laird over all units (none is far outside): Q around the weighted mean
    p = np.asarray(ks) / np.asarray(ns)
    w = np.asarray(ns) / (theta * (1 - theta))
    centre = (w * p).sum() / w.sum()
    q = (w * (p - centre) ** 2).sum()
    tau2 = (q - (m - 1)) / (w.sum() - (w**2).sum() / w.sum())
    assert d.tau2 == pytest.approx(tau2)
    narrow = stats.funnel(500, d.pooled)
    wide = stats.funnel(500, d.pooled, d)
    assert wide.widened and not narrow.widened
    assert wide.low95 < narrow.low95 and wide.high95 > narrow.high95
    nn = np.asarray(ns, float)
    var_centre = (((nn / nn.sum()) ** 2) * (theta * (1 - theta) / nn + tau2)).sum()
    sd = math.sqrt(theta * (1 - theta) / 500 + tau2 + var_centre)
    assert wide.low95 == pytest.approx(theta - Z95 * sd)
    assert wide.high998 == pytest.approx(theta + norm.ppf(0.999) * sd)
    assert wide.high_clear == pytest.approx(theta + norm.ppf(0.99995) * sd)


def test_dispersion_not_widened_for_binomial_noise():
    units = [stats.Unit(str(i), k, 1000) for i, k in enumerate([870, 880, 875, 868, 882, 877, 873, 879])]
    d = stats.dispersion(units)
    assert not d.overdispersed
    assert d.tau2 == 0.0
    assert not stats.funnel(1000, d.pooled, d).widened


def test_a_clinic_far_outside_neither_widens_the_limits_nor_hides():
    rng = np.random.default_rng(11)
    ns = rng.integers(300, 3000, size=12)
    ks = [rng.binomial(n, 0.6 + rng.normal(0, 0.015)) for n in ns]
    units = [stats.Unit(str(i), k, n) for i, (k, n) in enumerate(zip(ks, ns, strict=True))]
    clean = stats.dispersion(units)
    with_outlier = stats.dispersion(units + [stats.Unit("far", 0.45 * 2000, 2000)])
    assert with_outlier.excluded == 1
    # its own limits stay narrow enough to show it: outside the 99.99 % limits
    assert with_outlier.tau2 == pytest.approx(clean.tau2, rel=0.35)
    lim = stats.funnel(2000, with_outlier.pooled, with_outlier)
    assert 0.45 < lim.low_clear
    # the plain DerSimonian–Laird estimate with the outlier in it would have hidden it
    p = np.array([u.p for u in units] + [0.45])
    nn = np.array([u.n for u in units] + [2000], float)
    theta = (p * nn).sum() / nn.sum()
    w = nn / (theta * (1 - theta))
    q = (w * (p - (w * p).sum() / w.sum()) ** 2).sum()
    naive = (q - (len(p) - 1)) / (w.sum() - (w**2).sum() / w.sum())
    assert naive > 4 * with_outlier.tau2


def test_limits_with_an_additive_variance_level_off():
    widths = [stats.limits(n, 0.8, 1e-4).high998 - stats.limits(n, 0.8, 1e-4).low998 for n in (100, 1e4, 1e6, 1e8)]
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] == pytest.approx(2 * norm.ppf(0.999) * 0.01, rel=1e-3)


def test_winsorise_clamps_to_percentiles():
    values = [-10.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 30.0]
    lo, hi = np.percentile(values, [10, 90])
    assert stats.winsorise(values) == pytest.approx(list(np.clip(values, lo, hi)))


# ---------------------------------------------------------------- variation between periods


def simulated_series(rng, clinics, periods, sd_year, n_range=(300, 3000), level=0.7):
    out = []
    for _ in range(clinics):
        base = level + rng.normal(0, 0.015)
        n = int(rng.integers(*n_range))
        out.append(
            [stats.Point(str(2000 + t), rng.binomial(n, base + rng.normal(0, sd_year)), n) for t in range(periods)]
        )
    return out


@pytest.mark.parametrize("sd_year", [0.0, 0.01, 0.02])
def test_period_variation_recovers_the_year_to_year_sd(sd_year):
    rng = np.random.default_rng(3)
    found = [stats.period_variation(simulated_series(rng, 40, 5, sd_year)) for _ in range(30)]
    assert np.mean([f.estimate**0.5 for f in found]) == pytest.approx(sd_year, abs=0.002)
    # what is used is the upper 80 % bound: never below the estimate, and above it about 80 % of the time
    assert all(f.sigma2 > f.estimate for f in found)
    assert np.mean([f.sigma2 >= sd_year**2 for f in found]) >= 0.7


def test_period_variation_removes_a_shift_every_clinic_shares_and_ignores_one_drop():
    rng = np.random.default_rng(4)
    series = simulated_series(rng, 30, 4, 0.01)
    base = stats.period_variation(series).estimate
    shifted = [[stats.Point(p.period, p.k - (0.05 * p.n if i == 3 else 0), p.n) for i, p in enumerate(s)] for s in series]
    assert stats.period_variation(shifted).estimate == pytest.approx(base, rel=0.25)
    dropped = [list(s) for s in series]
    last = dropped[0][-1]
    dropped[0][-1] = stats.Point(last.period, max(0.0, last.k - 0.2 * last.n), last.n)
    result = stats.period_variation(dropped)
    assert result.excluded >= 1 and result.estimate == pytest.approx(base, rel=0.25)


def test_period_variation_needs_enough_differences():
    rng = np.random.default_rng(5)
    assert stats.period_variation(simulated_series(rng, 2, 3, 0.01)) is None  # steps need three series
    assert stats.period_variation(simulated_series(rng, 3, 3, 0.01)) is None  # 6 differences < MIN_PAIRS
    assert stats.period_variation(simulated_series(rng, 4, 3, 0.01)) is not None


# ---------------------------------------------------------------- control chart


def series_of(values, n=1000):
    return [stats.Point(f"P{i:02d}", round(v * n), n) for i, v in enumerate(values)]


def test_control_chart_limits_are_the_p_prime_limits():
    chart = stats.control_chart(series_of([0.80, 0.82, 0.81, 0.79]), 1e-4)
    assert chart.centre == pytest.approx(0.805)
    sd = math.sqrt(0.805 * 0.195 / 1000 + 1e-4)
    assert chart.limits[-1].low998 == pytest.approx(0.805 - norm.ppf(0.999) * sd)
    assert chart.signal is None


def test_control_chart_point_beyond_the_limits():
    chart = stats.control_chart(series_of([0.88, 0.87, 0.88, 0.72]), 1e-4)
    assert chart.signal == stats.Signal("beyond", "lower", 1, True)
    assert stats.control_chart(series_of([0.80, 0.82, 0.80, 0.89]), 1e-4).signal.side == "higher"
    assert stats.control_chart(series_of([0.80, 0.82, 0.80, 0.86]), 1e-4).signal is None  # within


def test_control_chart_run_of_seven_on_one_side():
    values = [0.85, 0.86, 0.85] + [0.80, 0.81, 0.80, 0.81, 0.80, 0.81, 0.80]
    chart = stats.control_chart(series_of(values), 1e-4)
    assert chart.signal is not None and chart.signal.rule == "run" and chart.signal.length == 7
    assert chart.signal.side == "lower"
    six = [0.85, 0.86, 0.85, 0.85] + [0.80, 0.81, 0.80, 0.81, 0.80, 0.81]
    assert stats.control_chart(series_of(six), 1e-4).signal is None


def test_control_chart_point_on_the_centre_breaks_a_run():
    values = [0.84] * 4 + [0.80] * 3 + [0.816] + [0.80] * 3  # 0.816 is exactly the mean
    chart = stats.control_chart(series_of(values), 1e-4)
    assert chart.centre == pytest.approx(0.816) and chart.signal is None
    values[7] = 0.80  # now the last seven all lie below the mean
    assert stats.control_chart(series_of(values), 1e-4).signal.rule == "run"


def test_control_chart_trend_of_seven():
    values = [0.80, 0.81, 0.79, 0.805, 0.80, 0.795, 0.79, 0.785, 0.78, 0.775]
    chart = stats.control_chart(series_of(values, n=100_000), 0.0004)
    assert chart.signal == stats.Signal("trend", "lower", 7)


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
        "from assistant.indicators import load_catalogue\n"
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
