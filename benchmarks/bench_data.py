"""Indicator data benchmark: a synthetic region-sized export, parsed and flagged.

    uv run python benchmarks/bench_data.py                    # 300 clinics × 16 indicators × 8 periods
    uv run python benchmarks/bench_data.py --clinics 50       # quicker

Times parse_indicator_file on the whole file and compute_flags for one clinic (every period) and
for every clinic's newest period. Targets: parsing 40 000 rows <= 5 s; one clinic's flags for
all 8 periods against 300 clinics <= 500 ms (the CLI and the data panel call it once). Timings
belong here, not in the tests.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.data.flags import compute_flags  # noqa: E402
from assistant.data.importer import parse_indicator_file  # noqa: E402
from assistant.indicators import load_catalogue  # noqa: E402
from assistant.locations import shipped_flows_dir  # noqa: E402


def write_export(path: Path, clinics: int, periods: int, catalogue, seed: int = 1) -> int:
    rng = random.Random(seed)
    lines = ["Enhet;Indikator;Period;Täljare;Nämnare;Andel (%)"]
    for c in range(clinics):
        size = rng.lognormvariate(0, 0.8)
        for p in range(periods):
            period = f"{2018 + p // 4}-Q{p % 4 + 1}"
            for ind in catalogue.indicators:
                n = max(1, round(300 * size * rng.uniform(0.8, 1.2)))
                rate = min(0.99, max(0.01, rng.gauss(0.7, 0.08)))
                noisy = rng.gauss(rate, math.sqrt(rate * (1 - rate) / n))
                k = round(n * min(1.0, max(0.0, noisy)))
                value = f"{100 * k / n:.1f}".replace(".", ",")
                count = f"{n:,}".replace(",", " ")  # "1 204", as a Swedish export writes it
                lines.append(f"Enhet {c:04d} (påhittad);{ind.id};{period};{k};{count};{value}")
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return len(lines) - 1


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinics", type=int, default=300)
    parser.add_argument("--periods", type=int, default=8)
    args = parser.parse_args()
    catalogue = load_catalogue(shipped_flows_dir() / "indicators.toml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        rows = write_export(path, args.clinics, args.periods, catalogue)
        size_mb = path.stat().st_size / 1e6
        parse_s, result = timed(lambda: parse_indicator_file(path, catalogue))
    assert not result.errors, result.errors[:3]
    data = result.rows
    one_s, flags = timed(lambda: compute_flags(data, catalogue, "Enhet 0000 (påhittad)"), repeat=5)
    newest = f"{2018 + (args.periods - 1) // 4}-Q{(args.periods - 1) % 4 + 1}"
    sample = [f"Enhet {c:04d} (påhittad)" for c in range(0, args.clinics, max(1, args.clinics // 20))]
    all_s, _ = timed(lambda: [compute_flags(data, catalogue, c, newest) for c in sample])
    print(f"rows {rows} ({size_mb:.1f} MB)")
    print(f"parse_indicator_file        {parse_s * 1000:9.1f} ms   ({rows / parse_s:,.0f} rows/s)")
    print(f"compute_flags one clinic    {one_s * 1000:9.1f} ms   ({len(flags)} flags, all periods)")
    print(
        f"compute_flags newest period {all_s / len(sample) * 1000:9.1f} ms per clinic ({len(sample)} clinics)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
