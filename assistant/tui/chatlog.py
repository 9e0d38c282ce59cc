"""The conversation as messages: built from a dialogue's events, never kept as state of its own.

``messages(state, events, tracker)`` turns events into chat messages; the current prompt is laid
out from ``engine.prompt_view(state)``. Everything a person wrote goes through ``plain`` (no
markup, escapes visible). ``history`` builds a whole conversation (in a worker: a long one takes
tens of milliseconds) and ``block`` lays out many older messages as one piece of content, so that
a long conversation does not need a widget per message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.content import Content

from assistant import engine as E
from assistant import glossary
from assistant.tui.text import plain
from assistant.verbs import key_hint

if TYPE_CHECKING:
    from assistant.session import Dialogue

if TYPE_CHECKING:
    from assistant.session import Dialogue

VIA_LABELS = {"parked": "parkerad fråga", "suggestion": "förslag", "back": "tillbaka", "jump": ""}


@dataclass(frozen=True)
class Msg:
    kind: str  # prompt | answer | system | note | action | welcome | previous
    content: Content
    seq: int = 0
    qid: str | None = None  # the question a prompt or an answer is about


def answer_place(kinds_and_qids: list[tuple[str, str | None]], qid: str | None) -> int | None:
    """Where an answer to ``qid`` goes among messages shown so far (``(kind, qid)`` in order): right
    under its question and any answer already there – above the notes and actions made while the
    question was on screen – or None (at the end) when another question came after it."""
    for i in range(len(kinds_and_qids) - 1, -1, -1):
        kind, at = kinds_and_qids[i]
        if kind == "prompt":
            if at != qid:
                return None
            place = i + 1
            while place < len(kinds_and_qids) and kinds_and_qids[place] == ("answer", qid):
                place += 1
            return place if place < len(kinds_and_qids) else None
    return None


def reading_order(msgs: list[Msg]) -> list[Msg]:
    """``msgs`` (in the order they happened) in the order they read: each answer under its question."""
    out: list[Msg] = []
    for m in msgs:
        place = answer_place([(x.kind, x.qid) for x in out], m.qid) if m.kind == "answer" else None
        if place is None:
            out.append(m)
        else:
            out.insert(place, m)
    return out


@dataclass
class Tracker:
    """What the chat has already shown (a display detail, not dialogue state)."""

    last_section: str | None = None
    last_subarea: str | None = None
    seen: set[int] = field(default_factory=set)


def section_label(state: E.State, qid: str | None) -> tuple[str | None, str]:
    sid = state.section_id_of(qid) if qid else None
    if sid is None or sid not in state.flow.section_index:
        return None, ""
    return sid, state.flow.section_label(state.section(sid))


def welcome(state: E.State, row: dict) -> Msg:
    flow = state.flow
    mode = "Självskattning" if state.mode == "self" else flow.document.meeting
    parts: list = [
        (f"{mode} · ", "bold"),
        plain(state.dialogue.get("clinic") or row.get("clinic", ""), "bold"),
        ("\n", ""),
        (flow.title, "$text-muted"),
    ]
    if state.roles:
        people = ", ".join(f"{n} ({r})" if r else n for n, r in state.roles.items())
        parts += [("\nDeltagare: ", "bold"), plain(people)]
    if state.focus:
        for party, sections in state.focus.items():
            labels = [flow.section_label(flow.section_index[s]) for s in sections if s in flow.section_index]
            if labels:
                parts += [(f"\nFokus ({flow.party_title(party)}): ", "bold"), plain(", ".join(labels))]
    stage = stage_line(state)
    if stage:
        parts += [("\n" + stage, "bold")]
    intro = E.flow_intro(state)
    if intro:
        parts += [("\n", ""), plain(intro, "italic $text-muted")]
    parts.append(
        (
            f"\nSkriv svaret och tryck {key_hint('send')}. {key_hint('newline')} ger ny rad. {key_hint('help')} visar "
            f"alla tangenter, {key_hint('palette')} alla kommandon. Allt sparas direkt.",
            "$text-muted",
        )
    )
    return Msg("welcome", Content.assemble(*parts))


def stage_line(state: E.State) -> str | None:
    """"Del 2: Utveckla modell … (fortsätter lärmötet 2026-03-12)" for a dialogue in a staged flow."""
    stage = state.dialogue.get("stage")
    phase = state.flow.phase(stage) if stage else None
    if phase is None:
        return None
    cont = state.dialogue.get("continues_date")
    return phase.title + (f" (fortsätter {state.flow.document.meeting.lower()} {cont})" if cont else "")


def prompt_message(state: E.State, event: E.Event, tracker: Tracker, current: bool) -> Msg:
    view = E.prompt_view(state) if current else None
    if view is not None and view.qid != event.qid:
        view = None
    sid, label = section_label(state, event.qid)
    parts: list = []
    if sid != tracker.last_section:
        right = f"  {glossary.question_counter(view.position, view.total)}" if view is not None else ""
        parts.append((f"── {label} ──{right}\n", "bold $text-accent"))
        if view is not None and view.section_intro:
            parts += [plain(view.section_intro, "italic $text-muted"), "\n"]
        tracker.last_section = sid
        tracker.last_subarea = None
    subarea = view.subarea if view is not None else None
    if subarea and subarea != tracker.last_subarea:
        parts.append((f"[{subarea}]\n", "$text-muted"))
        if view is not None and view.subarea_intro:
            parts += [plain(view.subarea_intro, "italic $text-muted"), "\n"]
        tracker.last_subarea = subarea
    via = VIA_LABELS.get(str(event.payload.get("via") or ""), "")
    if view is not None and view.parked:
        via = "parkerad fråga"
    if via:
        parts.append((f"({via}) ", "italic $text-warning"))
    parts.append(plain(event.text or event.qid or "", "bold"))
    if view is not None:
        for line in view.choice_lines():
            parts += ["\n  ", plain(line)]
        hint = view.answer_hint
        if hint:
            parts.append(("\n  " + hint, "$text-muted"))
        if view.help:
            parts += [("\nHjälp: ", "italic $text-muted"), plain(view.help, "italic $text-muted")]
        if view.origin_note:
            parts += [("\nKälla: ", "italic $text-muted"), plain(view.origin_note, "italic $text-muted")]
        if view.previous_answer is not None:
            parts += [("\nTidigare svar: ", "$text-muted"), plain(view.previous_answer)]
    return Msg("prompt", Content.assemble(*parts), event.seq, event.qid)


def _action_text(state: E.State, e: E.Event) -> Content:
    aid = e.payload.get("action_id", "")
    extra = ", ".join(
        x for x in (e.payload.get("owner") and f"ansvarig {e.payload['owner']}", e.payload.get("due")) if x
    )
    return Content.assemble(
        (f"☐ Åtgärd {aid}: ", "bold"),
        plain((e.text or "") + (" " if extra else "")),
        plain(f"({extra})" if extra else "", "$text-muted"),
    )


def messages(state: E.State, events: list[E.Event], tracker: Tracker, *, current: bool = True) -> list[Msg]:
    """Chat messages for ``events`` (already folded into ``state``). ``current``: the last prompt
    among ``events`` may be the question on screen (False for an older part of the conversation)."""
    out: list[Msg] = []
    last_prompt = max((i for i, e in enumerate(events) if e.kind == "prompted"), default=-1) if current else -1
    flow = state.flow
    for i, e in enumerate(events):
        if e.seq in tracker.seen:
            continue
        tracker.seen.add(e.seq)
        kind = e.kind
        if kind == "prompted":
            current = i == last_prompt and state.current is not None and state.current.qid == e.qid
            out.append(prompt_message(state, e, tracker, current))
        elif kind == "answered":
            out.append(Msg("answer", plain(e.text or ""), e.seq, e.qid))
        elif kind == "skipped":
            out.append(Msg("system", Content("Hoppade över frågan."), e.seq))
        elif kind == "parked":
            out.append(Msg("system", Content(f"Parkerad till senare ({key_hint('return_parked')} tar upp den)."), e.seq))
        elif kind == "went_back":
            out.append(Msg("system", Content("Tillbaka till en tidigare fråga."), e.seq))
        elif kind == "jumped":
            section = e.payload.get("section")
            label = flow.section_label(flow.section_index[section]) if section in flow.section_index else section
            out.append(Msg("system", Content(f"Går till {label}."), e.seq))
            tracker.last_section = None
        elif kind == "section_ended":
            section = e.payload.get("section")
            label = flow.section_label(flow.section_index[section]) if section in flow.section_index else section
            out.append(Msg("system", Content(f"{label} avslutat."), e.seq))
        elif kind == "noted":
            out.append(Msg("note", Content.assemble(("✎ Anteckning: ", "bold"), plain(e.text or "")), e.seq))
        elif kind == "action_added":
            out.append(Msg("action", _action_text(state, e), e.seq))
        elif kind == "action_updated":
            status = e.payload.get("status")
            word = {"done": "klar", "open": "öppen igen"}.get(str(status), "ändrad")
            out.append(Msg("system", Content(f"Åtgärd {e.payload.get('action_id', '')} är {word}."), e.seq))
        elif kind == "suggestion_accepted":
            reason = state.offered.get(str(e.payload.get("sid")), {}).get("reason", "")
            out.append(Msg("system", Content.assemble("Förslag taget: ", plain(reason)), e.seq))
        elif kind == "suggestion_dismissed":
            reason = state.offered.get(str(e.payload.get("sid")), {}).get("reason", "")
            out.append(Msg("system", Content.assemble("Förslag avböjt: ", plain(reason)), e.seq))
        elif kind == "corrected":
            out.append(
                Msg("system", Content.assemble("Rättelse: ", plain(E.prompt_text(state, e.qid or ""))), e.seq)
            )
        elif kind == "pii_masked":
            out.append(Msg("system", Content("Ett personnummer maskerades innan det sparades."), e.seq))
        elif kind == "opened":
            out.append(Msg("system", Content("Mötet började."), e.seq))
        elif kind == "finished":
            out.append(Msg("system", Content("Dialogen avslutades."), e.seq))
        elif kind == "reopened":
            out.append(Msg("system", Content("Dialogen öppnades igen."), e.seq))
    return out


MESSAGE_KINDS = frozenset(
    {"prompted", "answered", "skipped", "parked", "went_back", "jumped", "section_ended", "noted", "action_added",
     "action_updated", "suggestion_accepted", "suggestion_dismissed", "corrected", "pii_masked", "opened",
     "finished", "reopened"}
)  # the events ``messages`` shows


@dataclass
class History:
    """A conversation as it opens: the newest messages built, the older ones built when asked for."""

    tracker: Tracker
    recent: list[Msg]
    older_count: int
    _older: Callable[[], list[Msg]] | None = None

    def older(self) -> list[Msg]:
        out = self._older() if self._older is not None else []
        self._older = None
        return out


RECENT = 16  # messages laid out (and made widgets) when a conversation opens


def history(dialogue: Dialogue, *, fresh: bool, recent: int | None = None) -> History:
    """The conversation so far (welcome first) and the tracker to go on with.

    Only the newest ``recent`` (default ``RECENT``) messages are laid out now: building content
    for every message of a 2 000-message dialogue takes longer than showing the screen."""
    recent = RECENT if recent is None else recent
    state = dialogue.state
    events = dialogue.events
    shown = [i for i, e in enumerate(events) if e.kind in MESSAGE_KINDS]
    split = shown[-recent] if len(shown) > recent else 0
    tracker = Tracker()
    for e in events[:split]:  # where the older part leaves the section headers
        if e.kind == "prompted":
            sid = state.section_id_of(e.qid) if e.qid else None
            if sid is not None and sid not in state.flow.section_index:
                sid = None
            if sid != tracker.last_section:
                tracker.last_section, tracker.last_subarea = sid, None
        elif e.kind == "jumped":
            tracker.last_section = None
        tracker.seen.add(e.seq)
    recent_msgs = reading_order(messages(state, events[split:], tracker))
    if not fresh and state.answers:
        recent_msgs.append(Msg("system", Content(f"Fortsätter där dialogen slutade ({len(state.answers)} svar hittills).")))
    if not split:
        return History(tracker, [welcome(state, dialogue.row)] + recent_msgs, 0)

    def older() -> list[Msg]:
        return [welcome(state, dialogue.row)] + reading_order(messages(state, events[:split], Tracker(), current=False))

    return History(tracker, recent_msgs, 1 + sum(1 for i in shown if i < split), older)


_BLOCK_STYLE = {"system": "italic $text-muted", "note": "$text-warning", "action": "$text-success"}


def block(msgs: Iterable[Msg], width: int = 80) -> Content:
    """Many messages as one piece of content (older parts of a long conversation), laid out for
    ``width`` cells: answers are wrapped here, so that their lines keep the answer's indent."""
    import textwrap

    parts: list[Content] = []
    for m in msgs:
        content = m.content
        if m.kind == "answer":
            lines = [
                piece
                for line in content.plain.split("\n")
                for piece in (textwrap.wrap(line, max(10, width - 8), break_on_hyphens=False) or [""])
            ]
            content = Content("\n").join(Content.assemble("      ", ("▌ ", "$accent"), piece) for piece in lines)
        elif m.kind in ("note", "action"):
            content = Content.assemble("  ", content.stylize_before(_BLOCK_STYLE[m.kind]))
        elif m.kind in _BLOCK_STYLE:
            content = content.stylize_before(_BLOCK_STYLE[m.kind])
        parts.append(content)
    return Content("\n\n").join(parts)


