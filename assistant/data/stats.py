"""Statistics for indicator shares: intervals, funnel limits, variation between periods, control charts.

Everything here is pure (numbers in, numbers out) and uses only the standard library: the two
distributions needed – the binomial CDF and the chi² quantile – are computed here (``binomial_cdf``,
``chi2_ppf``) because importing ``scipy.stats`` costs about 2.5 s, which every ``data flags`` and
every data panel would pay. The tests check both against ``scipy.stats`` to 1e-9.

The method, its references and its measured false-claim rate and power are in ``docs/statistics.md``.

- ``wilson``: the Wilson score interval for k of n (95 % by default), exact at the edges – the
  clinic's own *osäkerhetsintervall*.
- ``dispersion``: Spiegelhalter's (2005) overdispersion check and the additive random-effects
  variance tau² between the units of one comparison (robust: winsorised, made consistent, and
  re-estimated without the units that lie far outside).
- ``limits``: the limits of common-cause variation for one value of size n around a centre – exact
  binomial with Spiegelhalter's interpolation, or normal with an additive variance. The same
  limits serve the funnel plot (centre: the peers' pooled share, variance tau²), the target
  (centre: the target, variance: the variation between periods) and the control chart (centre:
  the clinic's own mean, variance: the variation between periods).
- ``period_variation``: how much a clinic's share moves from period to period beyond binomial noise,
  estimated over all the series of a peer group (Laney's p′ idea, made additive and pooled because
  yearly series are short).
- ``control_chart``: a p′ control chart of one clinic's series with the "Making Data Count" rules
  for the latest point: beyond the 99.8 % limits, a run of 7 on one side, a trend of 7.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from statistics import NormalDist

CONF_95 = 0.95  # context: shown, never a claim
CONF_998 = 0.998  # a claim: outside these limits the difference is more than common-cause variation
CONF_CLEAR = 0.9999  # the strong claim ("tydligt"): outside these limits
RUN = 7  # a run of this many points on one side of the centre line ("Making Data Count")
TREND = 7  # this many points, each higher (or each lower) than the one before
MIN_PAIRS = 8  # successive differences needed to estimate the variation between periods
UPPER_80 = NormalDist().inv_cdf(0.8)  # the variation between periods is taken at its upper 80 % bound


def z_for(confidence: float) -> float:
    """Two-sided normal quantile: z_for(0.95) = 1.959963…"""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


Z998 = z_for(CONF_998)
Z_CLEAR = z_for(CONF_CLEAR)

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


def _winsorised_square_mean() -> float:
    """E[W²] for a standard normal Z winsorised at its 10 % and 90 % quantiles (= 0.6787…)."""
    nd = NormalDist()
    a = nd.inv_cdf(0.9)
    return 0.8 - 2 * a * nd.pdf(a) + 0.2 * a * a


# Spiegelhalter's winsorised phi estimates 0.679·phi when the z-scores are normal; dividing by this
# makes it consistent. Without it the limits are too narrow: in the calibration simulation
# (docs/statistics.md) the uncorrected estimate gave about nine times the nominal false-alarm rate.
WINSOR_CONSISTENCY = _winsorised_square_mean()


@dataclass(frozen=True)
class Dispersion:
    """The overdispersion check over the units of one indicator, period and peer group."""

    m: int
    pooled: float
    phi: float  # (1/m) Σ z², z winsorised at 10 %/90 %, divided by WINSOR_CONSISTENCY
    critical: float  # chi² (m − 1) 95 % quantile
    overdispersed: bool  # m·phi > critical (reported; tau² is used whenever it is above 0)
    tau2: float  # additive random-effects variance between the units
    excluded: int = 0  # units left out of the tau² estimate for lying far outside
    var_centre: float = 0.0  # variance of the pooled share itself under the random-effects model


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


def _moment_tau2(q: float, m: int, weights: Sequence[float]) -> float:
    """DerSimonian–Laird: tau² = (Q − (m − 1)) / (Σw − Σw²/Σw), at least 0."""
    sw = sum(weights)
    denom = sw - sum(x * x for x in weights) / sw
    return max(0.0, (q - (m - 1)) / denom) if denom > 0 else 0.0


def dispersion(units: Sequence[Unit]) -> Dispersion:
    """Spiegelhalter's overdispersion check for proportions, with a robust tau².

    z_i = (y_i − θ0) / s_i with s_i = sqrt(θ0(1 − θ0)/n_i) around the pooled θ0; the z-scores are
    winsorised at 10 %/90 % and phi = (1/m) Σ z² / WINSOR_CONSISTENCY. The data are overdispersed
    when m·phi exceeds the 95 % quantile of chi² with m − 1 degrees of freedom – reported, but not
    used as a gate: with a handful of clinics that test rarely succeeds, and exact binomial limits
    would then flag large clinics for the spread every clinic has. tau² is the DerSimonian–Laird
    (method-of-moments, Spiegelhalter 2005 §6) estimate over the units that do not lie clearly
    outside the others (``_far_outside``), so one clinic far outside (a special cause) neither
    widens everyone's limits nor hides itself.
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
    s2 = [var1 / u.n for u in units]
    z = [(u.p - pooled) / math.sqrt(v) for u, v in zip(units, s2, strict=True)]
    phi = sum(v * v for v in winsorise(z)) / m / WINSOR_CONSISTENCY
    over = m * phi > critical
    # Which units lie far outside: each judged against the others (leave-one-out: its own pooled
    # share and tau² without it), so an outlier can neither pull the centre nor widen the limits
    # enough to hide itself – even in a small group.
    kept = [i for i in range(m) if not _far_outside(units, i)]
    if len(kept) < 2:
        kept = list(range(m))
    w = [1 / s2[i] for i in kept]
    centre = sum(wi * units[i].p for wi, i in zip(w, kept, strict=True)) / sum(w)
    q = sum(wi * (units[i].p - centre) ** 2 for wi, i in zip(w, kept, strict=True))
    tau2 = _moment_tau2(q, len(kept), w)
    total = sum(u.n for u in units)
    var_centre = sum((u.n / total) ** 2 * (v + tau2) for u, v in zip(units, s2, strict=True))
    return Dispersion(
        m=m,
        pooled=pooled,
        phi=phi,
        critical=critical,
        overdispersed=over,
        tau2=tau2,
        excluded=m - len(kept),
        var_centre=var_centre,
    )


