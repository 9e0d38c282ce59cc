"""Flow definitions: pydantic models, loading and validation with located error messages.

A flow is a TOML file in ``flows/`` named after its id. Loading never raises anything but
``FlowError`` (``assistant.tomlfiles``, which reads every TOML file of Dialogstöd), whose
``problems`` are one line each, located as ``file:line: …`` for syntax errors and
``file: sections[3].questions[2].id: …`` for schema and reference errors. The indicator catalogue
is ``assistant.indicators``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import render
from assistant.conditions import Condition, Flag, referenced_ids, walk
from assistant.ids import Id
from assistant.indicators import Catalogue, default_catalogue
from assistant.tomlfiles import (
    AREA_PATTERN,
    CATALOGUE_NAME,
    LANGUAGE_PATTERN,
    TOPICS_NAME,
    FlowError,
    format_validation_error,
    parse_toml,
    read_bytes,
)

if TYPE_CHECKING:
    from assistant.topics import TopicCatalogue

QuestionType = Literal["text", "single", "multi", "scale", "number"]
# Where a question, sub-area or section comes from: the flow's own document (its first source),
# borrowed from another source as written, adapted from another source (reworded), or added by
# Dialogstöd. Unset means: as the enclosing sub-area / section (and the flow's document at the top).
Origin = Literal["document", "borrowed", "adapted", "added"]
ORIGIN_LABELS = {"document": "ur dokumentet", "borrowed": "lånad", "adapted": "anpassad", "added": "tillägg i Dialogstöd"}


class _Strict(BaseModel):
    # strict: "10" is no integer and 1 is not true. Lax coercion would read `mask_identity_numbers =
    # "no"` as false without a word; a flow file says what it means or is refused. Stored flows are
    # read leniently (see ``parse_flow``).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Choice(_Strict):
    value: Id
    label: str = Field(min_length=1, max_length=200)


class Scale(_Strict):
    min: int = Field(default=1, ge=-100, le=100)
    max: int = Field(default=5, ge=-100, le=100)
    min_label: str | None = Field(default=None, max_length=100)
    max_label: str | None = Field(default=None, max_length=100)


class Source(_Strict):
    """A document a flow is built from: named by title, publisher and year, never by a file path."""

    id: Id
    title: str = Field(min_length=1, max_length=500)
    publisher: str = Field(min_length=1, max_length=500)
    year: int | None = Field(default=None, ge=1900, le=2200)
    note: str | None = Field(default=None, max_length=1000)

    @property
    def short(self) -> str:
        """The title without its subtitle ("Uppföljningsdialog 2023 – Vårdval fysioterapi")."""
        return self.title.split(". ")[0]

    @property
    def citation(self) -> str:
        """"Title (publisher, year)" – the way a document names it."""
        year = f", {self.year}" if self.year else ""
        return f"{self.title} ({self.publisher}{year})"


class _Sourced(_Strict):
    origin: Origin | None = None
    source: Id | None = None


class Question(_Sourced):
    id: Id
    text: str = Field(min_length=1, max_length=4000)
    self_text: str | None = Field(default=None, max_length=4000)
    help: str | None = Field(default=None, max_length=4000)
    type: QuestionType = "text"
    choices: list[Choice] = Field(default_factory=list, max_length=100)
    allow_other: bool = False
    scale: Scale | None = None
    when: Condition | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    indicators: list[Id] = Field(default_factory=list, max_length=50)
    # The source's own wording where ``origin = "adapted"`` (what was changed is then visible).
    original: str | None = Field(default=None, max_length=4000)


class Subarea(_Sourced):
    id: Id
    title: str = Field(min_length=1, max_length=300)
    intro: str | None = Field(default=None, max_length=4000)
    self_intro: str | None = Field(default=None, max_length=4000)
    # The questions are the steps of one exercise (Konkret exempel): a suggestion that leads to
    # one of them leads through the rest too.
    sequence: bool = False
    questions: list[Question] = Field(default_factory=list, max_length=500)


class Section(_Sourced):
    id: Id
    area: str | None = Field(default=None, pattern=AREA_PATTERN)
    title: str = Field(min_length=1, max_length=300)
    intro: str | None = Field(default=None, max_length=4000)
    self_intro: str | None = Field(default=None, max_length=4000)
    minutes: int = Field(default=0, ge=0, le=600)
    kind: Literal["dialogue", "summary", "feedback"] = "dialogue"
    facilitator_only: bool = False
    questions: list[Question] = Field(default_factory=list, max_length=500)
    subareas: list[Subarea] = Field(default_factory=list, max_length=50)


class Role(_Strict):
    id: Id
    title: str = Field(min_length=1, max_length=200)
    party: str = Field(min_length=1, max_length=200)
    responsibility: str | None = Field(default=None, max_length=1000)
    facilitator_only: bool = False


class Party(_Strict):
    """A party to the dialogue as the flow's document names it (each may choose focus areas)."""

    id: Id
    title: str = Field(min_length=1, max_length=200)
    # The party being followed up (the clinic, the vårdcentral): the previous dialogue's wish
    # pre-selects its focus areas, and the documentation is sent to it for review.
    followed_up: bool = False
    # Not present when the team assesses itself.
    facilitator_only: bool = False
    # Other spellings a stored dialogue or a user may use for the party ("vårdvalsenheten").
    aliases: list[str] = Field(default_factory=list, max_length=20)

    def named_by(self, name: str) -> bool:
        wanted = name.strip().casefold()
        return wanted in {self.id, self.title.casefold(), *(a.casefold() for a in self.aliases)}


