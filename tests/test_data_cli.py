"""`dialogstod data import|flags|demo` through assistant.cli.main, against a real database in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "data"
NORR = "Fysio Norr (påhittad)"


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "data.db")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_summary_and_idempotent_reimport(capsys, db):
    path = str(FIXTURES / "semikolon-bom.csv")
    code, out, err = run(capsys, "--db", db, "data", "import", path)
    assert code == 0, err
    assert out.strip() == f"Importerade 5 rader (5 nya, 0 ändrade, 0 oförändrade) från {path}"
    code, out, _ = run(capsys, "--db", db, "data", "import", path)
    assert code == 0
    assert out.strip() == f"Importerade 5 rader (0 nya, 0 ändrade, 5 oförändrade) från {path}"

    from storage import Store

    store = Store.open(db)
    try:
        rows = store.indicator_values(clinic="Fysio Test A")
    finally:
        store.close()
    tel = next(r for r in rows if r["indicator"] == "telefontillganglighet")
    assert (tel["numerator"], tel["denominator"], tel["target"]) == (939.0, 1204.0, 0.85)


def test_changed_values_are_counted_as_updated(capsys, db, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(
        "enhet;indikator;period;täljare;nämnare\nA;npe_respekt;2025;80;100\nA;npe_respekt;2024;70;100\n"
    )
    second = tmp_path / "b.csv"
    second.write_text(
        "enhet;indikator;period;täljare;nämnare\nA;npe_respekt;2025;81;100\nA;npe_respekt;2024;70;100\n"
    )
    assert run(capsys, "--db", db, "data", "import", str(first))[0] == 0
    code, out, _ = run(capsys, "--db", db, "data", "import", str(second))
    assert code == 0 and "(0 nya, 1 ändrad, 1 oförändrad)" in out


def test_bad_file_prints_row_errors_and_imports_nothing(capsys, db):
    # a good file first, so "nothing" is visible as "still only the first file"
    assert run(capsys, "--db", db, "data", "import", str(FIXTURES / "komma-procent.csv"))[0] == 0
    code, out, err = run(capsys, "--db", db, "data", "import", str(FIXTURES / "fel-rader.csv"))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert "dialogstod: rad 2: täljaren (120) är större än nämnaren (100)" in lines
    assert any(line.startswith("dialogstod: rad 10: dubblett") for line in lines)
    assert lines[-1] == "dialogstod: Inget importerades (9 fel i fel-rader.csv)."

    from storage import Store

    store = Store.open(db)
    try:
        clinics = {r["clinic"] for r in store.indicator_values()}
    finally:
        store.close()
    assert clinics == {"North clinic", "South clinic"}


def test_wrong_headers_message(capsys, db):
    code, _, err = run(capsys, "--db", db, "data", "import", str(FIXTURES / "fel-rubriker.csv"))
    assert code == 2
    assert "rad 1: rubrikraden saknar enhet, indikator, period" in err
    assert "'Mottagare'" in err


def test_binary_file_error_names_the_file(capsys, db, tmp_path):
    path = tmp_path / "bild.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    code, _, err = run(capsys, "--db", db, "data", "import", str(path))
    assert code == 2
    assert f"dialogstod: {path}: filen ser ut att vara binär" in err


def test_demo_then_flags_table(capsys, db):
    code, out, err = run(capsys, "--db", db, "data", "demo")
    assert code == 0, err
    assert out.startswith("Importerade 1448 rader (1448 nya, 0 ändrade, 0 oförändrade)")
    assert "påhittade" in out
    code, out, err = run(capsys, "--db", db, "data", "flags", "--clinic", NORR)
    assert code == 0, err
    lines = out.splitlines()
    tel = [line for line in lines if line.startswith("2025") and "Telefontillgänglighet" in line]
    assert len(tel) == 1
    # each thing said once: "tydligt sämre" without the "sämre än jämförbara enheter" it implies
    assert "  [når inte målet, tydligt sämre än jämförbara enheter, sämre än tidigare perioder]  " in tel[0]
    assert "77\u00a0% (n = 1\u00a0204), mål 85\u00a0%" in tel[0]
    # below it: the series as a sparkline and the clinic's place among its peers
    below = lines[lines.index(tel[0]) + 1 : lines.index(tel[0]) + 3]
    assert below[0].strip().startswith("2022–2025  ") and below[0].strip()[-1] != " "
    assert below[1].strip().startswith("bland fysioterapimottagningar: ") and "●" in below[1]
    assert lines[1].startswith("Läge bland jämförbara enheter: ●")
    # one line per indicator and period, oldest first
    main_lines = [line for line in lines if line[:4] in ("2022", "2023", "2024", "2025")]
    assert len(main_lines) == 4 * 23 + 12  # four years, and twelve months of visits over the year
    assert main_lines[0].startswith("2022") and main_lines[-1].startswith("2025")
    assert "ersättning" in out


def test_flags_json_and_period(capsys, db):
    assert run(capsys, "--db", db, "data", "demo")[0] == 0
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "data",
        "flags",
        "--clinic",
        "fysio liten (PÅHITTAD)",
        "--period",
        "2025",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert len(data) == 23
    assert {d["period"] for d in data} == {"2025"}
    for d in data:
        for key in ("indicator", "period", "value", "n", "ci_low", "ci_high", "states"):
            assert key in d
    tel = next(d for d in data if d["indicator"] == "telefontillganglighet")
    assert tel["states"] == ["insufficient_data"] and tel["n"] < 30


def test_unknown_clinic_lists_the_clinics_with_data(capsys, db):
    assert run(capsys, "--db", db, "data", "demo")[0] == 0
    code, out, err = run(capsys, "--db", db, "data", "flags", "--clinic", "Fysio Okänd")
    assert code == 2 and out == ""
    assert "Ingen data för enheten 'Fysio Okänd'" in err
    assert NORR in err and "Fysio Liten (påhittad)" in err


def test_a_clinic_named_without_its_parenthesis_is_found(capsys, db):
    """"Fysio Norr" finds "Fysio Norr (påhittad)", as in the app; a name several clinics begin with
    still lists them."""
    assert run(capsys, "--db", db, "data", "demo")[0] == 0
    code, out, err = run(capsys, "--db", db, "data", "flags", "--clinic", "fysio  norr")
    assert code == 0, err
    assert out.startswith(f"Indikatorer för {NORR}\n")
    assert err == f"dialogstod: Visar ”{NORR}” – det enda namnet i datan som passar.\n"
    code, out, err = run(capsys, "--db", db, "data", "flags", "--clinic", "Fysio")
    assert code == 2 and out == ""
    assert "Ingen data för enheten 'Fysio'." in err


def test_unknown_period_lists_periods(capsys, db):
    assert run(capsys, "--db", db, "data", "demo")[0] == 0
    code, _, err = run(capsys, "--db", db, "data", "flags", "--clinic", NORR, "--period", "2019")
    assert code == 2 and "Perioder med data: 2022, 2023, 2024, 2025, 2025-01, 2025-02" in err


def test_flags_without_any_data(capsys, db):
    from assistant.database import open_store

    open_store(db).close()  # a database without indicator data (a missing one is another message)
    code, _, err = run(capsys, "--db", db, "data", "flags", "--clinic", NORR)
    assert code == 2 and "data demo" in err


def test_data_without_subcommand_shows_usage(capsys, db):
    code, _, err = run(capsys, "--db", db, "data")
    assert code == 2 and "import" in err and "flags" in err


def test_flags_table_shows_escape_sequences_from_the_file_as_symbols(capsys, db, tmp_path):
    rows = ["Enhet;Typ;Indikator;Period;Täljare;Nämnare"]
    rows += [f"Enhet {c};\x1b[31mRÖD\x07;telefontillganglighet;2025;{880 + c};1000" for c in range(6)]
    path = tmp_path / "ond.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert run(capsys, "--db", db, "data", "import", str(path))[0] == 0
    code, out, _ = run(capsys, "--db", db, "data", "flags", "--clinic", "Enhet 1")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "enheter av typen ␛[31mRÖD␇" in out  # the peer group's name, shown literally