def _far_outside(units: Sequence[Unit], i: int) -> bool:
    """Unit i lies clearly outside (the 99.99 % limits) the other units: their pooled share and their
    winsorised, consistency-corrected tau². Such a unit is a special cause, not common-cause
    variation, and is left out of tau² (a stricter cut excludes ordinary units too and makes tau²
    too small: docs/statistics.md)."""
    others = [u for j, u in enumerate(units) if j != i]
    if len(others) < 2:
        return False
    pooled = pooled_proportion(others)
    if pooled <= 0.0 or pooled >= 1.0:
        return False
    var1 = pooled * (1 - pooled)
    s2 = [var1 / u.n for u in others]
    z = [(u.p - pooled) / math.sqrt(v) for u, v in zip(others, s2, strict=True)]
    m = len(others)
    phi = sum(v * v for v in winsorise(z)) / m / WINSOR_CONSISTENCY
    tau2 = _moment_tau2(m * phi, m, [1 / v for v in s2])
    return abs(units[i].p - pooled) > Z_CLEAR * math.sqrt(var1 / units[i].n + tau2)


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


@dataclass(frozen=True)
class Limits:
    """The limits of common-cause variation for a value of size ``n`` around ``centre``."""

    n: float
    centre: float
    low95: float
    high95: float
    low998: float
    high998: float
    low_clear: float
    high_clear: float
    widened: bool  # normal limits with an additive variance (tau² or the variation between periods)

    def position(self, value: float) -> str | None:
        """'higher' or 'lower' outside the 99.8 % limits (a claim), else None. On a limit is inside."""
        if value > self.high998:
            return "higher"
        if value < self.low998:
            return "lower"
        return None

    def clearly(self, value: float) -> bool:
        return value > self.high_clear or value < self.low_clear

    def context(self, value: float) -> str | None:
        """'higher'/'lower' outside the 95 % limits only (context, never a claim)."""
        if value > self.high95:
            return "higher"
        if value < self.low95:
            return "lower"
        return None


