"""Reviewing past dialogues from the command line: list, show, search, export, bundle, actions,
correct, locate."""

from __future__ import annotations

import io
import json
import os
import stat
from contextlib import redirect_stderr, redirect_stdout

import pytest

from assistant import engine as E
from assistant.cli import main
from assistant.database import open_store
from assistant.session import Dialogue
from tests.test_chat import user_flows  # noqa: F401 - fixture


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def held(user_flows):  # noqa: F811
    """A finished dialogue with answers, a note, a parked question and an action."""
    with open_store() as store:
        d = Dialogue.start(
            store, "mini", E.StartOptions(clinic="Fysio Åby", participants=(E.Participant("Åsa Öberg", "presenterar data"),))
        )
        d.do(E.Answer("Tre fysioterapeuter och en rehabassistent"))
        d.do(E.Answer("Avvikelserapporteringen behöver bli enklare"))
        d.do(E.Park())
        d.do(E.AddNote("Chefen är ny sedan våren"))
        d.do(E.AddAction("Förenkla avvikelserapporteringen", owner="Åsa", due="2027-03-31"))
        d.do(E.Jump("sammanfattning"))
        d.do(E.Answer("Samarbetet i teamet"))
        d.do(E.Answer("Telefontillgängligheten"))
        d.do(E.Finish())
        return d.id


def test_list_json_has_the_documented_fields(held):
    code, out, _ = run("list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows == [
        {
            "id": held,
            "clinic": "Fysio Åby",
            "flow": "mini",
            "flow_version": 1,
            "mode": "facilitator",
            "status": "finished",
            "review": None,
            "started": rows[0]["started"],
            "updated": rows[0]["updated"],
        }
    ]
    assert run("list", "--status", "in_progress", "--json")[1].strip() == "[]"
    assert run("list", "--clinic", "fysio åby", "--json")[1] != "[]\n"


def test_list_year_filters_on_the_year_started(held):
    year = int(json.loads(run("list", "--json")[1])[0]["started"][:4])
    assert [r["id"] for r in json.loads(run("list", "--year", str(year), "--json")[1])] == [held]
    assert run("list", "--year", str(year - 1), "--json")[1].strip() == "[]"
    code, out, _ = run("list", "--year", str(year + 1))
    assert code == 0 and out == "Inga dialoger.\n"


def test_show_groups_by_area_with_notes_parking_and_actions(held):
    code, out, _ = run("show", held[:8])
    assert code == 0
    assert out.index("── P1 Personal") < out.index("── P2 Syfte") < out.index("── Sammanfattning")
    assert "> Tre fysioterapeuter och en rehabassistent" in out
    assert "Anteckning: Chefen är ny sedan våren" in out
    assert "a1. Förenkla avvikelserapporteringen · ansvarig Åsa · 2027-03-31 · öppen" in out
    assert "Parkeringsplatsen:\n  – Hur ser verksamhetens egen verksamhetsidé och vision ut?" in out


def test_search_with_swedish_prefix(held):
    code, out, _ = run("search", "avvik*", "--json")
    hits = json.loads(out)
    assert code == 0 and hits and all(h["dialogue_id"] == held for h in hits)
    assert any("«Avvikelserapporteringen»" in h["snippet"] for h in hits)
    code, out, _ = run("search", "telefontillgängligheten")
    assert out.rstrip().endswith("1 träff.")
    code, _, err = run("search", '"')
    assert code == 2 and "dialogstod:" in err


@pytest.mark.parametrize("fmt", ["md", "html", "docx", "json"])
def test_export_writes_a_private_file(held, tmp_path, fmt):
    path = tmp_path / f"ut.{fmt}"
    code, out, _ = run("export", held[:8], "--format", fmt, "-o", str(path))
    assert code == 0 and str(path) in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = path.read_bytes()
    if fmt == "json":
        assert json.loads(data)["dialogue"]["id"] == held
    elif fmt == "docx":
        from docx import Document

        text = "\n".join(p.text for p in Document(str(path)).paragraphs)
        assert "Förenkla avvikelserapporteringen" in "\n".join(
            c.text for t in Document(str(path)).tables for r in t.rows for c in r.cells
        )
        assert "Dokumentation och återkoppling efter genomförd Uppföljningsdialog" in text
        assert "Samarbetet i teamet" in text
    else:
        text = data.decode()
        assert "Fysio Åby" in text and "Samarbetet i teamet" in text and "Åsa Öberg" in text


