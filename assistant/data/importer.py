"""Import indicator data from a spreadsheet export (CSV/text or .xlsx).

``parse_indicator_file(path, catalogue)`` never raises for bad content: it returns the rows it
could read and a list of ``(row, message)`` errors. Row numbers are those a spreadsheet user sees:
the header is row 1 (leading blank rows count, as in the spreadsheet). Row 0 means the file as a
whole (cannot be read, binary, not text). The caller writes nothing unless ``errors`` is empty.

The file is in *long* format, one row per clinic × indicator × period. Headers are Swedish or
English, case-insensitive, trimmed (extra columns are ignored):

    enhet/clinic, indikator/indicator, period, täljare/numerator, nämnare/denominator,
    värde/value, riktning/direction (optional), mål/target (optional),
    typ/jämförelsegrupp (optional: the kind of clinic, e.g. fysioterapi or vårdcentral)

A row needs a value or both numerator and denominator. With a numerator and a denominator the
value is computed from them; a value given as well must agree with them up to the rounding of the
value as written, else the row is an error.

Reading numbers (Swedish exports): decimal comma or point, thousands separated by spaces or
no-break spaces ("1 204"), a minus sign may be "−". Counts must be whole numbers ≥ 0.

Reading shares (indicators of kind "share" – all of the catalogue, and every indicator that is not
in the catalogue):

- "78,5 %" (a per cent sign in the cell) -> 0.785;
- a header with a per cent sign ("värde (%)", "andel %") means every bare number in that column
  is a percentage: 78,5 -> 0.785 and 0,5 -> 0.005;
- otherwise a bare number ≤ 1 is a fraction (0,785 -> 0.785; note 1 -> 100 %),
  a bare number above 1 and ≤ 100 is read as a percentage (78,5 -> 0.785),
  and a number above 100 is an error;
- an .xlsx cell formatted as a percentage holds the fraction itself and is read as such.

The same rules apply to mål/target. For indicators in the catalogue, the catalogue decides the
direction: a riktning that contradicts it is an error. A mål in the file is kept with the row and
replaces the catalogue's target for that row. An indicator that is not in the catalogue is allowed
only when the row gives riktning (högre/lägre/neutral or higher/lower/neutral); its direction and
target are kept with the row. Such indicators are read as shares.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.indicators import Catalogue, Indicator

if TYPE_CHECKING:
    from storage import Store

MAX_FILE_BYTES = 50_000_000  # read at most this much, whatever the file is (a pipe, /dev/zero)
MAX_ROWS = 500_000
# An .xlsx is a zip of XML: bounded by what it unpacks to (checked in the zip directory before
# parsing; zipfile stops at the sizes declared there) and by the cells read (a row padded out to
# column XFD is 16 384 cells).
MAX_XLSX_UNPACKED = 100_000_000
MAX_CELLS = 2_000_000
MAX_TEXT = 200
SHOW_ERRORS = 200  # stop collecting row errors after this many (the file is rejected anyway)

FIELDS = ("clinic", "indicator", "period", "numerator", "denominator", "value", "direction", "target", "kind")

# Header aliases, compared after case folding, trimming and removing diacritics ("mål" == "mal").
ALIASES: dict[str, tuple[str, ...]] = {
    "clinic": ("enhet", "clinic", "mottagning", "vardenhet", "unit"),
    "indicator": ("indikator", "indicator"),
    "period": ("period",),
    "numerator": ("taljare", "numerator"),
    "denominator": ("namnare", "denominator"),
    "value": ("varde", "value", "andel", "utfall"),
    "direction": ("riktning", "direction"),
    "target": ("mal", "target", "malvarde"),
    "kind": ("typ", "enhetstyp", "mottagningstyp", "jamforelsegrupp", "kind", "peer group", "peer_group"),
}
SWEDISH_NAME = {
    "clinic": "enhet",
    "indicator": "indikator",
    "period": "period",
    "numerator": "täljare",
    "denominator": "nämnare",
    "value": "värde",
    "direction": "riktning",
    "target": "mål",
    "kind": "typ",
}
DIRECTIONS = {
    "hogre": "higher",
    "higher": "higher",
    "lagre": "lower",
    "lower": "lower",
    "neutral": "neutral",
    "neutralt": "neutral",
}
DIRECTION_SV = {"higher": "högre", "lower": "lägre", "neutral": "neutral"}


@dataclass
class ImportResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _FileProblem(Exception):
    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row = row
        self.message = message


# ---------------------------------------------------------------- text helpers


def fold(text: str) -> str:
    """Case-fold, trim, drop diacritics and collapse whitespace: ' Mål ' -> 'mal'."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


