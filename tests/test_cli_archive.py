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


def test_list_status_takes_the_words_the_list_shows(held):
    ids = lambda *argv: [r["id"] for r in json.loads(run("list", *argv, "--json")[1])]  # noqa: E731
    for word in ("avslutad", "Avslutad", "finished"):
        assert ids("--status", word) == [held]
    for word in ("pågår", "PÅGÅR", "in_progress", "förberedd", "prepared"):
        assert ids("--status", word) == []
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as stopped:
        main(["list", "--status", "klar"])
    assert stopped.value.code == 2
    err = err.getvalue()
    assert err.endswith("argument --status: okänd status 'klar' (skriv förberedd, pågår, avslutad)\n")
    assert "--status STATUS" in err


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
    open_store().close()  # an empty database (a missing one is an error for `list`: see below)
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


def _many(count: int) -> list[str]:
    """``count`` dialogues made straight in the store (synthetic events, two actions each), newest last."""
    from datetime import UTC, datetime, timedelta

    from assistant.events import Event

    ids = []
    with open_store() as store:
        for n in range(count):
            at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
            did = f"{n:08d}-0000-4000-8000-000000000000"
            events = [
                Event(1, "started", at, payload={"flow_id": "mini", "clinic": f"Fysio {n % 7}", "mode": "facilitator"}),
                Event(2, "action_added", at, text=f"Åtgärd {n}a", payload={"action_id": "a1", "owner": "Åsa"}),
                Event(3, "action_added", at, text=f"Åtgärd {n}b", payload={"action_id": "a2", "due": "2020-01-01"}),
            ]
            store.create_dialogue(
                dialogue_id=did, clinic=f"Fysio {n % 7}", flow_id="mini", flow_version=1, flow_sha256="",
                mode="facilitator", participants=[], status="in_progress", events=events,
            )
            ids.append(did)
    return ids


def test_list_and_actions_json_stream_every_row_in_order(isolated_dirs):
    """Printed as they are read, in batches of 256: every row once, in order, the same JSON text as the whole list."""
    from assistant.commands.archive import dialogue_json
    from assistant.textsafe import json_text

    _many(600)
    with open_store() as store:
        dialogues = store.list_dialogues()
        actions = store.list_actions()
    assert len(dialogues) == 600 and len(actions) == 1200
    code, out, _ = run("list", "--json")
    assert code == 0
    assert out == json_text([dialogue_json(r) for r in dialogues], indent=2) + "\n"
    code, out, _ = run("actions", "--json")
    assert code == 0
    assert [(a["dialogue_id"], a["action_id"]) for a in json.loads(out)] == [(a["dialogue_id"], a["action_id"]) for a in actions]
    assert sum(a["overdue"] for a in json.loads(out)) == 600  # the a2 of each, due 2020
    code, out, _ = run("actions", "--overdue")
    assert code == 0 and out.count("⚠ ") == 600 and out.rstrip().endswith("600 åtgärder är försenade (⚠).")
    code, out, _ = run("list")
    assert code == 0 and len(out.splitlines()) == 601  # the header and every dialogue


def test_empty_lists_say_so(isolated_dirs):
    open_store().close()
    assert run("list", "--json")[1] == "[]\n"
    assert run("actions", "--json")[1] == "[]\n"
    assert run("list")[1].startswith("Inga dialoger.")
    assert run("actions")[1] == "Inga åtgärder.\n"


@pytest.mark.parametrize(
    "command",
    [("list",), ("show", "abc"), ("search", "x"), ("export", "abc"), ("actions",), ("review", "abc"),
     ("region",), ("data", "flags", "--clinic", "X")],
)
def test_a_command_that_reads_does_not_create_a_mistyped_database(isolated_dirs, tmp_path, command):
    missing = tmp_path / "nonexist" / "q.db"
    code, out, err = run("--db", str(missing), *command)
    assert code == 2 and out == ""
    assert err == (
        f"dialogstod: Databasen {missing} finns inte. Kontrollera --db (eller $DIALOGSTOD_DB), eller skapa den "
        "genom att starta appen (`dialogstod`) eller en dialog (`dialogstod chat`).\n"
    )
    assert not missing.parent.exists()


