"""The region's learning loop: before (the pre-meeting pack), after (review cycle, actions that
live on) and across dialogues (the region overview), through the CLI, the line mode and replay."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest

from assistant import engine as E
from assistant.database import open_store
from assistant.session import Dialogue
from tests.conftest import T0
from tests.test_chat import chat, user_flows  # noqa: F401 - fixture
from tests.test_cli_archive import run


def held_dialogue(clinic: str, *, flow: str = "fysioterapi-2023", work_on: str = "Telefontiderna", wish: str | None = None,
                  due: str | None = "2020-01-01", park: bool = False, feedback: str | None = None) -> str:
    """A finished dialogue with the summary answered, an overdue action and (optionally) a wish."""
    with open_store() as store:
        d = Dialogue.start(store, flow, E.StartOptions(clinic=clinic))
        d.do(E.Answer("Tre fysioterapeuter"))
        if park:
            d.do(E.Park())
        d.do(E.AddAction("Se över telefontiderna", owner="Anna", due=due))
        d.do(E.AddAction("Utbilda i avvikelser"))
        d.do(E.UpdateAction("a2", status="done"))
        d.do(E.Jump("sammanfattning"))
        d.do(E.Answer("Bemötandet"))
        d.do(E.Answer(work_on))
        if feedback or wish:
            d.do(E.Jump("aterkoppling"))
            if feedback:
                d.do(E.Answer(feedback))
            if wish:
                while d.state.current and d.state.current.qid != "aterkoppling.kommande_mote":
                    d.do(E.Skip())
                d.do(E.Answer(wish))
        d.do(E.Finish())
        return d.id


# ---------------------------------------------------------------- review cycle


def test_review_cycle_is_events_replayed_and_listed(user_flows):  # noqa: F811
    did = held_dialogue("Fysio Åby")
    code, _, err = run("review", did[:8], "--status", "commented", "--who", "Åsa")
    assert code == 2 and "--note" in err  # a comment says what was commented
    assert run("review", did[:8], "--status", "sent", "--who", "Per")[0] == 0
    assert run("review", did[:8], "--status", "commented", "--who", "Åsa", "--note", "P3: fel antal")[0] == 0
    assert run("review", did[:8], "--status", "approved", "--who", "Åsa")[0] == 0
    with open_store() as store:
        d = Dialogue.resume(store, did)
        events = [e for e in store.load_events(did) if e.kind == "reviewed"]
    assert [(e.payload["status"], e.payload.get("who"), e.text) for e in events] == [
        ("sent", "Per", None), ("commented", "Åsa", "P3: fel antal"), ("approved", "Åsa", None)
    ]
    assert [r.status for r in d.state.review] == ["sent", "commented", "approved"]
    assert d.state.review_status == "approved"
    rows = json.loads(run("list", "--json")[1])
    assert rows[0]["review"] == "approved"
    assert "godkänd" in run("list")[1]
    out = run("review", did[:8])[1]
    assert "Skickad till Fysioterapimottagning (Per)" in out and "P3: fel antal" in out
    md = run("export", did[:8], "--format", "md", "-o", "-")[1]
    assert "**Granskning:** godkänd" in md and "## Granskning av dokumentationen" in md


def test_review_needs_a_held_meeting_and_a_known_status():
    from assistant.flows import get_flow

    flow = get_flow("fysioterapi-2023").flow
    prepared = E.replay(flow, E.start(flow, E.StartOptions(clinic="X", prepared=True), T0))
    with pytest.raises(E.EngineError, match="inte börjat"):
        E.step(prepared, E.Review("sent"), T0)
    held = E.replay(flow, E.start(flow, E.StartOptions(clinic="X"), T0))
    with pytest.raises(E.EngineError):
        E.step(held, E.Review("archived"), T0)
    made = E.step(held, E.Review("sent", who="Per"), T0)
    assert E.advance(held, made).review_status == "sent"


# ---------------------------------------------------------------- actions live on


def test_actions_set_owner_and_due_and_overdue_is_marked(user_flows):  # noqa: F811
    did = held_dialogue("Fysio Åby", due="2020-01-01")
    out = run("actions")[1]
    assert f"⚠ {did[:8]}:a1" in out and "FÖRSENAD" in out and "1 åtgärd är försenad" in out
    assert f"☑ {did[:8]}:a2" in out
    rows = json.loads(run("actions", "--json")[1])
    assert {r["action_id"]: r["overdue"] for r in rows} == {"a1": True, "a2": False}
    assert run("actions", "--set", f"{did[:8]}:a1", "--owner", "Bo", "--due", "2099-12-31", "--who", "Per")[0] == 0
    rows = json.loads(run("actions", "--json")[1])
    a1 = next(r for r in rows if r["action_id"] == "a1")
    assert (a1["owner"], a1["due"], a1["overdue"]) == ("Bo", "2099-12-31", False)
    assert json.loads(run("actions", "--overdue", "--json")[1]) == []
    with open_store() as store:
        updates = [e.payload for e in store.load_events(did) if e.kind == "action_updated"]
        assert Dialogue.resume(store, did).state.actions["a1"].owner == "Bo"  # replay agrees with the projection
    assert updates[-1] == {"action_id": "a1", "owner": "Bo", "due": "2099-12-31", "who": "Per"}
    code, _, err = run("actions", "--set", f"{did[:8]}:a1", "--due", "2099-13-01")
    assert code == 2 and "inget giltigt datum" in err
    code, _, err = run("actions", "--owner", "Bo")
    assert code == 2 and "--set" in err
    assert run("actions", "--set", f"{did[:8]}:a1", "--owner", "")[0] == 0  # an empty owner clears it
    assert json.loads(run("actions", "--json")[1])[0]["owner"] is None


def test_overdue_action_is_marked_in_every_export(user_flows):  # noqa: F811
    did = held_dialogue("Fysio Åby", due="2020-01-01")
    md = run("export", did[:8], "--format", "md", "-o", "-")[1]
    assert "**öppen, försenad**" in md
    html = run("export", did[:8], "--format", "html", "-o", "-")[1]
    assert 'class="overdue"' in html and "⚠ öppen, försenad" in html
    show = run("show", did[:8])[1]
    assert "⚠ öppen, försenad" in show


def test_action_overdue_is_a_calendar_question():
    assert E.action_overdue("open", "2026-03-11", date(2026, 3, 12))
    assert not E.action_overdue("open", "2026-03-12", date(2026, 3, 12))  # due today is not late yet
    assert not E.action_overdue("done", "2020-01-01", date(2026, 3, 12))
    assert not E.action_overdue("open", None, date(2026, 3, 12))


def test_accepting_gor_om_till_atgard_asks_for_owner_and_date_in_the_line_mode(user_flows):  # noqa: F811
    script = "/avsnitt sammanfattning\nBra\nUppdatera hemsidan\n/förslag\n/ta 1\nAnna\n2027-13-40\n2027-03-31\n/avsluta\n"
    code, out, _ = chat(user_flows, script, "--flow", "fysioterapi-2023", "--clinic", "X")
    assert code == 0
    assert "Ansvarig (Enter hoppar över): Anna" in out and "inget giltigt datum" in out
    assert "1. Gör om det ni ska jobba vidare med till åtgärder" in out
    assert "Åtgärd a1 sparad (ansvarig Anna, 2027-03-31): Uppdatera hemsidan" in out
    with open_store() as store:
        row = store.list_dialogues()[0]
        added = [e for e in store.load_events(row["id"]) if e.kind == "action_added"]
    assert added[0].payload == {"action_id": "a1", "owner": "Anna", "due": "2027-03-31"}


def test_previous_dialogue_carries_the_parking_lot_and_its_actions_can_be_ticked_off(user_flows):  # noqa: F811
    old = held_dialogue("Fysio Åby", park=True, due="2020-01-01")
    script = "/förra\n/ändra 1 ansvarig Bo; 2099-01-01\n/bocka 1\n/avsluta\n"
    code, out, _ = chat(user_flows, script, "--flow", "fysioterapi-2023", "--clinic", "Fysio Åby")
    assert code == 0
    assert "Kvar på parkeringsplatsen:" in out and "Hur är arbetsmiljön?" in out
    assert "1. ⚠ Se över telefontiderna (ansvarig Anna, 2020-01-01) – försenad" in out
    assert "Ändrad: Se över telefontiderna (ansvarig Bo, 2099-01-01)." in out
    assert f"Klar: Se över telefontiderna (sparat i dialogen {old[:8]})." in out
    with open_store() as store:
        new = next(r for r in store.list_dialogues() if r["id"] != old)
        updates = [e.payload for e in store.load_events(old) if e.kind == "action_updated"]
        assert Dialogue.resume(store, old).state.actions["a1"].status == "done"
    assert updates[-1] == {"action_id": "a1", "status": "done", "via": new["id"]}


# ---------------------------------------------------------------- before: the pack


def test_prepared_dialogue_exports_a_pack_with_data_last_year_and_the_method(user_flows, tmp_path):  # noqa: F811
    assert run("data", "demo")[0] == 0
    clinic = "Fysio Norr (påhittad)"
    held_dialogue(clinic, wish="Nästa gång vill vi titta på mönster", park=True)
    code, out, _ = chat(user_flows, "", "--flow", "fysioterapi-2023", "--clinic", clinic, "--prepare")
    assert code == 0
    # where the facilitator prepares: the trust principles and Förbättringstrappan
    assert "Tillit – sju grundprinciper:\n  – Tillitsfulla relationer" in out
    assert "Förbättringstrappan: Förbättringstrappan är en lärmodell" in out and "--pack --format html" in out
    prepared = next(r for r in json.loads(run("list", "--json")[1]) if r["status"] == "prepared")
    md = run("export", prepared["id"][:8], "--pack", "--format", "md", "-o", "-")[1]
    assert md.startswith("# Underlag inför uppföljningsdialogen")
    assert "Ej berört under dialogen" not in md  # not the empty documentation
    for part in (
        "## Fokusområden hittills",
        "P5 Mönster i verksamhetens utveckling (Patterns) | 15 | fokus",  # the wish pre-selected the area
        "Nästa gång vill vi titta på mönster",
        "| Se över telefontiderna | Anna | 2020-01-01 | **⚠ öppen, försenad** |",
        "| Utbilda i avvikelser |  |  | klar |",
        "**Kvar på parkeringsplatsen:**",
        "#### ▼ Telefontillgänglighet 2025",
        "Över tid: 2022 88\u00a0% · 2023 88\u00a0% · 2024 89\u00a0% · 2025 77\u00a0%",
        "Läge: ●",
        "## Stämmer siffrorna?",
        "Stämmer siffrorna för Telefontillgänglighet (2025: 77\u00a0%)? Hur registreras det hos er?",
        "### Tillit – sju grundprinciper",
        "7. Öppenhet – att värna om öppenhet vad gäller information, oliktänkande och kritik.",
        "### Förbättringstrappan",
    ):
        assert part in md, part
    target = tmp_path / "underlag.docx"
    assert run("export", prepared["id"][:8], "--pack", "--format", "docx", "-o", str(target))[0] == 0
    from docx import Document

    document = Document(str(target))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Underlag inför uppföljningsdialogen" in text and "Tillit – sju grundprinciper" in text
    assert len(document.inline_shapes) >= 2  # the pictures, as images
    html = run("export", prepared["id"][:8], "--pack", "--format", "html", "-o", "-")[1]
    assert "<h1>Underlag inför uppföljningsdialogen</h1>" in html
    # the pictures of what stands out: funnel plot and run chart
    assert "<title>Trattdiagram: Telefontillgänglighet 2025</title>" in html
    assert "<title>Serie över tid: Telefontillgänglighet 2025</title>" in html
    code, _, err = run("export", prepared["id"][:8], "--pack", "--format", "json")
    assert code == 2 and "html, md eller docx" in err


def test_pack_says_why_small_numbers_are_not_flagged(user_flows):  # noqa: F811
    run("data", "demo")
    chat(user_flows, "", "--flow", "fysioterapi-2023", "--clinic", "Fysio Liten (påhittad)", "--prepare")
    did = json.loads(run("list", "--json")[1])[0]["id"]
    md = run("export", did[:8], "--pack", "--format", "md", "-o", "-")[1]
    small = md.split("### För få observationer – flaggas inte", 1)[1]
    assert "Telefontillgänglighet** 2025: 100\u00a0% (n = 18, minst 30 behövs)\n" in small
    assert "Varför: Slumpvariation beror på slumpmässiga förhållanden" in small


# ---------------------------------------------------------------- across: the region


def test_region_json_lists_every_clinic_with_its_figures(user_flows):  # noqa: F811
    a = held_dialogue("Fysio Åby", work_on="Telefontiderna och rekryteringen", feedback="Bra med tydliga frågor")
    held_dialogue("Fysio Björk", work_on="Telefontiden behöver ses över", due="2099-01-01", feedback="Tydliga underlag")
    run("review", a[:8], "--status", "approved")
    data = json.loads(run("region", "--format", "json")[1])
    clinics = {c["clinic"]: c for c in data["clinics"]}
    assert set(clinics) == {"Fysio Åby", "Fysio Björk"}
    for c in clinics.values():
        assert {"clinic", "dialogues", "open_actions", "overdue_actions", "review"} <= set(c)
    assert (clinics["Fysio Åby"]["open_actions"], clinics["Fysio Åby"]["overdue_actions"], clinics["Fysio Åby"]["done_actions"]) == (1, 1, 1)
    assert clinics["Fysio Björk"]["overdue_actions"] == 0
    assert clinics["Fysio Åby"]["review"] == "approved" and clinics["Fysio Björk"]["review"] is None
    assert "P1 Personal (Persons)" in clinics["Fysio Åby"]["areas_discussed"]
    assert "P2 Verksamhetens syfte – vision (Purpose)" in clinics["Fysio Åby"]["areas_untouched"]
    themes = {t["theme"]: t for t in data["themes"]}
    tele = next(t for t in data["themes"] if any(f.startswith("telefontid") for f in t["forms"]))
    assert set(tele["forms"]) >= {"telefontiderna", "telefontiden"} and tele["clinics"] == ["Fysio Björk", "Fysio Åby"]
    assert "tydliga" in themes or any("tydlig" in t["forms"][0] for t in data["themes"])
    feedback = {f["question"]: f["answers"] for f in data["feedback"]}
    assert {x["clinic"] for x in feedback["Vad är bra?"]} == {"Fysio Åby", "Fysio Björk"}
    assert data["untouched_areas"][0]["areas"][0]["clinics"] == 2
    assert run("region", "--year", "1999", "--format", "json")[0] == 0
    assert json.loads(run("region", "--year", "1999", "--format", "json")[1])["clinics"][0]["dialogues"] == 0


def test_region_in_every_format(user_flows, tmp_path):  # noqa: F811
    run("data", "demo")
    held_dialogue("Fysio Norr (påhittad)", feedback="<script>alert(1)</script> [b]fet[/b]")
    md = run("region")[1]
    assert md.startswith("# Regionöversikt")
    # each indicator across all clinics, a clinic compared with its peers only (kinds of clinic)
    tele = md.split("### Telefontillgänglighet 2025 – fysioterapimottagningar", 1)[1].split("###", 1)[0]
    assert "Fysio Norr (påhittad): 77\u00a0% (n = 1\u00a0204) – långt under gränserna" in tele
    assert "Vårdcentralen" not in tele and "### Telefontillgänglighet 2025 – vårdcentraler" in md
    assert "\\<script\\>" in md
    html = run("region", "--format", "html")[1]
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert html.count("<svg") >= 2 and "<title>Trattdiagram: Telefontillgänglighet 2025</title>" in html
    target = tmp_path / "region.docx"
    assert run("region", "--format", "docx", "-o", str(target))[0] == 0
    from docx import Document

    text = "\n".join(p.text for p in Document(str(target)).paragraphs)
    assert "Regionöversikt" in text and "Återkoppling till regionen, samlad" in text
    code, _, err = run("region", "--format", "docx")
    assert code == 2 and "-o" in err
    code, _, err = run("region", "--flow", "finns-inte")
    assert code == 2 and "inget flöde" in err


def test_themes_group_swedish_word_forms():
    from assistant.region import themes

    found = themes(
        {
            "A": ["Rekryteringen av läkare och telefontiderna"],
            "B": ["Vi ska rekrytera fler och se över telefontider"],
            "C": ["Lokalerna och avvikelserapporteringen"],
            "D": ["Färre avvikelser"],
        }
    )
    by_label = {tuple(sorted(t.forms)): t.clinics for t in found}
    assert by_label[("rekrytera", "rekryteringen")] == ["A", "B"]
    assert by_label[("telefontider", "telefontiderna")] == ["A", "B"]
    # a stem gathers the longer words that start with it, as a rule's stem matches them
    assert by_label[("avvikelser", "avvikelserapporteringen")] == ["C", "D"]
    assert all("lokalerna" not in t.forms for t in found)  # one clinic is not a recurring theme


# ---------------------------------------------------------------- flows true to their settings


def test_vardcentral_asks_for_two_to_three_focus_areas_without_focus(user_flows):  # noqa: F811
    code, out, _ = chat(user_flows, "P1\nP1,P4\n\n/avsluta\n", "--flow", "vardcentral", "--clinic", "VC Åby")
    assert code == 0
    assert "Välj ut 2-3 områden som är extra viktiga att diskutera (2–3 per part):" in out
    assert "Välj 2–3 fokusområden (1 valda)" in out  # a single area is refused and asked again
    assert "Fokusområden (Vårdcentralen): P1 Syfte, P4 Processer" in out
    assert "Fokusområden för Regionen" in out and "Mottagningen" not in out and "Vårdvalsenheten" not in out
    code, out, err = chat(user_flows, "", "--flow", "vardcentral", "--clinic", "VC", "--prepare", "--focus", "VÅRDCENTRALEN=P1,P2")
    assert code == 0 and "Fokusområden (Vårdcentralen): P1 Syfte, P2 Patienter" in out  # the flow's party, by its id
    with open_store() as store:
        row = next(r for r in store.list_dialogues() if r["clinic"] == "VC")
        assert [e.payload["party"] for e in store.load_events(row["id"]) if e.kind == "focus_chosen"] == ["vardcentralen"]


def test_nara_vard_dialogues_belong_to_a_del_and_the_next_continues_it(user_flows):  # noqa: F811
    code, out, _ = chat(user_flows, "/avsluta\n", "--flow", "nara-vard", "--clinic", "Södra Älvsborg")
    assert "Del 1: Förbereda för gemensam uppföljning och utveckling:" in out
    assert "Under uppföljningsdialogen" not in out
    first = json.loads(run("list", "--json")[1])[0]["id"]
    # Del 1 was left open: the next Del is a new dialogue all the same (--ny)
    code, out, _ = chat(user_flows, "/avsluta\n", "--flow", "nara-vard", "--clinic", "Södra Älvsborg", "--ny")
    assert "Del 2: Utveckla modell för gemensam uppföljning och utveckling:" in out
    assert "Fortsätter lärmöte" in out and first[:8] in out
    with open_store() as store:
        second = next(r for r in store.list_dialogues() if r["id"] != first)
        started = store.load_events(second["id"])[0].payload
    assert (started["stage"], started["continues"]) == ("del-2", first)
    md = run("export", second["id"][:8], "--format", "md", "-o", "-")[1]
    assert md.startswith("# Dokumentation av lärmötet") and "**Samverkansområde:** Södra Älvsborg" in md
    assert "**Mottagning:**" not in md and "**Del:** Del 2" in md
    code, _, err = chat(user_flows, "", "--flow", "nara-vard", "--clinic", "X", "--stage", "del-9", "--prepare")
    assert code == 2 and "Okänd del" in err


def test_self_assessment_document_title_and_vi_form_reasons(user_flows):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "fysioterapi-2023", E.StartOptions(clinic="X", mode="self"))
        d.do(E.Jump("sammanfattning"))
        d.do(E.Answer("Bemötandet"))
        d.do(E.Answer("Telefontiderna"))
        reasons = [s.reason for s in d.suggestions()]
        did = d.id
    assert "Gör om det vi ska jobba vidare med till åtgärder med ansvarig och datum." in reasons
    md = run("export", did[:8], "--format", "md", "-o", "-")[1]
    assert md.startswith("# Vår självskattning") and "Dokumentation och återkoppling efter genomförd" not in md
    assert "Vad gör vi bra?" in md


def test_replay_of_new_events_is_exact():
    from assistant.flows import get_flow

    flow = get_flow("fysioterapi-2023").flow
    events = E.start(flow, E.StartOptions(clinic="X"), T0)
    state = E.replay(flow, events)
    for command in (E.AddAction("A", owner="Anna", due="2020-01-01"), E.UpdateAction("a1", owner="Bo", due=""),
                    E.Finish(), E.Review("sent", who="Per"), E.Review("commented", note="rättelse")):
        made = E.step(state, command, datetime(2026, 3, 12, 10, tzinfo=UTC))
        events += made
        state = E.advance(state, made)
    again = E.replay(flow, events)
    assert again.actions["a1"].owner == "Bo" and again.actions["a1"].due is None
    assert [(r.status, r.who, r.note) for r in again.review] == [("sent", "Per", None), ("commented", None, "rättelse")]
    with pytest.raises(E.EngineError, match="inget ändrades"):
        E.step(again, E.UpdateAction("a1", owner="Bo"), T0)
    stream = io.StringIO()
    json.dump([e.to_dict() for e in events], stream)
    assert [E.Event.from_dict(x) for x in json.loads(stream.getvalue())] == events


def test_region_lists_open_actions_overdue_first_and_at_most_ten_per_clinic(user_flows):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "fysioterapi-2023", E.StartOptions(clinic="Fysio Åby"))
        for i in range(11):
            d.do(E.AddAction(f"Åtgärd {i}", due="2099-01-01"))
        d.do(E.AddAction("Den försenade", due="2020-01-01"))
        d.do(E.AddAction("Den klara"))
        d.do(E.UpdateAction("a13", status="done"))
    clinic = json.loads(run("region", "--format", "json")[1])["clinics"][0]
    assert (clinic["open_actions"], clinic["overdue_actions"], clinic["done_actions"]) == (12, 1, 1)
    assert [a["text"] for a in clinic["actions"]][:2] == ["Den försenade", "Åtgärd 0"]
    assert len(clinic["actions"]) == 12 and clinic["actions_shown"] == 10
    md = run("region")[1]
    assert "⚠ Den försenade" in md and "Åtgärd 8" in md and "Åtgärd 9" not in md
    assert "… och 2 öppna åtgärder till" in md and "Den klara" not in md