_PERCENT_IN_HEADER = re.compile(r"[\(\[]?\s*%\s*[\)\]]?")


def _header_key(raw: Any) -> tuple[str, bool]:
    """(folded header without any per cent marker, whether it had one)."""
    text = "" if raw is None else str(raw)
    has_pct = "%" in text or "procent" in fold(text)
    text = _PERCENT_IN_HEADER.sub(" ", text)
    key = fold(text).replace("procent", "").strip(" ,;:-_")
    key = " ".join(key.split())
    return key, has_pct


def _clean_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if hasattr(raw, "isoformat") and not isinstance(raw, str):
        raw = raw.isoformat()[:10]
    text = unicodedata.normalize("NFC", str(raw))
    return " ".join(text.split())


# ---------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Number:
    value: float
    decimals: int  # digits after the decimal separator as written (for the rounding tolerance)
    percent: bool  # a per cent sign in the cell
    fraction: bool = False  # an .xlsx percentage-formatted cell: the value already is a fraction


class NumberProblem(ValueError):
    pass


_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009']")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(,\d{3})+$")


def parse_number(raw: Any, count: bool = False) -> Number | None:
    """Read a number as a Swedish (or English) export writes it. None for an empty cell.

    With ``count`` (täljare/nämnare, which must be whole numbers) "1,204" is read as 1204: as a
    decimal comma it could not be a count anyway.
    """
    if raw is None:
        return None
    if isinstance(raw, XlsxNumber):
        return Number(raw.value, _decimals_of_float(raw.value), False, fraction=raw.percent_format)
    if isinstance(raw, bool):
        raise NumberProblem(f"{raw!r} är inte ett tal")
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise NumberProblem("talet är inte ändligt")
        return Number(float(raw), _decimals_of_float(float(raw)), False)
    text = str(raw).strip()
    if text == "":
        return None
    percent = False
    if text.endswith("%"):
        percent = True
        text = text[:-1].strip()
    text = text.replace("\u2212", "-").replace("\u2013", "-")
    text = _SPACES.sub("", text)
    if "," in text and "." in text:
        # Both separators: the last one is the decimal separator, the other groups thousands.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif count and _THOUSANDS_COMMA.match(text):
        text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    if not _NUMBER.match(text):
        raise NumberProblem(f"{str(raw).strip()!r} är inte ett tal")
    value = float(text)
    if not math.isfinite(value):
        raise NumberProblem(f"{str(raw).strip()!r} är inte ett tal")
    mantissa = text.split("e")[0].split("E")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return Number(value, decimals, percent)


def _decimals_of_float(value: float) -> int:
    text = repr(float(value))
    if "e" in text or "E" in text:
        mant, exp = text.lower().split("e")
        d = len(mant.split(".")[1]) if "." in mant else 0
        return max(0, d - int(exp))
    if "." not in text:
        return 0
    frac = text.split(".")[1]
    return 0 if frac == "0" else len(frac)


def share_from(num: Number, header_percent: bool) -> tuple[float, float]:
    """(fraction, rounding tolerance) for a share written as ``num``. Raises NumberProblem."""
    if num.fraction:
        frac, scale = num.value, 1.0
    elif num.percent or header_percent:
        frac, scale = num.value / 100, 100.0
    elif num.value <= 1:
        frac, scale = num.value, 1.0
    elif num.value <= 100:
        frac, scale = num.value / 100, 100.0
    else:
        raise NumberProblem(f"{_fmt(num.value)} är större än 100 och kan inte vara en andel")
    if frac < 0:
        raise NumberProblem("en andel kan inte vara negativ")
    if frac > 1 + 1e-12:
        raise NumberProblem(f"{_fmt(num.value)} % är mer än 100 %")
    tolerance = 0.5 * 10 ** (-num.decimals) / scale + 1e-9
    return min(frac, 1.0), tolerance


def _fmt(x: float) -> str:
    text = f"{x:.6g}"
    return text.replace(".", ",")