def limits(n: float, centre: float, tau2: float = 0.0, *, extra: float = 0.0) -> Limits:
    """95 %, 99.8 % and 99.99 % limits for a share of size n around ``centre``.

    Without an additive variance: the exact binomial limits with Spiegelhalter's interpolation (n
    rounded to a whole number). With ``tau2`` > 0: centre ± z·sqrt(centre(1 − centre)/n + tau2 +
    extra) – the ADDITIVE random-effects widening, not the multiplicative sqrt(phi) one: clinics
    differ a lot in size (a few hundred to thousands of calls), and the multiplicative model keeps
    the limits of large units almost as narrow as binomial noise, flagging them for the variation
    that every clinic has. The additive model lets the limits level off at ±z·tau for large n.
    ``extra`` adds the variance of an estimated centre (the pooled share of a small group).
    """
    if tau2 > 0:
        sd = math.sqrt(centre * (1 - centre) / n + tau2 + extra)
        out = []
        for conf in (CONF_95, CONF_998, CONF_CLEAR):
            z = z_for(conf)
            out += [max(0.0, centre - z * sd), min(1.0, centre + z * sd)]
        return Limits(n, centre, *out, widened=True)
    whole = max(1, round(n))
    cdf = _BinomialCdf(whole, centre) if 0.0 < centre < 1.0 else None
    out = []
    for conf in (CONF_95, CONF_998, CONF_CLEAR):
        tail = (1 - conf) / 2
        out += [binomial_limit(whole, centre, tail, cdf), binomial_limit(whole, centre, 1 - tail, cdf)]
    return Limits(n, centre, *out, widened=False)


def funnel(n: float, pooled: float, disp: Dispersion | None = None) -> Limits:
    """The funnel-plot limits at size n around the peers' pooled share, widened by tau² and by the
    uncertainty of the pooled share itself."""
    if disp is None or disp.tau2 <= 0:
        return limits(n, pooled)
    return limits(n, pooled, disp.tau2, extra=disp.var_centre)


# ---------------------------------------------------------------- variation between periods

CHI2_1_MEDIAN = 0.454936423119572  # the median of chi² with one degree of freedom


@dataclass(frozen=True)
class Point:
    """One period of one clinic's series: k of n."""

    period: str
    k: float
    n: float

    @property
    def p(self) -> float:
        return self.k / self.n


@dataclass(frozen=True)
class PeriodVariation:
    sigma2: float  # variance of a clinic's share between periods beyond binomial noise (upper 80 % bound)
    pairs: int  # successive differences used
    excluded: int  # differences left out for lying clearly outside (special causes)
    estimate: float = 0.0  # the maximum-likelihood estimate itself


def period_variation(series: Sequence[Sequence[Point]]) -> PeriodVariation | None:
    """How much a clinic's share moves between periods beyond binomial noise, pooled over series.

    For each series and each step between two successive periods, d = p_t − p_{t−1} with binomial
    variance b = p̄(1 − p̄)(1/n_{t−1} + 1/n_t). The change every clinic shares in that step (a
    region-wide shift) is removed by subtracting the median d of the step (steps with fewer than
    three series are not used; d² is scaled by m/(m − 1) for the centring). sigma² is then the
    maximum-likelihood solution of Σ (d² − (b + 2σ²)) / (b + 2σ²)² = 0, re-estimated without the
    differences clearly outside (99.99 %) until stable, and then taken at its upper 80 % confidence
    bound (conservative: a low estimate would turn common-cause variation into claims). None when
    fewer than MIN_PAIRS differences.
    """
    steps: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for s in series:
        for a, b in pairwise(s):
            pbar = (a.k + b.k) / (a.n + b.n)
            var = pbar * (1 - pbar) * (1 / a.n + 1 / b.n)
            if var <= 0:
                continue
            steps.setdefault((a.period, b.period), []).append((b.p - a.p, var))
    pairs: list[tuple[float, float]] = []
    for found in steps.values():
        m = len(found)
        if m < 3:
            continue
        mid = percentile([d for d, _ in found], 0.5)
        pairs += [((d - mid) ** 2 * m / (m - 1), var) for d, var in found]
    if len(pairs) < MIN_PAIRS:
        return None
    kept = pairs
    sigma2 = _ml_sigma2(kept)
    for _ in range(10):
        inside = [(d2, v) for d2, v in pairs if d2 <= Z_CLEAR * Z_CLEAR * (v + 2 * sigma2)]
        if len(inside) == len(kept) or len(inside) < MIN_PAIRS:
            break
        kept = inside
        sigma2 = _ml_sigma2(kept)
    # Few differences make a noisy estimate, and an estimate that happens to be low would make
    # common-cause variation look like a signal. Use the upper 80 % confidence bound instead
    # (the maximum-likelihood estimate plus 0.84 standard errors from the Fisher information).
    info = sum(2 / (v + 2 * sigma2) ** 2 for _, v in kept)
    estimate = sigma2
    sigma2 += UPPER_80 / math.sqrt(info)
    return PeriodVariation(sigma2=sigma2, pairs=len(kept), excluded=len(pairs) - len(kept), estimate=estimate)