class Phase(_Strict):
    id: Id
    title: str = Field(min_length=1, max_length=300)
    instructions: list[str] = Field(default_factory=list, max_length=100)
    # A stage of months of joint work (Nära vård's Del 1–3), not a phase of one meeting: each
    # dialogue belongs to one stage and the next stage's dialogue continues it.
    stage: bool = False


class Document(_Strict):
    """What the flow's documents call the meeting, the unit followed up, and the written results."""

    title: str = Field(default="Dokumentation och återkoppling efter genomförd Uppföljningsdialog", max_length=300)
    self_title: str = Field(default="Vår självskattning – dokumentation", max_length=300)
    pack_title: str = Field(default="Underlag inför uppföljningsdialogen", max_length=300)
    self_pack_title: str = Field(default="Underlag inför vår självskattning", max_length=300)
    meeting: str = Field(default="Uppföljningsdialog", max_length=100)
    unit: str = Field(default="Mottagning", max_length=100)


class Focus(_Strict):
    min: int = Field(default=2, ge=0, le=20)
    max: int = Field(default=3, ge=0, le=20)
    prompt: str = Field(default="Välj ut 2–3 områden som är extra viktiga att diskutera", max_length=500)
    # The document asks each party to choose (vårdcentral: "Välj ut 2-3 områden …"): a dialogue
    # started without focus areas asks for them before the first question.
    ask: bool = False


class Rule(_Strict):
    id: Id
    when: Condition
    suggest: list[Id] = Field(default_factory=list, max_length=50)
    text: str | None = Field(default=None, max_length=2000)
    self_text: str | None = Field(default=None, max_length=2000)  # the follow-up in vi-form
    section: Id | None = None
    reason: str = Field(min_length=1, max_length=2000)
    self_reason: str | None = Field(default=None, max_length=2000)  # the reason in vi-form
    priority: int = Field(default=50, ge=0, le=100)
    action: bool = False
    # The answer topic (topics.toml) the rule is about; with asks_cause, the rule asks why, and is
    # dropped once an answer that takes up the topic gives a cause (eftersom, på grund av …).
    topic: Id | None = None
    asks_cause: bool = False
    # A data-validity question ("Stämmer siffrorna?"): offered before any other suggestion while
    # its flag condition holds – data first, conclusions second.
    data_check: bool = False