def test_the_default_database_and_the_commands_that_write_are_still_created(isolated_dirs, tmp_path, monkeypatch):
    monkeypatch.delenv("DIALOGSTOD_DB")  # a fresh machine: the data directory's file
    assert run("list") == (0, "Inga dialoger. Starta en med `dialogstod chat` eller `dialogstod`.\n", "")
    made = tmp_path / "ny" / "q.db"
    assert run("--db", str(made), "data", "demo")[0] == 0 and made.exists()
    assert run("--db", str(made), "list")[0] == 0


def test_json_export_needs_no_flow_but_show_says_what_is_missing(isolated_dirs, tmp_path):
    """The JSON export is the stored log: it is written even when the dialogue's flow is gone."""
    from datetime import UTC, datetime

    from assistant.events import Event

    with open_store() as store:
        store.create_dialogue(
            dialogue_id="deadbeef-0000-4000-8000-000000000000", clinic="Fysio Åby", flow_id="borttaget",
            flow_version=1, flow_sha256="", mode="facilitator", participants=[], status="finished",
            events=[Event(1, "started", datetime(2026, 1, 1, tzinfo=UTC), payload={"flow_id": "borttaget"})],
        )
    code, out, _ = run("export", "deadbeef", "-f", "json", "-o", str(tmp_path / "d.json"))
    assert code == 0 and "Skrev" in out
    doc = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert doc["dialogue"]["flow_id"] == "borttaget" and doc["events"][0]["kind"] == "started"
    code, _, err = run("show", "deadbeef")
    assert code == 2 and "borttaget" in err and "Traceback" not in err
    code, _, err = run("export", "0000", "-f", "json")
    assert code == 2 and "Det finns ingen dialog '0000'" in err


def test_locate_check_reads_the_whole_database(held, tmp_path):
    import sqlite3

    from assistant import locations

    code, out, _ = run("locate", "--check")
    assert code == 0 and "hela databasfilen är läsbar och hel" in out
    code, out, _ = run("locate", "--check", "--json")
    assert code == 0 and json.loads(out)["database_checked"] is True
    copy = tmp_path / "copy.db"
    with sqlite3.connect(locations.db_path()) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    conn = sqlite3.connect(copy)
    conn.execute("PRAGMA journal_mode = DELETE")
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    (last,) = conn.execute(  # an index of the events: `list` never reads it, the glance at open neither
        "SELECT max(pageno) FROM dbstat WHERE name IN "
        "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events')"
    ).fetchone()
    conn.close()
    data = bytearray(copy.read_bytes())
    data[(last - 1) * page_size : last * page_size] = bytes([0xA5]) * page_size
    copy.write_bytes(bytes(data))
    assert run("--db", str(copy), "list")[0] == 0  # a clean close: no check at open, the damage is further in
    code, _, err = run("--db", str(copy), "locate", "--check")
    assert code == 2 and "skadad" in err
    code, _, err = run("--db", str(tmp_path / "nej.db"), "locate", "--check")
    assert code == 2 and "finns inte" in err and not (tmp_path / "nej.db").exists()


def test_the_program_ends_with_all_its_output_written(isolated_dirs):
    """The console script ends without the interpreter's teardown (``cli.run``): what it printed is
    all there in a pipe, and a reader that stops early (`| head`) is no error."""
    import subprocess
    import sys

    from tests.conftest import REPO

    _many(600)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe is block-buffered
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "list", "--json"], capture_output=True, env=env, cwd=REPO)
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 600
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "actions"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO
    )
    assert proc.stdout.readline().startswith(b"\xe2\x98\x90")  # ☐, then the reader goes away
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait() == 0 and b"Traceback" not in err and b"BrokenPipe" not in err