def _count(num: Number, what: str) -> int:
    if num.percent:
        raise NumberProblem(f"{what} ska vara ett antal, inte en procentsats")
    if num.value < 0:
        raise NumberProblem(f"{what} kan inte vara negativ ({_fmt(num.value)})")
    if abs(num.value - round(num.value)) > 1e-9:
        raise NumberProblem(f"{what} ska vara ett heltal ({_fmt(num.value)})")
    return int(round(num.value))


# ---------------------------------------------------------------- reading files into raw rows


@dataclass(frozen=True)
class XlsxNumber:
    value: float
    percent_format: bool


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise _FileProblem(0, "filen börjar som UTF-16 men går inte att avkoda") from None
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise _FileProblem(0, "filen är i det gamla Excel-formatet (.xls); spara den som .xlsx eller CSV")
    if b"\x00" in raw[:65536]:
        raise _FileProblem(0, "filen ser ut att vara binär – använd CSV (text) eller .xlsx")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _FileProblem(
            line,
            "texten går varken att läsa som UTF-8 eller Windows-1252 (cp1252); spara filen som CSV UTF-8",
        ) from None


def _sniff_delimiter(text: str) -> str:
    """The separator that splits the first non-blank line into the most columns (; , or tab)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    best, best_count = ";", 0
    for delim in (";", "\t", ","):
        try:
            cols = next(csv.reader([first], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        if len(cols) > best_count:
            best, best_count = delim, len(cols)
    return best


def _read_text(raw: bytes) -> Iterable[tuple[int, list[Any]]]:
    text = _decode(raw)
    if "\x00" in text:
        raise _FileProblem(0, "filen innehåller NUL-tecken och ser ut att vara binär")
    delim = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows = []
    try:
        for i, row in enumerate(reader, start=1):
            rows.append((i, row))
            if i > MAX_ROWS + 1:
                raise _FileProblem(i, f"filen har fler än {MAX_ROWS} rader")
    except csv.Error as exc:
        raise _FileProblem(len(rows) + 1, f"raden går inte att läsa som CSV: {exc}") from None
    return rows


def _check_xlsx_size(raw: bytes) -> None:
    """Refuse a workbook that unpacks to more than ``MAX_XLSX_UNPACKED`` before openpyxl reads it."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _FileProblem(0, f"kan inte läsa Excel-filen ({exc})") from None
    if len(infos) > 10_000:
        raise _FileProblem(0, f"Excel-filen har för många delar ({len(infos)})")
    unpacked = sum(max(0, i.file_size) for i in infos)
    if unpacked > MAX_XLSX_UNPACKED:
        raise _FileProblem(
            0,
            f"Excel-filen packas upp till {unpacked // 1_000_000} MB (högst {MAX_XLSX_UNPACKED // 1_000_000} MB); "
            "spara den som CSV eller dela upp den",
        )


def _read_xlsx(raw: bytes) -> Iterable[tuple[int, list[Any]]]:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise _FileProblem(0, "openpyxl saknas; kan inte läsa .xlsx") from None
    if b"opendocument" in raw[:100]:
        raise _FileProblem(0, "filen är i OpenDocument-format (.ods); spara den som .xlsx eller CSV")
    _check_xlsx_size(raw)
    try:
        # A file object, not the path: openpyxl would refuse a misnamed workbook by its suffix.
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure of a corrupt workbook is the file's fault
        raise _FileProblem(0, f"kan inte läsa Excel-filen ({type(exc).__name__}: {exc})") from None
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise _FileProblem(0, "Excel-filen har inget blad")
        ws.reset_dimensions()  # the sheet's own claim of its size may be a lie: read what is there
        rows = []
        cells_read = 0
        try:
            for i, cells in enumerate(ws.iter_rows(), start=1):
                cells_read += len(cells)
                if cells_read > MAX_CELLS:
                    raise _FileProblem(i, f"bladet har fler än {MAX_CELLS:,} celler".replace(",", "\u00a0"))
                values = []
                for c in cells:
                    v = getattr(c, "value", None)
                    if isinstance(v, int | float) and not isinstance(v, bool):
                        fmt = getattr(c, "number_format", "") or ""
                        values.append(XlsxNumber(float(v), "%" in fmt))
                    else:
                        values.append(v)
                rows.append((i, values))
                if i > MAX_ROWS + 1:
                    raise _FileProblem(i, f"bladet har fler än {MAX_ROWS} rader")
        except _FileProblem:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _FileProblem(
                len(rows) + 1, f"kan inte läsa Excel-raden ({type(exc).__name__}: {exc})"
            ) from None
        return rows
    finally:
        wb.close()


