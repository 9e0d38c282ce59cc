"""Importing indicator files: messy real-world exports in, validated rows or row-numbered errors out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.data.importer import parse_indicator_file, parse_number, share_from
from assistant.indicators import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "data"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(ROOT / "flows" / "indicators.toml")


def by_key(rows):
    return {(r["clinic"], r["indicator"], r["period"]): r for r in rows}


# ---------------------------------------------------------------- the catalogue


def test_catalogue_has_exactly_the_agreed_indicators(catalogue):
    assert [i.id for i in catalogue.indicators] == [
        "telefontillganglighet",
        "vantetid_akut",
        "vantetid_subakut",
        "vantetid_kronisk",
        "vardgaranti_forsta_besok",
        "etjanster",
        "mangsokare",
        "besok_nybesok",
        "besok_aterbesok",
        "besok_gruppbesok",
        "besok_digitala",
        "besok_telefon",
        "besok_distans",
        "besok_over_aret",
        "npe_helhetsintryck",
        "npe_delaktighet",
        "npe_emotionellt_stod",
        "npe_information",
        "npe_kontinuitet",
        "npe_respekt",
        "npe_tillganglighet",
        "rehabplaner",
        "boa_deltagande",
        "levnadsvanor_dokumenterade",
        "registreringsgrad",
    ]
    tel = catalogue.get("telefontillganglighet")
    assert (tel.direction, tel.target, tel.min_n) == ("higher", 0.85, 30)
    assert "inte ett lagkrav" in tel.description and "överenskommelse" in tel.target_source
    mangs = catalogue.get("mangsokare")
    # the method: a high or low figure "kan vara bra eller mindre bra" – neutral, no target
    assert (mangs.direction, mangs.target) == ("neutral", None)
    assert "21 besök" in mangs.name and "bra eller mindre bra" in mangs.description
    assert catalogue.get("besok_over_aret").kind == "count"
    for ind in catalogue.indicators:
        if ind.id.startswith("besok_"):
            assert ind.direction == "neutral" and ind.target is None
        if ind.id.startswith("npe_"):
            assert ind.direction == "higher" and ind.target is None
            assert ind.source == "Nationell patientenkät (NPE)"
    assert catalogue.get("rehabplaner").source == "Medrave"
    assert catalogue.get("boa_deltagande").source == "BOA-registret"
    assert catalogue.get("levnadsvanor_dokumenterade").source == "PrimärvårdsKvalitet"
    # the method separates digital and qualified telephone visits
    assert "digitala" in catalogue.get("besok_digitala").name and "telefon" in catalogue.get("besok_telefon").name


def test_every_shipped_target_says_where_it_comes_from(catalogue):
    targets = [i for i in catalogue.indicators if i.target is not None]
    assert targets
    for ind in targets:
        assert (ind.target_source is not None) != ind.target_regional, ind.id  # exactly one of the two
    assert "regional inställning" in catalogue.get("rehabplaner").target_origin


def test_kinds_of_clinic_in_the_catalogue(catalogue):
    assert [k.id for k in catalogue.kinds] == ["fysioterapi", "vardcentral"]
    from assistant.data.peers import kind_of_text

    for text, kind in (("Fysioterapi", "fysioterapi"), ("fysio", "fysioterapi"), ("VC", "vardcentral"),
                       ("Vårdcentral", "vardcentral"), ("Hälsocentral", "vardcentral"), ("Tandvård", None)):
        assert kind_of_text(text, catalogue) == kind, text


def test_typ_column_is_read_and_one_clinic_has_one_kind(tmp_path, catalogue):
    path = tmp_path / "typ.csv"
    path.write_text(
        "Enhet;Typ;Indikator;Period;Täljare;Nämnare\n"
        "A;Fysioterapi;telefontillganglighet;2025;800;1000\n"
        "B;Vårdcentral;telefontillganglighet;2025;800;1000\n"
        "C;;telefontillganglighet;2025;800;1000\n",
        encoding="utf-8",
    )
    res = parse_indicator_file(path, catalogue)
    assert res.errors == []
    assert [r["kind"] for r in res.rows] == ["Fysioterapi", "Vårdcentral", None]
    path.write_text(
        "Enhet;Jämförelsegrupp;Indikator;Period;Täljare;Nämnare\n"
        "A;Fysioterapi;telefontillganglighet;2024;800;1000\n"
        "A;Vårdcentral;telefontillganglighet;2025;800;1000\n",
        encoding="utf-8",
    )
    res = parse_indicator_file(path, catalogue)
    assert res.rows == [] and res.errors[0][0] == 3 and "en enhet har en typ" in res.errors[0][1]


# ---------------------------------------------------------------- number and share rules


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 204", 1204.0),
        ("1\u00a0204", 1204.0),
        ("1\u202f204,5", 1204.5),
        ("78,5", 78.5),
        ("0.785", 0.785),
        ("1.204,5", 1204.5),
        ("1,204.5", 1204.5),
        ("\u22123,5", -3.5),
        (" 12 ", 12.0),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text).value == pytest.approx(value)


def test_parse_number_count_reads_english_thousands():
    assert parse_number("1,204", count=True).value == 1204.0
    assert parse_number("1,204").value == pytest.approx(1.204)


@pytest.mark.parametrize("text", ["tio", "12 st", "1,2,3", "--4", "nan", "inf", "0x10"])
def test_parse_number_rejects_text(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "header_percent", "fraction"),
    [
        ("78,5 %", False, 0.785),
        ("78,5%", False, 0.785),
        ("0,785", False, 0.785),
        ("78,5", False, 0.785),  # bare number above 1 and at most 100: a percentage
        ("100", False, 1.0),
        ("1", False, 1.0),  # bare 1 is a fraction: 100 %
        ("0,5", True, 0.005),  # a % header makes every bare number a percentage
        ("78,5", True, 0.785),
    ],
)
def test_share_rule(text, header_percent, fraction):
    got, _ = share_from(parse_number(text), header_percent)
    assert got == pytest.approx(fraction)


@pytest.mark.parametrize("text", ["100,5", "250", "101 %", "-3 %"])
def test_share_rule_rejects(text):
    with pytest.raises(ValueError):
        share_from(parse_number(text), False)


# ---------------------------------------------------------------- good files


def test_semicolon_decimal_comma_bom(catalogue):
    res = parse_indicator_file(FIXTURES / "semikolon-bom.csv", catalogue)
    assert res.errors == []
    rows = by_key(res.rows)
    assert len(rows) == 5
    a = rows[("Fysio Test A", "telefontillganglighet", "2025")]
    assert (a["numerator"], a["denominator"]) == (939.0, 1204.0)
    assert a["value"] == pytest.approx(939 / 1204)
    assert a["target"] == pytest.approx(0.85)
    assert rows[("Fysio Test A", "rehabplaner", "2025")]["value"] == pytest.approx(0.812)
    assert rows[("Fysio Test A", "rehabplaner", "2025")]["numerator"] is None
    assert rows[("Fysio Test B", "telefontillganglighet", "2025")]["numerator"] == 1010.0
    no_n = rows[("Fysio Test B", "npe_respekt", "2025")]
    assert no_n["denominator"] is None and no_n["value"] == pytest.approx(0.905)
    # the catalogue's short name is accepted for the id
    assert ("Fysio Test B", "npe_information", "2025") in rows


def test_cp1252_with_own_indicator(catalogue):
    raw = (FIXTURES / "cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    res = parse_indicator_file(FIXTURES / "cp1252.csv", catalogue)
    assert res.errors == []
    rows = by_key(res.rows)
    assert rows[("Vårdcentralen Åby", "telefontillganglighet", "2024")]["value"] == pytest.approx(0.85)
    own = rows[("Vårdcentralen Åby", "mångsökare-egen", "2024")]
    assert own["direction"] == "lower"
    assert own["target"] == pytest.approx(0.025)
    assert rows[("Fysio Övre", "npe_kontinuitet", "2024")]["value"] == pytest.approx(0.71)


def test_comma_separated_with_quoted_percent(catalogue):
    res = parse_indicator_file(FIXTURES / "komma-procent.csv", catalogue)
    assert res.errors == []
    rows = by_key(res.rows)
    north = rows[("North clinic", "telefontillganglighet", "2025")]
    assert north["value"] == pytest.approx(0.785)
    assert north["denominator"] == 200.0
    assert rows[("North clinic", "rehabplaner", "2025")]["value"] == pytest.approx(0.8)
    south = rows[("South clinic", "telefontillganglighet", "2025")]
    assert south["denominator"] == 1204.0 and south["value"] == pytest.approx(0.9)


def test_tab_separated_utf16_excel_unicode_text(tmp_path, catalogue):
    text = "Enhet\tIndikator\tPeriod\tTäljare\tNämnare\r\nFysio Tabb\tboa_deltagande\t2025\t30\t50\r\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(text.encode("utf-16"))
    res = parse_indicator_file(path, catalogue)
    assert res.errors == []
    assert res.rows[0]["value"] == pytest.approx(0.6)


def test_tab_separated_utf8(tmp_path, catalogue):
    path = tmp_path / "tabb.tsv"
    path.write_text(
        "ENHET \t INDIKATOR\tPERIOD\tVÄRDE\nFysio Tabb\tnpe_respekt\t2025\t0,9\n", encoding="utf-8"
    )
    res = parse_indicator_file(path, catalogue)
    assert res.errors == [] and res.rows[0]["value"] == pytest.approx(0.9)


def test_xlsx(tmp_path, catalogue):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Enhet", "Indikator", "Period", "Täljare", "Nämnare", "Värde", "Mål"])
    ws.append(["Fysio Excel", "telefontillganglighet", 2025, 939, 1204, None, None])
    ws.append(["Fysio Excel", "rehabplaner", "2025", None, 250, 0.812, 0.8])
    ws.append(["Fysio Excel", "npe_respekt", 2025, None, 80, "90,5 %", None])
    ws.append([None, None, None, None, None, None, None])  # blank row 5
    ws.append(["Fysio Excel", "boa_deltagande", 2025, 30, 50, 0.6, None])
    ws.cell(row=6, column=6).number_format = "0.0%"  # a percentage-formatted cell holds the fraction
    path = tmp_path / "data.xlsx"
    wb.save(path)
    res = parse_indicator_file(path, catalogue)
    assert res.errors == []
    rows = by_key(res.rows)
    assert rows[("Fysio Excel", "telefontillganglighet", "2025")]["value"] == pytest.approx(939 / 1204)
    assert rows[("Fysio Excel", "rehabplaner", "2025")]["target"] == pytest.approx(0.8)
    assert rows[("Fysio Excel", "npe_respekt", "2025")]["value"] == pytest.approx(0.905)
    assert rows[("Fysio Excel", "boa_deltagande", "2025")]["value"] == pytest.approx(0.6)


def test_xlsx_errors_use_sheet_row_numbers(tmp_path, catalogue):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Enhet", "Indikator", "Period", "Täljare", "Nämnare"])
    ws.append(["Fysio Excel", "telefontillganglighet", 2025, 939, 1204])
    ws.append(["Fysio Excel", "rehabplaner", 2025, 300, 250])
    path = tmp_path / "fel.xlsx"
    wb.save(path)
    res = parse_indicator_file(path, catalogue)
    assert res.rows == []
    assert [row for row, _ in res.errors] == [3]
    assert "större än nämnaren" in res.errors[0][1]


def test_xlsx_with_csv_name_is_still_read(tmp_path, catalogue):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["clinic", "indicator", "period", "value"])
    ws.append(["X", "npe_respekt", "2025", 0.9])
    path = tmp_path / "egentligen-excel.csv"
    wb.save(path)
    res = parse_indicator_file(path, catalogue)
    assert res.errors == [] and len(res.rows) == 1


def test_value_agreeing_within_rounding_is_accepted(tmp_path, catalogue):
    path = tmp_path / "avrundat.csv"
    path.write_text(
        "enhet;indikator;period;täljare;nämnare;värde\n"
        "A;npe_respekt;2025;939;1204;78 %\n"  # 77.99 % rounds to 78
        "B;npe_respekt;2025;939;1204;0,78\n"
        "C;npe_respekt;2025;939;1204;77,99\n",
        encoding="utf-8",
    )
    res = parse_indicator_file(path, catalogue)
    assert res.errors == []
    assert all(r["value"] == pytest.approx(939 / 1204) for r in res.rows)


# ---------------------------------------------------------------- bad files: row-numbered errors, nothing kept


def test_bad_rows_each_get_their_row_number(catalogue):
    res = parse_indicator_file(FIXTURES / "fel-rader.csv", catalogue)
    assert res.rows == []
    errors = dict(res.errors)
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8, 10, 11]
    assert "större än nämnaren" in errors[2]
    assert "okänd indikator" in errors[3] and "riktning" in errors[3]
    assert "negativ" in errors[4]
    assert "'tio' är inte ett tal" in errors[5]
    assert "enhet saknas" in errors[6]
    assert "värde saknas" in errors[7]
    assert "stämmer inte" in errors[8]
    assert "dubblett" in errors[10] and "rad 9" in errors[10]
    assert "större än 100" in errors[11]


def test_wrong_headers_one_error_naming_missing_and_found(catalogue):
    res = parse_indicator_file(FIXTURES / "fel-rubriker.csv", catalogue)
    assert res.rows == []
    assert len(res.errors) == 1
    row, msg = res.errors[0]
    assert row == 1
    for missing in ("enhet", "indikator", "period", "värde"):
        assert missing in msg
    for found in ("'Mottagare'", "'Mått'", "'År'", "'Resultat'"):
        assert found in msg


@pytest.mark.parametrize(
    ("content", "row", "needle"),
    [
        (b"", 1, "tom"),
        (b"\xef\xbb\xbf\r\n\r\n  \r\n", 1, "tom"),
        ("enhet;indikator;period;värde\n".encode(), 1, "inga rader med data"),
        (b"\x00\x01\x02\x03binary\x00stuff", 0, "binär"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, 0, ".xls"),
        (
            "enhet;indikator;period;värde\n".encode() + b"A;npe_respekt;2025;0,9\n\x81\x8d\x8f\x90;x;y;z\n",
            3,
            "UTF-8",
        ),
        (b"PK\x03\x04 not really a zip", 0, "Excel"),
        ("enhet;enhet;indikator;period;värde\nA;A;npe_respekt;2025;0,9\n".encode(), 1, "två gånger"),
    ],
)
def test_bad_files(tmp_path, catalogue, content, row, needle):
    path = tmp_path / "fil.csv"
    path.write_bytes(content)
    res = parse_indicator_file(path, catalogue)
    assert res.rows == []
    assert len(res.errors) == 1
    assert res.errors[0][0] == row
    assert needle in res.errors[0][1]


def test_missing_file_and_directory(tmp_path, catalogue):
    res = parse_indicator_file(tmp_path / "finns-inte.csv", catalogue)
    assert res.rows == [] and res.errors[0][0] == 0
    res = parse_indicator_file(tmp_path, catalogue)
    assert res.rows == [] and res.errors[0][0] == 0


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("A;telefontillganglighet;2025;10;;", "täljare utan nämnare"),
        ("A;telefontillganglighet;2025;0;0;", "nämnaren är 0"),
        ("A;telefontillganglighet;2025;;20;", "värde saknas"),
        ("A;telefontillganglighet;2025;10,5;20;", "heltal"),
        ("A;telefontillganglighet;2025;5 %;20;", "antal"),
        ("A;telefontillganglighet;;10;20;", "period saknas"),
        ("A;;2025;10;20;", "indikator saknas"),
        ("A;telefontillganglighet;2025;10;20;;lägre", "stämmer inte med katalogen"),
        ("A;telefontillganglighet;2025;10;20;;uppåt", "okänd riktning"),
        ("A;besok_distans;2025;10;20;;;10 %", "neutral"),
        ("A;telefontillganglighet;2025;10;20;;;120", "mål"),
    ],
)
def test_row_errors(tmp_path, catalogue, line, needle):
    path = tmp_path / "rad.csv"
    path.write_text(
        "enhet;indikator;period;täljare;nämnare;värde;riktning;mål\nB;npe_respekt;2025;1;2;;;\n"
        + line
        + "\n",
        encoding="utf-8",
    )
    res = parse_indicator_file(path, catalogue)
    assert res.rows == []
    assert [r for r, _ in res.errors] == [3]
    assert needle in res.errors[0][1]


def test_unknown_indicator_with_direction_is_kept(tmp_path, catalogue):
    path = tmp_path / "egen.csv"
    path.write_text(
        "Enhet;Indikator;Period;Täljare;Nämnare;Riktning;Mål\n"
        "A;vantetid_inom_7_dagar;2025;80;100;högre;90 %\n"
        "A;avbokningar;2025;12;100;Neutral;\n",
        encoding="utf-8",
    )
    res = parse_indicator_file(path, catalogue)
    assert res.errors == []
    rows = by_key(res.rows)
    assert rows[("A", "vantetid_inom_7_dagar", "2025")]["direction"] == "higher"
    assert rows[("A", "vantetid_inom_7_dagar", "2025")]["target"] == pytest.approx(0.9)
    assert rows[("A", "avbokningar", "2025")]["direction"] == "neutral"


def test_duplicates_compare_clinic_names_case_insensitively(tmp_path, catalogue):
    path = tmp_path / "dubblett.csv"
    path.write_text(
        "enhet;indikator;period;värde\nFysio A;npe_respekt;2025;0,9\nFYSIO A ;npe_respekt;2025;0,8\n",
        encoding="utf-8",
    )
    res = parse_indicator_file(path, catalogue)
    assert res.rows == [] and res.errors[0][0] == 3


def test_extra_columns_are_ignored(tmp_path, catalogue):
    path = tmp_path / "extra.csv"
    path.write_text(
        "Region;Enhet;Indikator;Period;Värde;Kommentar\nX;A;npe_respekt;2025;0,9;bra\n", encoding="utf-8"
    )
    res = parse_indicator_file(path, catalogue)
    assert res.errors == [] and res.rows[0]["clinic"] == "A"


def test_demo_file_is_clean(catalogue):
    from assistant.data import DEMO_FILE

    raw = DEMO_FILE.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, like a Swedish Excel export
    assert b";" in raw.splitlines()[0]
    res = parse_indicator_file(DEMO_FILE, catalogue)
    assert res.errors == []
    clinics = {r["clinic"] for r in res.rows}
    assert 12 <= len(clinics) <= 20
    assert all("(påhittad)" in c for c in clinics)
    assert {r["kind"] for r in res.rows} == {"Fysioterapi", "Vårdcentral"}
    assert {r["period"] for r in res.rows if r["indicator"] != "besok_over_aret"} == {"2022", "2023", "2024", "2025"}
    assert {r["indicator"] for r in res.rows} == catalogue.ids - {"besok_distans"}


# ---------------------------------------------------------------- never raises


CELLS = st.sampled_from(
    [
        "",
        "A",
        "npe_respekt",
        "telefontillganglighet",
        "2025",
        "1 204",
        "78,5 %",
        "0,5",
        "-1",
        "högre",
        "x;y",
        '"',
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(tmp_path, catalogue, data):
    path = tmp_path / "slump.csv"
    path.write_bytes(data)
    res = parse_indicator_file(path, catalogue)
    assert res.rows == [] or res.errors == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(CELLS, max_size=9), max_size=8), st.sampled_from([";", ",", "\t"]))
def test_random_tables_never_raise_and_are_all_or_nothing(tmp_path, catalogue, table, sep):
    path = tmp_path / "tabell.csv"
    header = sep.join(["enhet", "indikator", "period", "täljare", "nämnare", "värde", "riktning", "mål"])
    path.write_text("\n".join([header] + [sep.join(r) for r in table]) + "\n", encoding="utf-8")
    res = parse_indicator_file(path, catalogue)
    assert res.rows == [] or res.errors == []
    for row_no, _ in res.errors:
        assert 0 <= row_no <= len(table) + 1
    for r in res.rows:
        assert r["value"] is not None and 0.0 <= r["value"] <= 1.0
