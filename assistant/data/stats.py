"""Statistics for indicator shares: Wilson intervals, funnel-plot limits, period-to-period change.

Everything here is pure (numbers in, numbers out) and uses only the standard library: the two
distributions needed – the binomial CDF and the chi² quantile – are computed here (``binomial_cdf``,
``chi2_ppf``) because importing ``scipy.stats`` costs about 2.5 s, which every ``data flags`` and
every data panel would pay. The tests check both against ``scipy.stats`` to 1e-9.

- ``wilson``: the Wilson score interval for k of n (95 % by default), exact at the edges.
- ``funnel``: funnel-plot limits for proportions around the pooled proportion of a set of units,
  after Spiegelhalter (2005), "Funnel plots for comparing institutional performance",
  Stat Med 24:1185–1202. Without overdispersion the limits are the exact binomial limits with the
  paper's interpolation; with overdispersion they are widened with an *additive random-effects*
  term tau² (section 5.2 / 6 of the paper), see ``funnel``.
- ``two_proportion_test``: pooled two-proportion z-test for a change between two periods.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

CONF_95 = 0.95
CONF_998 = 0.998


def z_for(confidence: float) -> float:
    """Two-sided normal quantile: z_for(0.95) = 1.959963…"""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


# ---------------------------------------------------------------- Wilson


def wilson(k: float, n: float, confidence: float = CONF_95) -> tuple[float, float]:
    """Wilson score interval for the proportion k/n.

    ``k`` may be non-integral (a share given without numerator: k = value·n). Edge cases are exact:
    0 of n gives a lower limit of exactly 0, n of n an upper limit of exactly 1.
    """
    if not n > 0:
        raise ValueError("n must be positive")
    if k < 0 or k > n:
        raise ValueError("k must lie between 0 and n")
    z = z_for(confidence)
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


# ---------------------------------------------------------------- funnel plots


@dataclass(frozen=True)
class Unit:
    """One unit (clinic) in a comparison: k events of n."""

    key: str
    k: float
    n: float

    @property
    def p(self) -> float:
        return self.k / self.n


@dataclass(frozen=True)
class Dispersion:
    """The overdispersion check over the units of one indicator and period."""

    m: int
    pooled: float
    phi: float  # (1/m) Σ z², z winsorised at 10 %/90 %
    critical: float  # chi² (m − 1) 95 % quantile
    overdispersed: bool  # m·phi > critical
    tau2: float  # additive random-effects variance (0 when not overdispersed)


@dataclass(frozen=True)
class FunnelLimits:
    n: float
    pooled: float
    low95: float
    high95: float
    low998: float
    high998: float
    widened: bool  # limits widened for overdispersion (additive random effects, tau²)


def pooled_proportion(units: Sequence[Unit]) -> float:
    total_n = sum(u.n for u in units)
    if total_n <= 0:
        raise ValueError("no units with n > 0")
    return sum(u.k for u in units) / total_n


def winsorise(values: Sequence[float], low_q: float = 0.10, high_q: float = 0.90) -> list[float]:
    """Clamp values to their 10th and 90th percentiles (linear interpolation between order statistics)."""
    if not values:
        return []
    lo = percentile(values, low_q)
    hi = percentile(values, high_q)
    return [min(max(v, lo), hi) for v in values]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile with linear interpolation (the common 'type 7' definition)."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = q * (len(s) - 1)
    i = math.floor(pos)
    frac = pos - i
    if i + 1 >= len(s):
        return s[-1]
    return s[i] + (s[i + 1] - s[i]) * frac


def dispersion(units: Sequence[Unit]) -> Dispersion:
    """Spiegelhalter's overdispersion check for proportions.

    z_i = (y_i − θ0) / sqrt(θ0(1 − θ0)/n_i) around the pooled θ0; the z-scores are winsorised at
    10 %/90 %; phi = (1/m) Σ z². The data are overdispersed when m·phi exceeds the 95 % quantile
    of chi² with m − 1 degrees of freedom. tau² is then the method-of-moments estimate
    (m·phi − (m − 1)) / (Σ w − Σ w² / Σ w) with w_i = 1/s_i² (Spiegelhalter 2005, eq. in §6).
    """
    m = len(units)
    if m < 2:
        raise ValueError("the dispersion check needs at least two units")
    pooled = pooled_proportion(units)
    critical = chi2_ppf(0.95, m - 1)
    if pooled <= 0.0 or pooled >= 1.0:
        # Every unit at 0 % or at 100 %: no variation at all, so nothing to widen.
        return Dispersion(m=m, pooled=pooled, phi=0.0, critical=critical, overdispersed=False, tau2=0.0)
    var1 = pooled * (1 - pooled)
    s = [math.sqrt(var1 / u.n) for u in units]
    z = [(u.p - pooled) / si for u, si in zip(units, s, strict=True)]
    zw = winsorise(z)
    phi = sum(v * v for v in zw) / m
    over = m * phi > critical
    tau2 = 0.0
    if over:
        w = [1 / (si * si) for si in s]
        sw = sum(w)
        denom = sw - sum(x * x for x in w) / sw
        if denom > 0:
            tau2 = max(0.0, (m * phi - (m - 1)) / denom)
    return Dispersion(m=m, pooled=pooled, phi=phi, critical=critical, overdispersed=over, tau2=tau2)


class _BinomialCdf:
    """The CDF of Binomial(n, theta), summed over the window that holds all but ~1e-18 of the mass.

    The pmf is evaluated at the mode with ``lgamma`` and then by the ratio recursion outwards; the
    window is about ±9 standard deviations wide, so this is cheap for any n.
    """

    def __init__(self, n: int, theta: float):
        self.n = n
        mode = min(n, max(0, math.floor((n + 1) * theta)))
        log_mode = (
            math.lgamma(n + 1)
            - math.lgamma(mode + 1)
            - math.lgamma(n - mode + 1)
            + (mode * math.log(theta) if mode else 0.0)
            + ((n - mode) * math.log1p(-theta) if n - mode else 0.0)
        )
        peak = math.exp(log_mode)
        odds = theta / (1 - theta)
        below: list[float] = []
        pmf, r = peak, mode
        while r > 0:
            pmf *= r / ((n - r + 1) * odds)
            r -= 1
            if pmf < peak * 1e-18:
                break
            below.append(pmf)
        above: list[float] = []
        pmf, r = peak, mode
        while r < n:
            pmf *= (n - r) * odds / (r + 1)
            r += 1
            if pmf < peak * 1e-18:
                break
            above.append(pmf)
        self.start = mode - len(below)
        pmfs = below[::-1] + [peak] + above
        # Normalise by the window's own sum: the window misses only ~1e-18 of the mass, while the
        # peak from lgamma carries a relative error of ~1e-9 for n in the millions.
        norm = math.fsum(pmfs)
        self.cum: list[float] = []
        total = 0.0
        for p in pmfs:
            total += p
            self.cum.append(total / norm)

    def __call__(self, r: int) -> float:
        i = r - self.start
        if i < 0:
            return 0.0
        if i >= len(self.cum):
            return 1.0
        return min(1.0, self.cum[i])

    def ppf(self, p: float) -> int:
        """The smallest r with F(r) ≥ p."""
        lo, hi = 0, len(self.cum) - 1
        if self.cum[hi] < p:
            return self.start + len(self.cum)  # beyond the window: only for p within 1e-18 of 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cum[mid] >= p:
                hi = mid
            else:
                lo = mid + 1
        return self.start + lo


def binomial_cdf(r: int, n: int, theta: float) -> float:
    """P(X ≤ r) for X ~ Binomial(n, theta)."""
    if theta <= 0.0:
        return 1.0 if r >= 0 else 0.0
    if theta >= 1.0:
        return 1.0 if r >= n else 0.0
    return _BinomialCdf(n, theta)(r)


def binomial_limit(n: int, theta: float, p: float, cdf: _BinomialCdf | None = None) -> float:
    """Spiegelhalter's interpolated exact binomial limit for a proportion (Appendix A.1.1).

    r_p is the smallest r with F(r) ≥ p for Binomial(n, theta); the limit is (r_p − α)/n with
    α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)), kept within [0, 1].
    """
    if theta <= 0.0:
        return 0.0
    if theta >= 1.0:
        return 1.0
    cdf = cdf or _BinomialCdf(n, theta)
    r = cdf.ppf(p)
    f_r = cdf(r)
    step = f_r - cdf(r - 1)
    alpha = (f_r - p) / step if step > 0 else 0.0
    return min(1.0, max(0.0, (r - alpha) / n))


def _gamma_p(a: float, x: float) -> float:
    """The regularised lower incomplete gamma function P(a, x) (series / continued fraction)."""
    if x <= 0:
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return min(1.0, total * math.exp(log_front))
    # Continued fraction for Q(a, x) (modified Lentz).
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def chi2_cdf(x: float, df: int) -> float:
    return _gamma_p(df / 2, x / 2)


@lru_cache(maxsize=1024)
def chi2_ppf(q: float, df: int) -> float:
    """The q-quantile of chi² with df degrees of freedom (bisection on the CDF)."""
    if not 0 < q < 1 or df < 1:
        raise ValueError("need 0 < q < 1 and df ≥ 1")
    lo, hi = 0.0, max(1.0, df + 10 * math.sqrt(2 * df) + 20)
    while chi2_cdf(hi, df) < q:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if chi2_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return (lo + hi) / 2


def funnel(n: float, pooled: float, disp: Dispersion | None = None) -> FunnelLimits:
    """95 % and 99.8 % funnel limits for a unit of size n around ``pooled``.

    Not overdispersed: exact binomial limits with interpolation (n rounded to a whole number).
    Overdispersed (``disp.overdispersed``): we use the ADDITIVE RANDOM-EFFECTS widening,
    θ0 ± z·sqrt(θ0(1 − θ0)/n + tau²), not the multiplicative sqrt(phi) one: clinics differ a lot
    in size (a few hundred to thousands of calls), and the multiplicative model keeps the limits
    of large units almost as narrow as before, flagging them for the between-unit variation that
    the check just found. The additive model lets the limits level off at ±z·tau for large n.
    """
    if disp is not None and disp.overdispersed and disp.tau2 > 0:
        var = pooled * (1 - pooled) / n + disp.tau2
        sd = math.sqrt(var)
        z95, z998 = z_for(CONF_95), z_for(CONF_998)
        return FunnelLimits(
            n=n,
            pooled=pooled,
            low95=max(0.0, pooled - z95 * sd),
            high95=min(1.0, pooled + z95 * sd),
            low998=max(0.0, pooled - z998 * sd),
            high998=min(1.0, pooled + z998 * sd),
            widened=True,
        )
    whole = max(1, round(n))
    cdf = _BinomialCdf(whole, pooled) if 0.0 < pooled < 1.0 else None
    return FunnelLimits(
        n=n,
        pooled=pooled,
        low95=binomial_limit(whole, pooled, 0.025, cdf),
        high95=binomial_limit(whole, pooled, 0.975, cdf),
        low998=binomial_limit(whole, pooled, 0.001, cdf),
        high998=binomial_limit(whole, pooled, 0.999, cdf),
        widened=False,
    )


# ---------------------------------------------------------------- change between periods


@dataclass(frozen=True)
class Change:
    diff: float  # p2 − p1
    z: float
    p_value: float
    significant: bool


def two_proportion_test(k1: float, n1: float, k2: float, n2: float, alpha: float = 0.05) -> Change:
    """Pooled two-proportion z-test, two-sided: is k2/n2 different from k1/n1?"""
    if not (n1 > 0 and n2 > 0):
        raise ValueError("both n must be positive")
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return Change(diff=p2 - p1, z=0.0, p_value=1.0, significant=False)
    z = (p2 - p1) / math.sqrt(var)
    p_value = 2 * (1 - NormalDist().cdf(abs(z)))
    return Change(diff=p2 - p1, z=z, p_value=p_value, significant=p_value < alpha)


# ---------------------------------------------------------------- periods


_TOKEN = re.compile(r"(\d+)")


def period_key(period: str) -> tuple:
    """Natural sort key: '2024' < '2024-Q2' < '2024-Q10' < '2025'."""
    parts = _TOKEN.split(period.strip().casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")