def _is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and c.strip() == "") for c in cells)


# ---------------------------------------------------------------- the import


def parse_indicator_file(path: str | Path, catalogue: Catalogue) -> ImportResult:
    """Read an indicator file. Never raises for bad content; see the module docstring."""
    from assistant.fileio import FileProblem, read_limited

    result = ImportResult()
    path = Path(path)
    try:
        try:
            raw = read_limited(path, MAX_FILE_BYTES)  # once, bounded: a pipe or a device works too
        except FileProblem as exc:
            raise _FileProblem(0, str(exc)) from None
        if raw.startswith(b"PK\x03\x04"):
            raw_rows = _read_xlsx(raw)
        else:
            raw_rows = _read_text(raw)
        _parse_rows(list(raw_rows), catalogue, result)
    except _FileProblem as problem:
        result.rows = []
        result.errors.append((problem.row, problem.message))
    if result.errors:
        result.rows = []
    return result


def _resolve_indicator(text: str, catalogue: Catalogue) -> Indicator | None:
    ind = catalogue.get(text) or catalogue.get(text.lower())
    if ind is not None:
        return ind
    key = fold(text)
    for cand in catalogue.indicators:
        if key in (fold(cand.id), fold(cand.name), fold(cand.short or "")):
            return cand
    return None


def _parse_rows(raw_rows: list[tuple[int, list[Any]]], catalogue: Catalogue, result: ImportResult) -> None:
    data = [(i, cells) for i, cells in raw_rows if not _is_blank(cells)]
    if not data:
        raise _FileProblem(1, "filen är tom – den behöver en rubrikrad och minst en rad med data")
    header_row, header = data[0]
    columns: dict[str, int] = {}
    percent_hint: dict[str, bool] = {}
    found: list[str] = []
    lookup = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
    for col, cell in enumerate(header):
        shown = _clean_text(cell)
        if shown:
            found.append(shown)
        key, has_pct = _header_key(cell)
        name = lookup.get(key)
        if name is None:
            continue
        if name in columns:
            raise _FileProblem(
                header_row,
                f"kolumnen {SWEDISH_NAME[name]} finns två gånger i rubrikraden "
                f"({_clean_text(header[columns[name]])!r} och {shown!r})",
            )
        columns[name] = col
        percent_hint[name] = has_pct
    missing = [SWEDISH_NAME[n] for n in ("clinic", "indicator", "period") if n not in columns]
    if "value" not in columns and not ("numerator" in columns and "denominator" in columns):
        if "numerator" in columns:
            missing.append("nämnare (eller värde)")
        elif "denominator" in columns:
            missing.append("täljare eller värde")
        else:
            missing.append("värde (eller täljare och nämnare)")
    if missing:
        raise _FileProblem(
            header_row,
            "rubrikraden saknar "
            + ", ".join(missing)
            + ". Hittade kolumner: "
            + (", ".join(repr(f) for f in found) if found else "inga")
            + ". Förväntade: enhet/clinic, indikator/indicator, period, täljare/numerator, "
            "nämnare/denominator, värde/value och valfritt riktning/direction, mål/target, typ",
        )
    if len(data) == 1:
        raise _FileProblem(header_row, "filen har bara en rubrikrad och inga rader med data")

    seen: dict[tuple[str, str, str], int] = {}
    kinds: dict[str, tuple[str, int]] = {}
    for row_no, cells in data[1:]:
        if len(result.errors) >= SHOW_ERRORS:
            result.errors.append((row_no, f"fler än {SHOW_ERRORS} fel – resten av filen kontrollerades inte"))
            break
        row, problems = _parse_row(cells, columns, percent_hint, catalogue)
        if row is not None:
            key = (row["clinic"].casefold(), row["indicator"], row["period"].casefold())
            if key in seen:
                problems.append(
                    f"dubblett: samma enhet, indikator och period ({row['clinic']}, {row['indicator']}, "
                    f"{row['period']}) som rad {seen[key]}"
                )
            else:
                seen[key] = row_no
            if row["kind"]:
                clinic = row["clinic"].casefold()
                if clinic in kinds and fold(kinds[clinic][0]) != fold(row["kind"]):
                    problems.append(
                        f"enheten {row['clinic']} har typen {row['kind']!r} här men {kinds[clinic][0]!r} "
                        f"på rad {kinds[clinic][1]} – en enhet har en typ"
                    )
                kinds.setdefault(clinic, (row["kind"], row_no))
        for p in problems:
            result.errors.append((row_no, p))
        if not problems and row is not None:
            result.rows.append(row)


