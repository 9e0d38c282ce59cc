"""Indicator values: the clinics' imported data, keyed by (clinic, indicator, period).

Text in the rows (clinic, indicator, period, source) is stored as given: the importer
(``assistant.data.importer.import_file``) masks personal identity numbers on the way in, as every
door into the database does.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .base import StoreBase, clean_clinic, clinic_key, guarded
from .errors import StorageError


def _number(value: Any, what: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StorageError(f"Indikatorvärdet {where} har ett {what} som inte är ett tal ({value!r}).")
    number = float(value)
    return None if math.isnan(number) else number


def _kind(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StorageError(f"Indikatorvärdet {where} har en typ som inte är text ({value!r}).")
    text = " ".join(value.split())
    return text or None



class Indicators(StoreBase):
    @guarded
    def replace_indicator_values(self, rows: list[dict[str, Any]], *, source: str) -> dict[str, int]:
        """Insert or replace indicator values keyed by (clinic, indicator, period), all in one
        transaction. Rows equal to what is stored are left alone (counted as unchanged), so
        importing the same data again changes nothing. Values not in ``rows`` are kept."""
        if not isinstance(source, str) or not source.strip():
            raise StorageError("Ange varifrån indikatorvärdena kommer (källa).")
        prepared: dict[tuple[str, str, str], dict[str, Any]] = {}
        for n, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise StorageError(f"Indikatorvärde nummer {n} är inte ett objekt.")
            try:
                clinic = clean_clinic(row.get("clinic"))  # type: ignore[arg-type]
            except StorageError:
                raise StorageError(f"Indikatorvärde nummer {n} saknar mottagning.") from None
            indicator, period = row.get("indicator"), row.get("period")
            if isinstance(period, int) and not isinstance(period, bool):
                period = str(period)
            if not isinstance(indicator, str) or not indicator.strip():
                raise StorageError(f"Indikatorvärde nummer {n} ({clinic}) saknar indikator.")
            if not isinstance(period, str) or not period.strip():
                raise StorageError(f"Indikatorvärde nummer {n} ({clinic}, {indicator}) saknar period.")
            indicator, period = indicator.strip(), period.strip()
            where = f"{clinic}/{indicator}/{period}"
            direction = row.get("direction")
            if direction is not None and not isinstance(direction, str):
                raise StorageError(
                    f"Indikatorvärdet {where} har en riktning som inte är text ({direction!r})."
                )
            value = {
                "clinic": clinic,
                "numerator": _number(row.get("numerator"), "täljare", where),
                "denominator": _number(row.get("denominator"), "nämnare", where),
                "value": _number(row.get("value"), "värde", where),
                "direction": direction,
                "target": _number(row.get("target"), "målvärde", where),
                "kind": _kind(row.get("kind"), where),
            }
            key = (clinic.casefold(), indicator, period)
            if key in prepared and prepared[key] != value:
                raise StorageError(
                    f"Indikatorvärdet {where} förekommer flera gånger med olika värden; inget har importerats."
                )
            prepared[key] = value
        compared = ("numerator", "denominator", "value", "direction", "target", "kind")
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._write() as conn:
            for (ckey, indicator, period), value in prepared.items():
                stored = conn.execute(
                    "SELECT numerator, denominator, value, direction, target, kind FROM indicator_values "
                    "WHERE clinic_key = ? AND indicator = ? AND period = ?",
                    (ckey, indicator, period),
                ).fetchone()
                new = tuple(value[c] for c in compared)
                if stored is None:
                    conn.execute(
                        "INSERT INTO indicator_values (clinic, clinic_key, indicator, period, numerator, denominator, "
                        "value, direction, target, kind, source, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (value["clinic"], ckey, indicator, period, *new, source, now),
                    )
                    counts["inserted"] += 1
                elif tuple(stored) != new:
                    conn.execute(
                        "UPDATE indicator_values SET clinic = ?, numerator = ?, denominator = ?, value = ?, "
                        "direction = ?, target = ?, kind = ?, source = ?, imported = ? "
                        "WHERE clinic_key = ? AND indicator = ? AND period = ?",
                        (value["clinic"], *new, source, now, ckey, indicator, period),
                    )
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
        return counts

    @guarded
    def indicator_values(
        self, *, clinic: str | None = None, indicator: str | None = None, period: str | None = None
    ) -> list[dict[str, Any]]:
        where, params = [], []
        if clinic is not None:
            where.append("clinic_key = ?")
            params.append(clinic_key(clinic))
        if indicator is not None:
            where.append("indicator = ?")
            params.append(indicator)
        if period is not None:
            where.append("period = ?")
            params.append(str(period))
        sql = (
            "SELECT clinic, indicator, period, numerator, denominator, value, direction, target, kind, source, imported "
            "FROM indicator_values"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY clinic_key, indicator, period"
        return self._rows(sql, tuple(params))

    @guarded
    def indicator_clinics(self) -> list[str]:
        """The clinics the imported indicator data names (one spelling each), in name order."""
        return [
            r["clinic"]
            for r in self._rows("SELECT min(clinic) AS clinic FROM indicator_values GROUP BY clinic_key ORDER BY clinic_key")
        ]