def test_export_default_name_and_world_readable(held, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("export", held[:8], "-f", "md", "--world-readable")
    assert code == 0
    (path,) = tmp_path.glob("uppfoljningsdialog-fysio-aby-*.md")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_json_export_reimports_as_a_bundle(held, tmp_path):
    path = tmp_path / "d.json"
    run("export", held, "-f", "json", "-o", str(path))
    other = tmp_path / "annan.db"
    code, out, _ = run("--db", str(other), "bundle", "import", str(path))
    assert code == 0 and "Läste in 1 ny dialog från" in out
    code, out, _ = run("--db", str(other), "show", held[:8])
    assert "Tre fysioterapeuter" in out


def test_bundle_round_trip_is_idempotent(held, tmp_path):
    bundle = tmp_path / "b.json"
    assert run("bundle", "export", held[:8], "-o", str(bundle))[0] == 0
    assert stat.S_IMODE(os.stat(bundle).st_mode) == 0o600
    other = tmp_path / "arkiv.db"
    assert "Läste in 1 ny dialog" in run("--db", str(other), "bundle", "import", str(bundle))[1]
    code, out, _ = run("--db", str(other), "bundle", "import", str(bundle))
    assert code == 0 and "Läste in 0 nya dialoger, 1 fanns redan från" in out
    bundle.write_text(bundle.read_text()[:-40])
    code, _, err = run("--db", str(other), "bundle", "import", str(bundle))
    assert code == 2 and err.startswith("dialogstod: ")


def test_actions_list_and_mark_done(held):
    code, out, _ = run("actions", "--open")
    assert f"☐ {held[:8]}:a1" in out and "ansvarig Åsa · klart senast 2027-03-31" in out
    code, out, _ = run("actions", "--done", f"{held[:8]}:a1", "--who", "Per")
    assert code == 0 and "är nu klar" in out
    assert run("actions", "--open")[1].strip() == "Inga åtgärder."
    code, _, err = run("actions", "--done", "nonsense")
    assert code == 2 and "DIALOG:ÅTGÄRD" in err


def test_correction_after_the_meeting_is_an_event_and_shows_in_the_export(held, tmp_path):
    code, out, _ = run("correct", held[:8], "p1.vilka", "Fyra fysioterapeuter", "--who", "Åsa Öberg")
    assert code == 0
    with open_store() as store:
        events = store.load_events(held)
    assert [e.kind for e in events].count("answered") == 4  # nothing overwritten
    assert events[-1].kind == "corrected" and events[-1].payload["previous"] == "Tre fysioterapeuter och en rehabassistent"
    md = run("export", held[:8], "-f", "md", "-o", "-")[1]
    assert "Fyra fysioterapeuter" in md and "Tre fysioterapeuter och en rehabassistent" in md  # latest + history
    assert "Rättad av Åsa Öberg" in md
    code, _, err = run("correct", held[:8], "p9.finns_inte", "x")
    assert code == 2 and "Okänd fråga" in err


def test_show_ids_and_a_correction_that_adds_a_missing_answer(held):
    code, out, _ = run("show", held[:8], "--ids")
    assert "Vilka arbetar här?  [p1.vilka]" in out
    code, out, _ = run("correct", held[:8], "p4.telefon", "Bra efter mötet", "--who", "Per")
    assert code == 0
    md = run("export", held[:8], "-f", "md", "-o", "-")[1]
    assert "Tillagt efter mötet av Per" in md and "tillagt efter mötet" in md
    assert 'tidigare: ""' not in md


def test_locate(isolated_dirs):
    code, out, _ = run("locate", "--json")
    places = json.loads(out)
    assert places["database"] == str(isolated_dirs / "dialogstod.db")
    assert places["flows"].endswith("flows") and places["templates"].endswith("prompts")


def test_database_option_and_environment(held, tmp_path, monkeypatch):
    monkeypatch.setenv("DIALOGSTOD_DB", str(tmp_path / "tom.db"))
    assert json.loads(run("list", "--json")[1]) == []
    monkeypatch.delenv("DIALOGSTOD_DB")
    assert json.loads(run("--db", str(tmp_path / "data" / "dialogstod.db"), "list", "--json")[1])[0]["id"] == held


def test_a_broken_regional_flow_does_not_hide_the_others(user_flows):  # noqa: F811
    (user_flows / "trasig.toml").write_text('id = "annat-id"\n', encoding="utf-8")
    code, out, err = run("flows", "list")
    assert code == 0
    assert "mini" in out and "fysioterapi-2023" in out
    assert "dialogstod: kunde inte läsa ett flöde:" in err and "trasig.toml" in err


def test_a_regional_catalogue_overrides_a_target(user_flows):  # noqa: F811
    from assistant.flows import default_catalogue

    assert default_catalogue().get("telefontillganglighet").target == 0.85
    (user_flows / "indicators.toml").write_text(
        '[[indicators]]\nid = "telefontillganglighet"\nname = "Telefontillgänglighet"\nsource = "Regionen"\n'
        'direction = "higher"\ntarget = 0.9\n',
        encoding="utf-8",
    )
    catalogue = default_catalogue()
    assert catalogue.get("telefontillganglighet").target == 0.9
    assert catalogue.get("mangsokare") is not None  # the rest is still there


def test_editing_a_flow_never_locks_out_old_dialogues(held, user_flows, tmp_path):  # noqa: F811
    flow_file = user_flows / "mini.toml"
    text = flow_file.read_text(encoding="utf-8")
    # the region removes a question the old dialogue answered and bumps the version
    flow_file.write_text(
        text.replace('version = 1', 'version = 2').replace(
            '[[sections.questions]]\nid = "p1.vilka"\ntext = "Vilka arbetar här?"\nself_text = "Vilka arbetar här hos oss?"\n',
            "",
        ),
        encoding="utf-8",
    )
    code, out, err = run("show", held[:8])
    assert code == 0, err
    assert "Vilka arbetar här?" in out and "Tre fysioterapeuter" in out  # read with the flow it was held on
    # moved to an archive that has never seen this regional flow
    flow_file.unlink()
    bundle = tmp_path / "b.json"
    run("bundle", "export", held[:8], "-o", str(bundle))
    archive = tmp_path / "arkiv.db"
    assert run("--db", str(archive), "bundle", "import", str(bundle))[0] == 0
    code, out, err = run("--db", str(archive), "export", held[:8], "-f", "md", "-o", "-")
    assert code == 0, err
    assert "Tre fysioterapeuter" in out


def test_a_bundle_with_a_tampered_flow_is_refused(held, tmp_path):
    bundle = tmp_path / "b.json"
    run("bundle", "export", held[:8], "-o", str(bundle))
    doc = json.loads(bundle.read_text(encoding="utf-8"))
    sha = next(iter(doc["flows"]))
    doc["flows"][sha]["source"] += "\n# ändrad"
    bundle.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    code, _, err = run("--db", str(tmp_path / "a.db"), "bundle", "import", str(bundle))
    assert code == 2 and "kontrollsumma" in err