def _cell(cells: list[Any], columns: dict[str, int], name: str) -> Any:
    col = columns.get(name)
    if col is None or col >= len(cells):
        return None
    value = cells[col]
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def _text_cell(cells, columns, name) -> str:
    raw = _cell(cells, columns, name)
    if isinstance(raw, XlsxNumber):
        raw = raw.value
    return _clean_text(raw)


def _parse_row(
    cells: list[Any],
    columns: dict[str, int],
    percent_hint: dict[str, bool],
    catalogue: Catalogue,
) -> tuple[dict[str, Any] | None, list[str]]:
    problems: list[str] = []
    clinic = _text_cell(cells, columns, "clinic")
    ind_text = _text_cell(cells, columns, "indicator")
    period = _text_cell(cells, columns, "period")
    kind_text = _text_cell(cells, columns, "kind")
    if len(kind_text) > MAX_TEXT:
        problems.append(f"typ är för lång (högst {MAX_TEXT} tecken)")
    for name, text in (("clinic", clinic), ("indicator", ind_text), ("period", period)):
        if not text:
            problems.append(f"{SWEDISH_NAME[name]} saknas")
        elif len(text) > MAX_TEXT:
            problems.append(f"{SWEDISH_NAME[name]} är för lång (högst {MAX_TEXT} tecken)")

    # direction
    dir_text = _text_cell(cells, columns, "direction")
    direction: str | None = None
    if dir_text:
        direction = DIRECTIONS.get(fold(dir_text))
        if direction is None:
            problems.append(f"okänd riktning {dir_text!r} (använd högre, lägre eller neutral)")

    indicator = _resolve_indicator(ind_text, catalogue) if ind_text else None
    kind = indicator.kind if indicator is not None else "share"
    if ind_text and indicator is None and not dir_text:
        problems.append(
            f"okänd indikator {ind_text!r}: den finns inte i katalogen, och raden anger ingen riktning "
            "(högre/lägre/neutral) – ange riktning för att importera en egen indikator"
        )
    if indicator is not None and direction is not None and direction != indicator.direction:
        problems.append(
            f"riktningen {DIRECTION_SV[direction]!r} stämmer inte med katalogen "
            f"({indicator.id}: {DIRECTION_SV[indicator.direction]})"
        )
    effective_direction = indicator.direction if indicator is not None else direction

    def number(name: str) -> Number | None:
        try:
            return parse_number(_cell(cells, columns, name), count=name in ("numerator", "denominator"))
        except NumberProblem as exc:
            problems.append(f"{SWEDISH_NAME[name]}: {exc}")
            return None

    def given(name: str) -> bool:
        return _cell(cells, columns, name) is not None

    num = number("numerator")
    den = number("denominator")
    val = number("value")
    tgt = number("target")

    numerator = denominator = None
    if num is not None:
        try:
            numerator = _count(num, "täljaren")
        except NumberProblem as exc:
            problems.append(str(exc))
    if den is not None:
        try:
            denominator = _count(den, "nämnaren")
        except NumberProblem as exc:
            problems.append(str(exc))
    if denominator == 0:
        problems.append("nämnaren är 0 – det finns inget underlag")
        denominator = None

    value: float | None = None
    tolerance = 0.0
    if val is not None:
        if kind == "share":
            try:
                value, tolerance = share_from(val, percent_hint.get("value", False))
            except NumberProblem as exc:
                problems.append(f"värde: {exc}")
        else:
            value = val.value
            tolerance = 0.5 * 10 ** (-val.decimals) + 1e-9

    if kind == "share":
        if numerator is not None and denominator is not None:
            if numerator > denominator:
                problems.append(f"täljaren ({numerator}) är större än nämnaren ({denominator})")
            else:
                computed = numerator / denominator
                if value is not None and abs(value - computed) > tolerance:
                    problems.append(
                        f"värdet {_shown(_cell(cells, columns, 'value'))} stämmer inte med "
                        f"täljare/nämnare {numerator}/{denominator} = {_fmt(round(computed * 100, 2))} %"
                    )
                value = computed
        elif numerator is not None and denominator is None and not given("denominator"):
            problems.append("täljare utan nämnare – ange nämnaren (antal) eller bara värdet")
    elif numerator is not None and denominator is not None and value is None:
        value = numerator / denominator

    if value is None and not problems:
        problems.append("värde saknas (ange värde, eller täljare och nämnare)")

    target: float | None = None
    if tgt is not None:
        if effective_direction == "neutral":
            problems.append("en neutral indikator kan inte ha mål")
        elif kind == "share":
            try:
                target, _ = share_from(tgt, percent_hint.get("target", False))
            except NumberProblem as exc:
                problems.append(f"mål: {exc}")
        else:
            target = tgt.value

    if problems:
        return None, problems
    return (
        {
            "clinic": clinic,
            "indicator": indicator.id if indicator is not None else ind_text,
            "period": period,
            "numerator": float(numerator) if numerator is not None else None,
            "denominator": float(denominator) if denominator is not None else None,
            "value": float(value) if value is not None else None,
            "direction": direction,
            "target": target,
            "kind": kind_text or None,
        },
        [],
    )


