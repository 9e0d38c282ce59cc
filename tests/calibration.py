"""A simulated region for calibrating the flags – written independently of assistant/data/stats.py.

The region of issue #13: ``ORDINARY`` clinics, ``len(INDICATORS)`` indicators, ``len(PERIODS)`` yearly
periods. Each clinic's true rate differs from the regional mean by common-cause variation only
(``SD_BETWEEN`` between clinics, ``SD_YEAR`` from year to year), n between 300 and 3 000, and the
count is drawn from the binomial distribution. Three planted clinics carry a special cause each
(a target miss, a drop in the latest year, a large difference from the peers) and one clinic has
n = 20 everywhere.

    uv run python tests/calibration.py [REGIONS]     # the figures in docs/statistics.md
"""

from __future__ import annotations

import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

if __name__ == "__main__":  # run as a script from the repository
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.data.flags import Analysis  # noqa: E402
from assistant.indicators import Catalogue, Indicator  # noqa: E402

ORDINARY = 24
PERIODS = ("2022", "2023", "2024", "2025")
LATEST = PERIODS[-1]
SD_BETWEEN = 0.015
SD_YEAR = 0.010
N_RANGE = (300, 3000)

# (id, direction, target relative to the regional mean): targets that an ordinary clinic meets –
# "nothing is going on". (A target exactly at the regional mean is missed by half the clinics, by
# the spread between them; ``measure`` reports that case separately as TARGET_AT_MEAN.)
INDICATORS = (
    ("h1", "higher", -0.02),
    ("h2", "higher", -0.03),
    ("l1", "lower", +0.02),
    ("h3", "higher", None),
    ("h4", "higher", None),
    ("h5", "higher", None),
    ("n1", "neutral", None),
    ("n2", "neutral", None),
)
TARGET_MISS = ("Planterad mål", "h2", 1500, 0.065)  # clinic, indicator, n, observed gap below the target
DROP = ("Planterad fall", "h4", 1000, 0.16)  # true rate 16 points lower in the latest year
OUTLIER = ("Planterad avvikare", "h5", 2000, 0.125)  # true rate 12.5 points from the regional mean
SMALL = ("Liten", 20)


def binomial(rng: random.Random, n: int, p: float) -> int:
    """An exact binomial draw by inversion, enumerating outcomes outward from the mode."""
    if p <= 0:
        return 0
    if p >= 1:
        return n
    mode = min(n, int((n + 1) * p))
    log_pmf = (
        math.lgamma(n + 1) - math.lgamma(mode + 1) - math.lgamma(n - mode + 1)
        + mode * math.log(p) + (n - mode) * math.log1p(-p)
    )
    u = rng.random() - math.exp(log_pmf)
    odds = p / (1 - p)
    up_k, up_pmf = mode, math.exp(log_pmf)
    down_k, down_pmf = mode, up_pmf
    while u > 0:
        if up_k < n:
            up_pmf *= (n - up_k) / (up_k + 1) * odds
            up_k += 1
            u -= up_pmf
            if u <= 0:
                return up_k
        if down_k > 0:
            down_pmf *= down_k / ((n - down_k + 1) * odds)
            down_k -= 1
            u -= down_pmf
            if u <= 0:
                return down_k
        if up_k >= n and down_k <= 0:
            return mode  # rounding left a sliver of mass: the mode is as good as any
    return mode


def catalogue_for(means: dict[str, float]) -> Catalogue:
    inds = []
    for ind_id, direction, offset in INDICATORS:
        target = None if offset is None else round(means[ind_id] + offset, 4)
        inds.append(
            Indicator(
                id=ind_id,
                name=ind_id,
                source="simulering",
                direction=direction,
                target=target,
                target_regional=target is not None,
            )
        )
    return Catalogue(indicators=inds)


@dataclass
class Region:
    rows: list[dict] = field(default_factory=list)
    catalogue: Catalogue | None = None
    means: dict[str, float] = field(default_factory=dict)

    def add(self, clinic: str, indicator: str, period: str, k: int, n: int) -> None:
        self.rows.append(
            {
                "clinic": clinic,
                "indicator": indicator,
                "period": period,
                "numerator": float(k),
                "denominator": float(n),
                "value": k / n,
                "kind": "fysioterapi",
            }
        )


def clip(p: float) -> float:
    return min(0.995, max(0.005, p))