def _ml_sigma2(pairs: Sequence[tuple[float, float]]) -> float:
    """The s ≥ 0 that solves Σ (d² − (b + 2s)) / (b + 2s)² = 0 (0 when the score is ≤ 0 at 0)."""

    def score(s: float) -> float:
        return sum((d2 - (v + 2 * s)) / (v + 2 * s) ** 2 for d2, v in pairs)

    if score(0.0) <= 0:
        return 0.0
    lo, hi = 0.0, 1e-4
    while score(hi) > 0 and hi < 1.0:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if score(mid) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12:
            break
    return (lo + hi) / 2


# ---------------------------------------------------------------- control chart


@dataclass(frozen=True)
class Signal:
    rule: str  # "beyond" (outside the 99.8 % limits), "run" or "trend"
    side: str  # "higher" or "lower"
    length: int = 1  # points in the run or trend
    clearly: bool = False  # beyond the 99.99 % limits


@dataclass(frozen=True)
class ControlChart:
    centre: float  # the clinic's own mean over its periods (Σk/Σn)
    sigma2: float  # the variation between periods used for the limits
    points: tuple[Point, ...]
    limits: tuple[Limits, ...]
    signal: Signal | None  # a special-cause signal at the latest point, if any


def control_chart(points: Sequence[Point], sigma2: float) -> ControlChart:
    """A p′ chart of one series (oldest first) and the signal at its latest point.

    Limits for each point: ``limits(n_t, centre, sigma2)``. Rules (NHS "Making Data Count"), for
    the latest point only: it lies outside the 99.8 % limits; it ends a run of RUN points on the same
    side of the centre line; it ends a trend of TREND points, each higher (or each lower) than the
    one before. A point exactly on the centre line breaks a run.
    """
    if not points:
        raise ValueError("a control chart needs at least one point")
    total = sum(p.n for p in points)
    centre = sum(p.k for p in points) / total
    lims = tuple(limits(p.n, centre, sigma2) for p in points)
    last, lim = points[-1], lims[-1]
    signal: Signal | None = None
    side = lim.position(last.p)
    if side is not None and len(points) >= 2:
        signal = Signal("beyond", side, 1, lim.clearly(last.p))
    if signal is None:
        run = 0
        above = last.p > centre
        for p in reversed(points):
            if p.p == centre or (p.p > centre) != above:
                break
            run += 1
        if run >= RUN:
            signal = Signal("run", "higher" if above else "lower", run)
    if signal is None and len(points) >= 2:
        up = last.p > points[-2].p
        trend = 1
        for a, b in zip(reversed(points[:-1]), reversed(points[1:]), strict=True):
            if (b.p > a.p) if up else (b.p < a.p):
                trend += 1
            else:
                break
        if trend >= TREND:
            signal = Signal("trend", "higher" if up else "lower", trend)
    return ControlChart(centre=centre, sigma2=sigma2, points=tuple(points), limits=lims, signal=signal)


# ---------------------------------------------------------------- periods


_TOKEN = re.compile(r"(\d+)")


@lru_cache(maxsize=4096)
def period_key(period: str) -> tuple:
    """Natural sort key: '2024' < '2024-Q2' < '2024-Q10' < '2025'. Cached: flags sort and compare
    the same few periods thousands of times."""
    parts = _TOKEN.split(period.strip().casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p != "")
