"""Peer groups (whom a clinic is compared with) and the pictures of the data (data/charts.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.data import charts
from assistant.data.flags import compute_flags
from assistant.data.peers import resolve_groups
from assistant.indicators import Catalogue, PeerGroup, load_catalogue

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = load_catalogue(ROOT / "flows" / "indicators.toml")


def row(clinic, value, n=1000, kind=None, period="2025", indicator="npe_respekt"):
    return {
        "clinic": clinic,
        "indicator": indicator,
        "period": period,
        "numerator": float(round(value * n)),
        "denominator": float(n),
        "value": round(value * n) / n,
        "kind": kind,
    }


def mixed_region():
    """Six physiotherapy clinics around 90 %, six vårdcentraler around 70 %."""
    rows = [row(f"Fysio {i}", 0.90 + 0.004 * (i % 3), kind="Fysioterapi") for i in range(6)]
    rows += [row(f"VC {i}", 0.70 + 0.004 * (i % 3), kind="Vårdcentral") for i in range(6)]
    return rows


# ---------------------------------------------------------------- peers


def test_a_vardcentral_is_never_compared_with_physiotherapy_clinics():
    rows = mixed_region() + [row("VC ny", 0.71, kind="vc")]
    flag = compute_flags(rows, CATALOGUE, "VC ny")[0]
    assert flag.group == "vårdcentraler" and flag.peer_count == 6
    assert flag.pooled == pytest.approx(sum(r["value"] for r in rows if r["kind"] in ("Vårdcentral", "vc")) / 7)
    assert flag.states == []  # among vårdcentraler 71 % is ordinary; among everyone it would not be
    everyone = compute_flags([{**r, "kind": None} for r in rows], CATALOGUE, "VC ny")[0]
    assert everyone.peer_count == 12 and everyone.pooled > 0.78  # without kinds: a different comparison


def test_unknown_kind_is_a_group_of_its_own_so_a_plain_file_still_compares():
    rows = [{**r, "kind": None} for r in mixed_region()]
    groups = resolve_groups(rows, CATALOGUE)
    assert {g.key for g in groups.values()} == {"okänd"}
    flag = compute_flags(rows, CATALOGUE, "Fysio 0")[0]
    assert flag.peer_count == 11 and flag.group == "enheter vars typ inte är känd"
    assert any("Ange typ" in note for note in flag.notes)
    # a clinic of known kind is not compared with the unknown ones
    rows.append(row("Fysio känd", 0.9, kind="Fysioterapi"))
    known = compute_flags(rows, CATALOGUE, "Fysio känd")[0]
    assert known.peer_count is None and any("bara 0 andra fysioterapimottagningar" in n for n in known.notes)


def test_the_flow_of_a_clinics_dialogues_gives_its_kind_when_the_data_does_not():
    rows = mixed_region() + [row("Ny", 0.89)]
    groups = resolve_groups(rows, CATALOGUE, {"ny": "fysioterapi"})
    assert groups["ny"].key == "kind:fysioterapi" and groups["ny"].source == "flow"
    flag = compute_flags(rows, CATALOGUE, "Ny", flow_kinds={"ny": "fysioterapi"})[0]
    assert flag.group == "fysioterapimottagningar" and flag.peer_count == 6
    # the data wins over the flow
    assert resolve_groups(rows, CATALOGUE, {"fysio 0": "vardcentral"})["fysio 0"].key == "kind:fysioterapi"


def test_a_region_can_define_its_own_groups():
    cat = CATALOGUE.model_copy(
        update={"peer_groups": [PeerGroup(name="Glesbygd", clinics=["Fysio 0", "Fysio 1", "VC 0", "VC 1"])]}
    )
    groups = resolve_groups(mixed_region(), cat)
    assert groups["fysio 0"].key == groups["vc 1"].key == "group:glesbygd"
    assert groups["fysio 2"].key == "kind:fysioterapi"
    flag = compute_flags(mixed_region(), cat, "Fysio 0")[0]
    assert flag.peer_count == 3 and "jämförelsegruppen Glesbygd" in flag.text


def test_a_clinic_in_two_region_groups_is_refused():
    with pytest.raises(ValueError, match="finns redan i gruppen"):
        Catalogue(peer_groups=[PeerGroup(name="A", clinics=["X", "Y"]), PeerGroup(name="B", clinics=["x", "Z"])])


# ---------------------------------------------------------------- pictures as data and text


def demo_flag():
    from assistant.data import DEMO_FILE
    from assistant.data.importer import parse_indicator_file

    rows = parse_indicator_file(DEMO_FILE, CATALOGUE).rows
    flags = compute_flags(rows, CATALOGUE, "Fysio Norr (påhittad)", "2025")
    return next(f for f in flags if f.indicator == "telefontillganglighet")


def test_chart_data_is_small_and_recomputes_the_flags_limits():
    flag = demo_flag()
    data = charts.chart_data(flag)
    assert len(data["funnel"]["points"]) == flag.peer_count
    assert [p[0] for p in data["history"]["points"]] == ["2022", "2023", "2024", "2025"]
    import json

    assert len(json.dumps(data)) < 2000
    curves = charts.funnel_curves(data)
    at = min(curves["998"], key=lambda c: abs(c[0] - flag.n))  # the curve near the clinic's n
    assert at[1] == pytest.approx(flag.peer_low, abs=0.003) and at[2] == pytest.approx(flag.peer_high, abs=0.003)
    period, lo95, hi95, lo998, hi998 = charts.run_limits(data)[-1]
    assert period == "2025" and lo998 < lo95 < flag.centre < hi95 < hi998 and flag.value < lo998


def test_text_forms():
    assert charts.sparkline([0.5, 0.5, 0.5]) == "▄▄▄"
    assert charts.sparkline([0.1, 0.9]) == "▁█"
    assert charts.sparkline([0.50, 0.51, 0.50], 0.3, 0.7) == "▅▅▅"  # inside the limits: near the middle
    assert charts.sparkline([0.50, 0.51, 0.20], 0.3, 0.7) == "▅▅▁"  # a point beyond: the scale stretches
    data = charts.chart_data(demo_flag())
    lines = charts.text_lines(data)
    assert lines[0].startswith("2022–2025  ") and lines[0].split()[1][-1] == "▁"  # the 2025 fall
    strip = charts.position_strip(data)
    assert len(strip) == charts.STRIP_WIDTH and strip.index("●") < strip.index("│")  # below the lower limit
    assert charts.chart_data(type("F", (), {"value": None, "states": []})()) is None


# ---------------------------------------------------------------- SVG and PNG


def hostile_data():
    data = charts.chart_data(demo_flag())
    data["label"] = '<script>alert(1)</script> $\\frac{1}{2}$ & "x"'
    data["funnel"]["group"] = "\x1b[31menheter <b>"
    return data


@pytest.fixture(scope="module")
def svgs():
    data = hostile_data()
    return data, {which: charts.svg(data, which) for which in (charts.FUNNEL, charts.RUN)}


def test_svg_is_inline_safe_and_has_no_scripts_or_fetches(svgs):
    _, pictures = svgs
    for svg in pictures.values():
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "<script" not in svg.lower() and "javascript:" not in svg.lower()
        assert not re.search(r'(href|src)="(?!#)', svg)  # only references inside the picture
        assert "<image" not in svg and "@import" not in svg
        # the hostile label is text: escaped, and "$…$" is not turned into mathtext
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        assert "$\\frac{1}{2}$" in svg
        assert "\x1b" not in svg  # a control character is not even valid XML: shown as a symbol
    assert "<title>Trattdiagram: " in pictures[charts.FUNNEL] and "<title>Serie över tid: " in pictures[charts.RUN]


def test_svg_is_deterministic_and_ids_differ_between_pictures(svgs):
    data, pictures = svgs
    assert charts.svg(data, charts.FUNNEL) == pictures[charts.FUNNEL]
    ids = [set(re.findall(r'id="([^"]+)"', svg)) for svg in pictures.values()]
    assert ids[0] and not (ids[0] & ids[1])  # two pictures in one page never share an id


def test_png_for_docx():
    png = charts.png(charts.chart_data(demo_flag()), charts.RUN)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


# ---------------------------------------------------------------- start-up never pays for the pictures


@pytest.mark.parametrize(
    "code",
    [
        "import assistant.cli, assistant.tui.app, assistant.tui.dialogue, assistant.chat, assistant.export",
        "from assistant.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass",
    ],
)
def test_start_up_does_not_import_the_plotting_libraries(code):
    probe = code + "\nimport sys\nprint(sorted(m for m in ('matplotlib', 'plotext', 'textual_plotext', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------- in the documents


def test_a_discussed_flag_shows_its_pictures_in_every_document(isolated_dirs, tmp_path):
    from docx import Document

    from tests.test_chat import chat
    from tests.test_cli_archive import run

    assert run("data", "demo")[0] == 0
    code, _, _ = chat(None, "/förslag\n/ta 1\nVi bytte telefonsystem.\n/quit\n", "--flow", "fysioterapi-2023", "--clinic", "Fysio Norr (påhittad)")
    assert code == 0
    code, out, _ = run("list", "--json")
    import json

    ref = json.loads(out)[0]["id"][:8]
    html_path, md_path, docx_path = tmp_path / "d.html", tmp_path / "d.md", tmp_path / "d.docx"
    for fmt, path in (("html", html_path), ("md", md_path), ("docx", docx_path)):
        assert run("export", ref, "--format", fmt, "-o", str(path))[0] == 0
    page = html_path.read_text(encoding="utf-8")
    assert "default-src 'none'" in page and "<script" not in page.lower()
    data = page[page.index("Data som diskuterades") :]
    assert data.count("<svg") == 2 and "<title>Trattdiagram: Telefontillgänglighet 2025</title>" in data
    assert "2022–2025" in md_path.read_text(encoding="utf-8")
    doc = Document(str(docx_path))
    assert len(doc.inline_shapes) == 2