def _shown(raw: Any) -> str:
    if isinstance(raw, XlsxNumber):
        return _fmt(raw.value)
    return repr(_clean_text(raw))


# ---------------------------------------------------------------- the import both doors use


def load_indicator_catalogue() -> Catalogue:
    """The shipped indicator catalogue with the region's own over it (a missing shipped file is
    a FlowError naming it)."""
    from assistant import locations
    from assistant.indicators import default_catalogue, load_catalogue

    catalogue = default_catalogue()
    if catalogue is None:
        return load_catalogue(locations.shipped_flows_dir() / "indicators.toml")  # names the missing file
    return catalogue


# The texts of an indicator row that come from the file (the numbers and the direction do not).
FILE_TEXTS = ("clinic", "indicator", "period")


def read_indicator_file(path: str | Path, source: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """An indicator file's rows, ready to store, and the name of their source (the file's name
    unless given). A file with errors is a ``UserError`` listing them by row.

    Text from a file is masked like typed text: a clinic, indicator, period or source name that
    holds a personal identity number is stored with the number masked (``privacy``)."""
    from assistant.errors import UserError
    from assistant.privacy import mask_identity_numbers
    from assistant.textsafe import repair_undecodable

    path = Path(path)
    result = parse_indicator_file(path, load_indicator_catalogue())
    if result.errors:
        lines = [f"{path}: {msg}" if row == 0 else f"rad {row}: {msg}" for row, msg in result.errors]
        lines.append(f"Inget importerades ({len(result.errors)} fel i {path.name}).")
        raise UserError(*lines)
    source = source or repair_undecodable(path.name)  # a name that is not UTF-8 is stored as text
    rows = [
        {k: mask_identity_numbers(v).text if k in FILE_TEXTS and isinstance(v, str) else v for k, v in row.items()}
        for row in result.rows
    ]
    return rows, mask_identity_numbers(source).text


def import_file(path: str | Path, source: str | None = None, *, store: Store) -> tuple[int, dict[str, int]]:
    """Read an indicator file (``read_indicator_file``) and store its rows in the caller's
    ``store``, all or nothing; returns (rows, counts)."""
    rows, source = read_indicator_file(path, source)
    return len(rows), store.replace_indicator_values(rows, source=source)


def import_summary(n: int, counts: dict[str, int], shown: str) -> str:
    """"Importerade 1 rad (1 ny, 0 ändrade, 0 oförändrade) från fil.csv" – the CLI and the app."""
    from assistant.glossary import counted

    return (
        f"Importerade {counted(n, 'rad', 'rader')} ({counted(counts.get('inserted', 0), 'ny', 'nya')}, "
        f"{counted(counts.get('updated', 0), 'ändrad', 'ändrade')}, "
        f"{counted(counts.get('unchanged', 0), 'oförändrad', 'oförändrade')}) från {shown}"
    )
