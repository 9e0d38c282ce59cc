"""The app's part of the learning loop: Regionöversikt, review status and action edits on a past
dialogue, "gör om till åtgärd" asking for owner and date, the previous dialogue's actions ticked
off from a new one, and parties read from the flow on Ny dialog."""

from __future__ import annotations

from assistant import engine as E
from tests.test_tui import (
    SIZE,
    app_for,
    finished_dialogue,
    held_dialogue,
    settle,
    start_dialogue,
)


async def test_region_overview_lists_every_clinic_with_review_and_overdue_actions(store, clock, mini):
    from assistant.tui.region import RegionScreen

    d = finished_dialogue(store, clock, clinic="Fysio Åby")
    d.do(E.AddAction("Gammal åtgärd", "Bo", "2020-01-01"))
    d.do(E.Review("approved", who="Åsa"))
    finished_dialogue(store, clock, clinic="Fysio Björk")
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RegionScreen)
        table = app.screen.query_one("#region-clinics")
        rows = {table.get_row_at(i)[0].plain: [c.plain for c in table.get_row_at(i)] for i in range(table.row_count)}
        assert set(rows) == {"Fysio Åby", "Fysio Björk"}
        assert rows["Fysio Åby"][4] == "godkänd" and rows["Fysio Björk"][4] == "inte skickad"
        assert rows["Fysio Åby"][1:3] == ["⚠ 1", "2"] and rows["Fysio Björk"][1] == "0"
        text = app.screen.query_one("#region-text").text
        assert "Gammal åtgärd · Bo · 2020-01-01 · FÖRSENAD" in text
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TranscriptScreen"


async def test_review_and_owner_due_from_the_transcript(store, clock, mini):
    d = finished_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_transcript(d.id)
        await settle(pilot)
        assert "granskning: inte skickad" in app.screen.query_one("TopBar #title").render().plain
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one("#review-who").value = "Per"
        await pilot.click("#save")
        await settle(pilot)
        assert "granskning: skickad" in app.screen.query_one("TopBar #title").render().plain
        await pilot.press("o")
        await pilot.pause()
        assert app.screen.query_one("#action-owner").value == "Anna"
        app.screen.query_one("#action-owner").value = "Bo"
        app.screen.query_one("#action-due").value = "2020-01-01"
        await pilot.click("#save")
        await settle(pilot)
        status = app.screen.query_one("#actions").get_row_at(0)[4].plain
        assert "försenad" in status
    reviewed = [e for e in store.load_events(d.id) if e.kind == "reviewed"]
    assert [(e.payload["status"], e.payload["who"]) for e in reviewed] == [("sent", "Per")]
    assert store.load_events(d.id)[-1].payload == {"action_id": "a1", "owner": "Bo", "due": "2020-01-01"}


async def test_gor_om_till_atgard_asks_for_owner_and_date(store, clock, mini):
    d = start_dialogue(store, clock)
    d.do(E.Jump("sammanfattning"))
    d.do(E.Answer("Bra stämning"))
    d.do(E.Answer("Telefontiderna"))
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_dialogue(d.id)
        await settle(pilot)
        action = next(s for s in app.screen.listed if s.action)
        app.screen.accept(action.sid)
        await pilot.pause()
        assert app.screen.query_one("#action-text").value == "Telefontiderna"
        assert app.focused.id == "action-owner"
        app.screen.query_one("#action-owner").value = "Anna"
        app.screen.query_one("#action-due").value = "2027-03-31"
        await pilot.click("#save")
        await settle(pilot)
    added = [e for e in store.load_events(d.id) if e.kind == "action_added"]
    assert (added[-1].text, added[-1].payload) == ("Telefontiderna", {"action_id": "a1", "owner": "Anna", "due": "2027-03-31"})


async def test_previous_dialogues_action_ticked_off_from_the_new_one(store, clock, mini):
    old = held_dialogue(store, clock)
    new = start_dialogue(store, clock)
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_dialogue(new.id)
        await settle(pilot)
        app.screen.find_previous = True  # as for a dialogue just started from Ny dialog
        app.screen.load_flags()
        await settle(pilot)
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("1")  # the first open action
        await pilot.pause()
        await pilot.press("1")  # Markera som klar
        await settle(pilot)
        kinds_texts = [(k, t) for k, t in [(m.msg.kind, m.render().plain) for m in app.screen.query("ChatMessage")]]
        previous = next(t for k, t in kinds_texts if k == "previous")
        assert "☑ Se över telefontiderna" in previous
    update = store.load_events(old.id)[-1]
    assert update.kind == "action_updated" and update.payload == {"action_id": "a1", "status": "done", "via": new.id}


async def test_new_dialogue_reads_the_parties_from_the_flow(store, clock, mini):
    app = app_for(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#flow").value = "vardcentral"
        await settle(pilot)
        labels = [lbl.render().plain for lbl in app.screen.query(".focus-party Label")]
        assert labels == ["Vårdcentralen", "Regionen"]
        app.screen.query_one("#flow").value = "nara-vard"
        await settle(pilot)
        assert [lbl.render().plain for lbl in app.screen.query(".focus-party Label")] == ["Regionen", "Kommunen"]
        assert not app.screen.query_one("#stage").has_class("hidden")
        app.screen.query_one("#flow").value = "fysioterapi-2023"
        await settle(pilot)
        app.screen.query_one("#mode").pressed_index  # noqa: B018
        await pilot.click("#mode RadioButton:last-of-type")
        await settle(pilot)
        assert [lbl.render().plain for lbl in app.screen.query(".focus-party Label")] == ["Fysioterapimottagning"]
        roles = [label.plain for label, _ in app.screen.role_options()]
        assert roles and not any("presentera data" in r for r in roles)