def previous_content(prev: Any, flow: Any, *, preselected: bool, title: bool = True, today: Any = None) -> Content:
    """"Från förra dialogen" (``assistant.continuity.Previous``): what the line mode shows before
    the first question – the wish, carried answers, open actions, how the data moved since, and
    the areas the wish names (``preselected``: they are the focus areas chosen for this dialogue)."""
    parts: list = []
    if title:
        parts.append(("Från förra dialogen", "bold $text-accent"))
        parts.append((f" ({prev.started}, {prev.flow_title})\n", "$text-muted"))
    else:
        parts.append((f"Dialogen {prev.started} ({prev.flow_title})\n", "$text-muted"))
    if prev.empty:
        parts.append(("Inget önskemål, inga öppna åtgärder, inga parkerade frågor och ingen ny data att ta med sig.", "$text-muted"))
        return Content.assemble(*parts)
    sections: list[list] = []
    if prev.wish:
        sections.append([("Önskemål inför detta möte:\n", "bold"), plain(prev.wish)])
    for question, answer in prev.carried.items():
        sections.append([plain(question, "bold"), "\n", plain(answer)])
    if prev.open_actions:
        from assistant.report import OVERDUE, local_today

        today = today or local_today()  # the app passes its clock's date
        lines: list = [("Öppna åtgärder", "bold"), (f" ({key_hint('previous')}: markera klar, ändra ansvarig och datum):", "$text-muted")]
        for a in prev.open_actions:
            late = E.action_overdue(a.get("status"), a.get("due"), today)
            mark = "☑" if a.get("status") == "done" else ("⚠" if late else "☐")
            extra = ", ".join(str(x) for x in (a.get("owner"), a.get("due")) if x)
            text = str(a.get("text", "")) + (" " if extra else "")
            lines += [f"\n{mark} ", plain(text), plain(f"({extra})" if extra else "", "$text-muted")]
            if late:
                lines.append((f" {OVERDUE}", "bold $text-error"))
        sections.append(lines)
    if prev.parked:
        sections.append([("Kvar på parkeringsplatsen:", "bold")] + [x for q in prev.parked for x in ("\n– ", plain(q))])
    if prev.flag_moves:
        sections.append([("Data sedan dess:", "bold")] + [x for line in prev.flag_moves for x in ("\n· ", plain(line))])
    labels = [flow.section_label(flow.section_index[s]) for s in prev.focus if s in flow.section_index]
    if labels:
        lead = "Förvalda fokusområden utifrån önskemålet: " if preselected else "Önskemålet nämner: "
        sections.append([(lead, "bold"), plain(", ".join(labels))])
    for i, section in enumerate(sections):
        parts += (["\n\n"] if i else []) + section
    return Content.assemble(*parts).rstrip()