class Flow(_Strict):
    id: Id
    title: str = Field(min_length=1, max_length=300)
    version: int = Field(ge=1, le=1_000_000)
    provenance: str = Field(min_length=1, max_length=4000)
    language: str = Field(default="sv", pattern=LANGUAGE_PATTERN)
    meeting_minutes: int = Field(default=90, ge=1, le=1440)
    # Personal identity numbers in answers are masked before storing unless a flow says otherwise.
    mask_identity_numbers: bool = True
    # The kind of clinic this flow is for (an id in the catalogue's [[kinds]]): a clinic held a
    # dialogue on it is compared with clinics of that kind when the data does not say its kind.
    clinic_kind: Id | None = None
    intro: str | None = Field(default=None, max_length=8000)
    self_intro: str | None = Field(default=None, max_length=8000)
    sources: list[Source] = Field(default_factory=list, max_length=20)
    document: Document = Field(default_factory=Document)
    focus: Focus = Field(default_factory=Focus)
    phases: list[Phase] = Field(default_factory=list, max_length=20)
    parties: list[Party] = Field(default_factory=list, max_length=10)
    roles: list[Role] = Field(default_factory=list, max_length=50)
    sections: list[Section] = Field(min_length=1, max_length=200)
    rules: list[Rule] = Field(default_factory=list, max_length=2000)

    # Derived, never serialised.
    @cached_property
    def questions(self) -> list[Question]:
        return [q for _, q in self.question_places()]

    @cached_property
    def question_index(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def section_of(self) -> dict[str, Section]:
        return {q.id: s for s, q in self.question_places()}

    @cached_property
    def subarea_of(self) -> dict[str, Subarea]:
        out: dict[str, Subarea] = {}
        for s in self.sections:
            for sub in s.subareas:
                for q in sub.questions:
                    out[q.id] = sub
        return out

    @cached_property
    def section_index(self) -> dict[str, Section]:
        return {s.id: s for s in self.sections}

    @cached_property
    def rule_index(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @cached_property
    def walk_cache(self) -> dict[tuple[tuple[str, ...], str], list[str]]:
        """The engine's walk orders per (focus areas, mode), computed once per flow object."""
        return {}

    @cached_property
    def order(self) -> dict[str, int]:
        return {q.id: i for i, q in enumerate(self.questions)}

    def question_places(self) -> Iterator[tuple[Section, Question]]:
        for s in self.sections:
            for q in s.questions:
                yield s, q
            for sub in s.subareas:
                for q in sub.questions:
                    yield s, q

    def section_questions(self, section_id: str) -> list[Question]:
        return [q for s, q in self.question_places() if s.id == section_id]

    def questions_for_indicator(self, indicator_id: str) -> list[Question]:
        return [q for q in self.questions if indicator_id in q.indicators]

    @property
    def dialogue_sections(self) -> list[Section]:
        """Sections that count for coverage: the P1–P5 / A–C areas."""
        return [s for s in self.sections if s.area]

    def section_label(self, section: Section) -> str:
        return f"{section.area} {section.title}" if section.area else section.title

    # ------------------------------------------------------------ sources and origins

    @cached_property
    def source_index(self) -> dict[str, Source]:
        return {s.id: s for s in self.sources}

    def origin_of(self, qid: str) -> tuple[str, Source | None]:
        """Where a question comes from: (origin, source), inherited from its sub-area and section;
        "document" with the flow's first source when nothing says otherwise."""
        chain: list[_Sourced] = [self.question_index[qid]]
        sub = self.subarea_of.get(qid)
        if sub is not None:
            chain.append(sub)
        chain.append(self.section_of[qid])
        return self._origin(chain)

    def section_origin(self, section: Section) -> tuple[str, Source | None]:
        return self._origin([section])

    def _origin(self, chain: list[_Sourced]) -> tuple[str, Source | None]:
        origin = next((x.origin for x in chain if x.origin), "document")
        source_id = next((x.source for x in chain if x.source), None)
        if source_id is None and origin == "document" and self.sources:
            source_id = self.sources[0].id
        return origin, self.source_index.get(source_id) if source_id else None

    def origin_note(self, qid: str) -> str | None:
        """A short Swedish note for a question that is not the document's own, e.g. "Lånad fråga ur
        Uppföljningsdialog 2023 – Vårdval fysioterapi (…, 2023)"; None for the document's own."""
        origin, source = self.origin_of(qid)
        return origin_text(origin, source)

    # ------------------------------------------------------------ parties and stages

    @cached_property
    def party_list(self) -> list[Party]:
        """The parties: the flow's own, or (for a flow without) one per party its roles name."""
        if self.parties:
            return list(self.parties)
        out: list[Party] = []
        for role in self.roles:
            if any(p.named_by(role.party) for p in out):
                continue
            pid = _slug(role.party) or f"part{len(out) + 1}"
            same = [r for r in self.roles if r.party.casefold() == role.party.casefold()]
            out.append(
                Party(
                    id=pid,
                    title=role.party[:1].upper() + role.party[1:],
                    facilitator_only=all(r.facilitator_only for r in same),
                    aliases=[role.party] if role.party != pid else [],
                )
            )
        if out and not any(p.followed_up for p in out):
            first = next((p for p in out if not p.facilitator_only), out[0])
            out[out.index(first)] = first.model_copy(update={"followed_up": True})
        return out

    def parties_for(self, mode: str) -> list[Party]:
        return [p for p in self.party_list if not (mode == "self" and p.facilitator_only)]

    def party(self, name: str) -> Party | None:
        return next((p for p in self.party_list if p.named_by(name)), None)

    def party_title(self, name: str) -> str:
        """How a party key stored in a dialogue is shown (an unknown key as written)."""
        party = self.party(name)
        if party is not None:
            return party.title
        return name[:1].upper() + name[1:] if name else name

    @property
    def followed_up_party(self) -> Party | None:
        return next((p for p in self.party_list if p.followed_up), None)

    @property
    def stages(self) -> list[Phase]:
        return [p for p in self.phases if p.stage]

    def phase(self, phase_id: str) -> Phase | None:
        return next((p for p in self.phases if p.id == phase_id), None)


def origin_text(origin: str, source: Source | None) -> str | None:
    if origin == "document":
        return None
    if origin == "added":
        return "Tillägg i Dialogstöd (inte ur metoddokumenten)"
    lead = "Lånad ur" if origin == "borrowed" else "Anpassad från"
    return f"{lead} {source.short} ({source.year or source.publisher})" if source else lead.split()[0]


def _slug(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60]


@dataclass(frozen=True)
class LoadedFlow:
    flow: Flow
    path: Path
    sha256: str  # of the file's bytes
    source: str = ""  # the file's exact text (kept with each dialogue held on it)


# ---------------------------------------------------------------- loading


def is_method(path: Path) -> bool:
    return path.name == "metod.toml"


def is_catalogue(data: dict[str, Any], path: Path) -> bool:
    return path.name == CATALOGUE_NAME or ("indicators" in data and "sections" not in data)


def parse_flow(
    data: dict[str, Any],
    name: str,
    catalogue: Catalogue | None = None,
    *,
    strict: bool = False,
    lenient: bool = False,
    topics: TopicCatalogue | None = None,
) -> Flow:
    """Validate a flow. ``lenient`` reads a stored flow as it was accepted when the dialogue was
    held: with the type coercions older versions allowed (``priority = 70.0``). ``topics``: the
    topic catalogue, whose questions are checked against this flow."""
    try:
        flow = Flow.model_validate(data, strict=False if lenient else None)
    except ValidationError as exc:
        raise FlowError(format_validation_error(name, exc)) from None
    except RecursionError:
        raise FlowError([f"{name}: villkoren är för djupt nästlade"]) from None
    problems = check_references(flow, catalogue, strict=strict, topics=topics)
    if problems:
        raise FlowError([f"{name}: {p}" for p in problems])
    if topics is not None:
        from assistant.topics import check_against_flow

        problems = check_against_flow(topics, flow, known_indicators=catalogue.ids if catalogue is not None else None)
        if problems:
            raise FlowError(problems)
    return flow


def load_flow(
    path: Path, catalogue: Catalogue | None = None, *, strict: bool = False, topics: TopicCatalogue | None = None
) -> LoadedFlow:
    """Load and validate a flow. ``strict`` also parses every template (``dialogstod flows check``);
    ``topics``: the topic catalogue, whose questions are checked against this flow."""
    path = Path(path)
    raw = read_bytes(path)
    flow = parse_flow(parse_toml(str(path), raw), str(path), catalogue, strict=strict, topics=topics)
    if path.stem != flow.id:
        raise FlowError([f"{path}: id: flödets id {flow.id!r} måste vara detsamma som filnamnet {path.stem!r}"])
    return LoadedFlow(flow=flow, path=path, sha256=hashlib.sha256(raw).hexdigest(), source=raw.decode("utf-8"))


def flow_from_source(source: str, sha256: str) -> LoadedFlow:
    """A flow as it was when a dialogue was held (its stored text). Indicator ids are not checked
    against today's catalogue: history is read as it was written."""
    name = f"<lagrat flöde {sha256[:12]}>"
    raw = source.encode("utf-8")
    flow = parse_flow(parse_toml(name, raw), name, None, lenient=True)
    return LoadedFlow(flow=flow, path=Path(name), sha256=sha256, source=source)


def check_references(
    flow: Flow, catalogue: Catalogue | None = None, *, strict: bool = False, topics: TopicCatalogue | None = None
) -> list[str]:
    """Every id a flow refers to must exist; ids must be unique. Returns located problems."""
    problems: list[str] = []
    section_ids: dict[str, str] = {}
    question_ids: dict[str, str] = {}
    for si, s in enumerate(flow.sections):
        where = f"sections[{si}]"
        if s.id in section_ids:
            problems.append(f"{where}.id: avsnittets id {s.id!r} finns redan (först i {section_ids[s.id]})")
        else:
            section_ids[s.id] = where
        places = [(f"{where}.questions[{qi}]", q) for qi, q in enumerate(s.questions)]
        sub_ids: set[str] = set()
        for ui, sub in enumerate(s.subareas):
            if sub.id in sub_ids:
                problems.append(f"{where}.subareas[{ui}].id: delområdets id {sub.id!r} finns redan")
            sub_ids.add(sub.id)
            places += [(f"{where}.subareas[{ui}].questions[{qi}]", q) for qi, q in enumerate(sub.questions)]
        for qwhere, q in places:
            if q.id in question_ids:
                problems.append(f"{qwhere}.id: frågans id {q.id!r} finns redan (först i {question_ids[q.id]})")
            else:
                question_ids[q.id] = qwhere
    if not question_ids:
        problems.append("sections: flödet har inga frågor")

    qindex = {q.id: q for q in flow.questions}
    known_indicators = catalogue.ids if catalogue is not None else None

    def check_condition(where: str, cond: Any) -> None:
        qs, ss, inds = referenced_ids(cond)
        for q in sorted(qs):
            if q not in qindex:
                problems.append(f"{where}: okänt fråge-id {q!r}")
        for s in sorted(ss):
            if s not in section_ids:
                problems.append(f"{where}: okänt avsnitts-id {s!r}")
        if known_indicators is not None:
            for ind in sorted(inds):
                if ind not in known_indicators:
                    problems.append(f"{where}: okänt indikator-id {ind!r}")
        _check_choice_values(where, cond, qindex, problems)

    samples = sample_answers(flow) if strict else {}

    def check_template(where: str, text: str | None, **context: Any) -> None:
        if text is None:
            return
        try:
            refs = render.template_question_refs(text, strict=strict)
        except render.TemplateProblem as exc:
            problems.append(f"{where}: mallfel: {exc}")
            return
        unknown = [ref for ref in sorted(refs) if ref not in qindex]
        for ref in unknown:
            problems.append(f"{where}: mallen hänvisar till okänt fråge-id {ref!r}")
        if strict and not unknown and render.is_template(text):
            # Render it with sample data, within the limits a chat renders it with.
            try:
                render.render_text(text, samples, **context)
            except render.TemplateLimit as exc:
                problems.append(f"{where}: mallen går över gränserna: {exc}")
            except render.TemplateProblem as exc:
                problems.append(f"{where}: mallfel: {exc}")

    for si, s in enumerate(flow.sections):
        check_template(f"sections[{si}].intro", s.intro)
        check_template(f"sections[{si}].self_intro", s.self_intro)
    for _s, q in flow.question_places():
        qwhere = question_ids.get(q.id, q.id)
        if q.when is not None:
            check_condition(f"{qwhere}.when", q.when)
        check_template(f"{qwhere}.text", q.text)
        check_template(f"{qwhere}.self_text", q.self_text)
        if q.type in ("single", "multi") and not q.choices:
            problems.append(f"{qwhere}.choices: en fråga av typen {q.type} behöver svarsalternativ")
        if q.type not in ("single", "multi") and q.choices:
            problems.append(f"{qwhere}.choices: bara frågor av typen single och multi har svarsalternativ")
        values = [c.value for c in q.choices]
        if len(values) != len(set(values)):
            problems.append(f"{qwhere}.choices: samma värde förekommer flera gånger")
        if q.scale is not None and q.scale.min >= q.scale.max:
            problems.append(f"{qwhere}.scale: min måste vara mindre än max")
        if known_indicators is not None:
            for ind in q.indicators:
                if ind not in known_indicators:
                    problems.append(f"{qwhere}.indicators: okänt indikator-id {ind!r}")

    rule_ids: set[str] = set()
    for ri, r in enumerate(flow.rules):
        where = f"rules[{ri}]"
        if r.id in rule_ids:
            problems.append(f"{where}.id: regelns id {r.id!r} finns redan")
        rule_ids.add(r.id)
        check_condition(f"{where}.when", r.when)
        for qi, q in enumerate(r.suggest):
            if q not in qindex:
                problems.append(f"{where}.suggest[{qi}]: okänt fråge-id {q!r}")
        if not r.suggest and not r.text and not r.action:
            problems.append(f"{where}: en regel måste föreslå frågor (suggest), ge en följdfråga (text) eller föreslå en åtgärd (action)")
        if r.text and not r.section:
            problems.append(f"{where}.section: en följdfråga behöver avsnittet den hör till")
        if r.section and r.section not in section_ids:
            problems.append(f"{where}.section: okänt avsnitts-id {r.section!r}")
        rule_context = sample_rule_context() if strict else {}
        check_template(f"{where}.reason", r.reason, **rule_context)
        check_template(f"{where}.text", r.text, **rule_context)
        check_template(f"{where}.self_reason", r.self_reason, **rule_context)
        check_template(f"{where}.self_text", r.self_text, **rule_context)
        if r.self_text and not r.text:
            problems.append(f"{where}.self_text: en vi-form behöver följdfrågan den ersätter (text)")
        if r.asks_cause and not r.topic:
            problems.append(f"{where}.asks_cause: en fråga om orsaker behöver ämnet den gäller (topic)")
        if r.topic and topics is not None and r.topic not in topics.ids:
            problems.append(f"{where}.topic: okänt ämne {r.topic!r}")
        if r.data_check and not any(isinstance(node, Flag) for node in walk(r.when)):
            problems.append(f"{where}.data_check: en datafråga behöver ett flag-villkor")

    if flow.clinic_kind is not None and catalogue is not None and catalogue.kinds:
        if catalogue.kind(flow.clinic_kind) is None:
            known = ", ".join(k.id for k in catalogue.kinds)
            problems.append(f"clinic_kind: okänd typ av enhet {flow.clinic_kind!r} (kända: {known})")
    if flow.focus.min > flow.focus.max:
        problems.append("focus: min får inte vara större än max")
    problems += _check_sources_and_parties(flow, question_ids)
    check_template("self_intro", flow.self_intro)
    return problems


def _check_sources_and_parties(flow: Flow, question_ids: dict[str, str]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for i, src in enumerate(flow.sources):
        if src.id in seen:
            problems.append(f"sources[{i}].id: källans id {src.id!r} finns redan")
        seen.add(src.id)
    places: list[tuple[str, _Sourced]] = []
    for si, s in enumerate(flow.sections):
        places.append((f"sections[{si}]", s))
        for ui, sub in enumerate(s.subareas):
            places.append((f"sections[{si}].subareas[{ui}]", sub))
    places += [(question_ids.get(q.id, q.id), q) for q in flow.questions]
    for where, item in places:
        if item.source is not None and item.source not in seen:
            problems.append(f"{where}.source: okänd källa {item.source!r} (se [[sources]])")
    for q in flow.questions:
        where = question_ids.get(q.id, q.id)
        origin, source = flow.origin_of(q.id)
        if origin in ("borrowed", "adapted") and source is None:
            problems.append(f"{where}: en {ORIGIN_LABELS[origin]} fråga behöver en källa (source)")
        if q.original is not None and origin != "adapted":
            problems.append(f"{where}.original: originalformuleringen anges bara för en anpassad fråga (origin = \"adapted\")")
    ids: set[str] = set()
    for i, party in enumerate(flow.parties):
        if party.id in ids:
            problems.append(f"parties[{i}].id: partens id {party.id!r} finns redan")
        ids.add(party.id)
    if flow.parties:
        for i, role in enumerate(flow.roles):
            if flow.party(role.party) is None:
                names = ", ".join(p.id for p in flow.parties)
                problems.append(f"roles[{i}].party: okänd part {role.party!r} (parterna: {names})")
        if sum(p.followed_up for p in flow.parties) > 1:
            problems.append("parties: högst en part kan vara den som följs upp (followed_up)")
    return problems


def sample_answers(flow: Flow) -> dict[str, str]:
    """An answer to every question, as ``dialogstod flows check`` renders templates with."""
    out = {}
    for q in flow.questions:
        if q.choices:
            out[q.id] = q.choices[0].label
        elif q.type == "scale":
            out[q.id] = str(q.scale.min if q.scale else 1)
        elif q.type == "number":
            out[q.id] = "12"
        else:
            out[q.id] = "Ett exempelsvar med några ord, som ett svar under en dialog kan se ut."
    return out


def sample_rule_context() -> dict[str, Any]:
    """What a rule's reason and text are rendered with: a flag and a matched word (sample values)."""
    from assistant.data.flags import FlagRow
    from assistant.engine.evaluation import WordMatch

    flag = FlagRow(
        indicator="exempel", label="Exempelindikator", name="Exempelindikator", period="2025", value=0.62,
        n=140, numerator=87, target=0.7, direction="higher", ci_low=0.54, ci_high=0.7,
        states=["misses_target"], text="62 % (87 av 140)",
    )
    return {"flag": flag, "match": WordMatch(word="avvikelser", stem="avvikelse", question="exempel")}


def _check_choice_values(where: str, cond: Any, qindex: dict[str, Question], problems: list[str]) -> None:
    from assistant.conditions import ContainsAny, Equals, Selected, walk

    for node in walk(cond):
        if isinstance(node, Equals | Selected):
            qv = node.equals if isinstance(node, Equals) else node.selected
            q = qindex.get(qv.question)
            if q is not None and q.choices and qv.value not in {c.value for c in q.choices}:
                problems.append(f"{where}: {qv.value!r} är inget svarsalternativ till frågan {q.id!r}")
            if isinstance(node, Selected) and q is not None and not q.choices:
                problems.append(f"{where}: 'selected' behöver en fråga med svarsalternativ, {q.id!r} har inga")
        elif isinstance(node, ContainsAny):
            q = qindex.get(node.contains_any.question)
            if q is not None and q.type not in ("text", "single", "multi"):
                problems.append(f"{where}: 'contains_any' behöver en textfråga, {q.id!r} är av typen {q.type}")


# ---------------------------------------------------------------- the flows a user can pick


def flow_files() -> dict[str, Path]:
    """Flow id -> file; a region's own flow in the user flows dir replaces a shipped one."""
    from assistant import locations

    found: dict[str, Path] = {}
    for folder in locations.flow_dirs():
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                if path.name not in (CATALOGUE_NAME, TOPICS_NAME) and not is_method(path):
                    found[path.stem] = path
    return found


_LOADED: dict[tuple[str, float, int], LoadedFlow] = {}


def get_flow(flow_id: str, *, checked: bool = True) -> LoadedFlow:
    """Load a flow by id (cached per file and modification time). Raises FlowError.

    ``checked``: also check the flow against the indicator catalogue and the topic catalogue, as
    every dialogue that starts does. Reading a dialogue that was held (``session.flow_for``:
    show, export, the archive) passes False – history is read as it was written, like a stored
    flow (``flow_from_source``) – and a one-shot command then reads neither ``indicators.toml``
    nor ``topics.toml``. The flow's own ids are checked either way."""
    path = flow_files().get(flow_id)
    if path is None:
        known = ", ".join(sorted(flow_files())) or "inga"
        raise FlowError([f"Det finns inget flöde {flow_id!r}. Tillgängliga flöden: {known}"])
    catalogue = topics = None
    if checked:
        from assistant.topics import default_topics

        catalogue, topics = default_catalogue(), default_topics()
    key = (str(path), path.stat().st_mtime, checked, id(catalogue), id(topics))
    loaded = _LOADED.get(key)
    if loaded is None:
        loaded = load_flow(path, catalogue, topics=topics)
        _LOADED[key] = loaded
    return loaded


def all_flows(problems: list[str] | None = None) -> list[LoadedFlow]:
    """Every flow that loads. A broken file is left out; its located problems are added to
    ``problems`` when a list is given (so one bad regional file never hides the others)."""
    out = []
    for fid in flow_files():
        try:
            out.append(get_flow(fid))
        except FlowError as exc:
            if problems is not None:
                problems.extend(exc.problems)
    return out
