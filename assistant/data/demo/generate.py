"""Regenerate ``indikatorer-demo.csv``: made-up data for made-up clinics (see README.md).

    uv run python -m assistant.data.demo.generate

Ordinary clinics vary by common-cause variation only (1.5 percentage points between clinics, 1 point
from year to year, binomial noise on top); the stories in README.md are planted on top of that.
Deterministic: the same file every time.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
YEARS = ("2022", "2023", "2024", "2025")

FYSIO = [
    "Fysio Norr",
    "Fysio Söder",
    "Fysio Öster",
    "Fysio Väster",
    "Fysio Mitt",
    "Fysio Skogen",
    "Fysio Hamnen",
    "Fysio Berget",
    "Rehab Centrum",
]
VC = [
    "Vårdcentralen Exempel",
    "Vårdcentralen Åsen",
    "Vårdcentralen Ån",
    "Vårdcentralen Torget",
    "Vårdcentralen Dalen",
    "Vårdcentralen Lunden",
]
SMALL = "Fysio Liten"

# indicator: (regional mean for fysio, for vårdcentral, typical n for fysio, for vårdcentral)
COMMON = {
    "telefontillganglighet": (0.88, 0.86, 1100, 4000),
    "vantetid_akut": (0.90, 0.88, 400, 1500),
    "vantetid_subakut": (0.82, 0.80, 500, 1800),
    "vantetid_kronisk": (0.74, 0.72, 600, 2200),
    "vardgaranti_forsta_besok": (0.91, 0.89, 900, 3500),
    "etjanster": (0.22, 0.30, 1500, 6000),
    "mangsokare": (0.035, 0.045, 1600, 7000),
    "besok_nybesok": (0.30, 0.25, 3400, 14000),
    "besok_aterbesok": (0.60, 0.55, 3400, 14000),
    "besok_gruppbesok": (0.05, 0.02, 3400, 14000),
    "besok_digitala": (0.03, 0.06, 3400, 14000),
    "besok_telefon": (0.04, 0.10, 3400, 14000),
    "npe_helhetsintryck": (0.87, 0.84, 140, 300),
    "npe_delaktighet": (0.79, 0.76, 140, 300),
    "npe_emotionellt_stod": (0.82, 0.80, 140, 300),
    "npe_information": (0.78, 0.75, 130, 280),
    "npe_kontinuitet": (0.70, 0.62, 135, 290),
    "npe_respekt": (0.90, 0.88, 135, 290),
    "npe_tillganglighet": (0.80, 0.72, 135, 290),
    "levnadsvanor_dokumenterade": (0.45, 0.50, 520, 2500),
    "registreringsgrad": (0.93, 0.91, 3000, 12000),
}
FYSIO_ONLY = {"rehabplaner": (0.86, 370), "boa_deltagande": (0.57, 100)}

# Planted stories: (clinic, indicator) -> {year: true rate} (other years: the clinic's own level).
STORIES: dict[tuple[str, str], dict[str, float]] = {
    ("Fysio Norr", "telefontillganglighet"): {"2022": 0.885, "2023": 0.875, "2024": 0.88, "2025": 0.78},
    ("Fysio Norr", "npe_tillganglighet"): {y: 0.62 for y in YEARS},
    ("Fysio Söder", "rehabplaner"): {"2022": 0.80, "2023": 0.79, "2024": 0.80, "2025": 0.78},
    ("Fysio Skogen", "rehabplaner"): {"2022": 0.85, "2023": 0.86, "2024": 0.84, "2025": 0.64},
    ("Fysio Hamnen", "mangsokare"): {y: 0.08 for y in YEARS},
    ("Fysio Väster", "levnadsvanor_dokumenterade"): {y: 0.25 for y in YEARS},
    ("Rehab Centrum", "besok_digitala"): {"2022": 0.03, "2023": 0.04, "2024": 0.05, "2025": 0.14},
    ("Vårdcentralen Exempel", "npe_kontinuitet"): {y: 0.80 for y in YEARS},
    ("Vårdcentralen Åsen", "registreringsgrad"): {"2022": 0.92, "2023": 0.91, "2024": 0.92, "2025": 0.80},
    ("Vårdcentralen Ån", "vantetid_kronisk"): {y: 0.55 for y in YEARS},
}
N_OVERRIDE = {("Fysio Söder", "rehabplaner"): 262, ("Fysio Norr", "telefontillganglighet"): 1204}
SEED = 20273  # the first seed whose ordinary clinics show no claims (checked by tests/test_data_flags.py)
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
SEASON = [1.05, 1.08, 1.04, 0.98, 0.96, 0.80, 0.55, 0.70, 1.02, 1.06, 1.05, 0.90]


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Normal approximation with continuity, clamped (plenty for made-up demo numbers)."""
    return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))


def fmt_int(x: int) -> str:
    return f"{x:,}".replace(",", " ")


def fmt_pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f} %".replace(".", ",")


def rows() -> list[list[str]]:
    rng = random.Random(SEED)
    out: list[list[str]] = []

    def clinic_rows(name: str, kind: str, table: dict[str, tuple[float, int]]) -> None:
        for ind, (mean, typical_n) in table.items():
            level = mean + rng.gauss(0, 0.015 if mean > 0.1 else 0.004)
            base_n = max(40, round(typical_n * rng.uniform(0.7, 1.3)))
            story = STORIES.get((name, ind), {})
            for year in YEARS:
                rate = story.get(year, level + rng.gauss(0, 0.01 if mean > 0.1 else 0.002))
                n = N_OVERRIDE.get((name, ind)) if year == "2025" and (name, ind) in N_OVERRIDE else None
                n = n or max(40, round(base_n * rng.uniform(0.92, 1.08)))
                k = binomial(rng, n, min(0.995, max(0.002, rate)))
                out.append([f"{name} (påhittad)", kind, ind, year, fmt_int(k), fmt_int(n), fmt_pct(k, n)])

    for name in FYSIO:
        table = {ind: (v[0], v[2]) for ind, v in COMMON.items()} | FYSIO_ONLY
        clinic_rows(name, "Fysioterapi", table)
    for name in VC:
        clinic_rows(name, "Vårdcentral", {ind: (v[1], v[3]) for ind, v in COMMON.items()})
    # a tiny clinic: n under 30 everywhere, extreme values
    for ind in list(COMMON) + list(FYSIO_ONLY):
        for year in YEARS:
            n = rng.randint(4, 25)
            k = rng.choice([0, n, 1, n - 1])
            out.append([f"{SMALL} (påhittad)", "Fysioterapi", ind, year, str(k), str(n), fmt_pct(k, n)])
    # visits over the year (monthly counts) for two clinics
    for name, kind, per_month in (("Fysio Norr", "Fysioterapi", 300), ("Vårdcentralen Exempel", "Vårdcentral", 1200)):
        for month, factor in zip(MONTHS, SEASON, strict=True):
            visits = round(per_month * factor * rng.uniform(0.95, 1.05))
            out.append([f"{name} (påhittad)", kind, "besok_over_aret", month, "", "", fmt_int(visits)])
    return out


def main() -> None:
    header = ["Enhet", "Typ", "Indikator", "Period", "Täljare", "Nämnare", "Värde"]
    lines = [";".join(header)] + [";".join(r) for r in rows()]
    (HERE / "indikatorer-demo.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))


if __name__ == "__main__":
    main()