def region(seed: int, *, planted: bool = True, true_target_miss: bool = False) -> Region:
    """One simulated region. ``true_target_miss`` plants the target clinic's true rate (not its
    observed value) 6.5 points below the target: for measuring power rather than asserting it."""
    rng = random.Random(seed)
    out = Region()
    out.means = {ind_id: rng.uniform(0.15, 0.85) for ind_id, _, _ in INDICATORS}
    out.catalogue = catalogue_for(out.means)
    targets = {i.id: i.target for i in out.catalogue.indicators}
    for c in range(ORDINARY):
        for ind_id, _, _ in INDICATORS:
            level = out.means[ind_id] + rng.gauss(0, SD_BETWEEN)
            base_n = rng.randint(*N_RANGE)
            for period in PERIODS:
                n = max(N_RANGE[0], round(base_n * rng.uniform(0.9, 1.1)))
                out.add(f"Enhet {c + 1:02d}", ind_id, period, binomial(rng, n, clip(level + rng.gauss(0, SD_YEAR))), n)
    if not planted:
        return out
    # a clinic 6.5 points below its target
    clinic, ind_id, n, gap = TARGET_MISS
    target = targets[ind_id]
    for period in PERIODS:
        if period == LATEST and not true_target_miss:
            k = round((target - gap) * n)  # the observed value, as the issue states it
        else:
            k = binomial(rng, n, clip(target - gap + rng.gauss(0, SD_YEAR)))
        out.add(clinic, ind_id, period, k, n)
    # a clinic whose rate dropped 16 points in the latest year
    clinic, ind_id, n, drop = DROP
    level = out.means[ind_id] + rng.gauss(0, SD_BETWEEN)
    for period in PERIODS:
        rate = level + rng.gauss(0, SD_YEAR) - (drop if period == LATEST else 0.0)
        out.add(clinic, ind_id, period, binomial(rng, n, clip(rate)), n)
    # a clinic 12.5 points from its peers
    clinic, ind_id, n, gap = OUTLIER
    side = rng.choice((-1, 1))
    for period in PERIODS:
        rate = out.means[ind_id] + side * gap + rng.gauss(0, SD_YEAR)
        out.add(clinic, ind_id, period, binomial(rng, n, clip(rate)), n)
    # a clinic with n = 20 and extreme values
    clinic, n = SMALL
    for ind_id, _, _ in INDICATORS:
        for period in PERIODS:
            out.add(clinic, ind_id, period, rng.choice((0, n, 1, n - 1)), n)
    return out


@dataclass
class Outcome:
    ordinary_with_claims: int  # ordinary clinics with any claim for the latest period
    claims: int  # claims among the ordinary clinics
    target_found: bool
    drop_found: bool
    outlier_found: bool
    small_states: set[str]


def evaluate(reg: Region) -> Outcome:
    analysis = Analysis(reg.rows, reg.catalogue)
    with_claims = claims = 0
    for c in range(ORDINARY):
        found = [x for f in analysis.flags(f"Enhet {c + 1:02d}", LATEST) for x in f.claims]
        with_claims += bool(found)
        claims += len(found)

    def states(clinic: str, indicator: str) -> list[str]:
        return next(f.states for f in analysis.flags(clinic, LATEST) if f.indicator == indicator)

    small = {s for f in analysis.flags(SMALL[0], LATEST) for s in f.states}
    return Outcome(
        ordinary_with_claims=with_claims,
        claims=claims,
        target_found="misses_target" in states(TARGET_MISS[0], TARGET_MISS[1]),
        drop_found="worse_than_previous" in states(DROP[0], DROP[1]),
        outlier_found=bool({"worse_than_peers", "better_than_peers"} & set(states(OUTLIER[0], OUTLIER[1]))),
        small_states=small,
    )


def measure(regions: int, start: int = 1000) -> dict[str, float]:
    """False-claim rate and power over ``regions`` simulated regions (seeds start, start + 1, …)."""
    rate, worst, over = 0.0, 0, 0
    power = {"target": 0, "drop": 0, "outlier": 0}
    for seed in range(start, start + regions):
        out = evaluate(region(seed, true_target_miss=True))
        rate += out.ordinary_with_claims / ORDINARY
        worst = max(worst, out.ordinary_with_claims)
        over += out.ordinary_with_claims > ORDINARY // 8
        power["target"] += out.target_found
        power["drop"] += out.drop_found
        power["outlier"] += out.outlier_found
    return {
        "regions": regions,
        "false_claim_rate": rate / regions,
        "regions_over_one_in_eight": over / regions,
        "worst_region": worst,
        **{f"power_{k}": v / regions for k, v in power.items()},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200), indent=2))
