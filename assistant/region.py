"""The region's overview: what it learns across its clinics (``dialogstod region``, Regionöversikt).

Per clinic: its latest dialogue in scope (date, status, review status, areas discussed and left
untouched, focus areas, next-meeting wish) and its actions (open, overdue, done). Across clinics:
the feedback to the region collected in one place, the areas most often chosen as focus or left
untouched, recurring themes in "jobba vidare" and the feedback (Swedish word forms grouped, the way
the rules match them: a stem matches every word that starts with it), and each indicator's funnel
of all clinics (``assistant.figures``). Plain data; every format renders it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from assistant import engine as E
from assistant.report import STATUS_LABELS, local_today, review_label

WISH_QUESTION = "aterkoppling.kommande_mote"
SHOWN_ACTIONS = 10  # per clinic in the documents; the JSON form and `dialogstod actions` have them all
WORK_ON_QUESTION = "sammanfattning.jobba_vidare"

# ---------------------------------------------------------------- recurring themes

# Words too common to be a theme (Swedish function words and the method's own vocabulary).
STOPWORDS = frozenset(
    """
    och att det som för med den till inte har hade var ska skulle kan kunna kunde vill ville mer mest
    mycket från eller också även vara varit blir bli blev efter under över alla allt inom några något
    någon många sina sitt sin deras vårt våra vår oss vi ni man när där här hur vad vilka vilken vilket
    bara redan andra annat annan både samt genom mellan kring utan sedan idag fortsatt fortsätta
    arbeta arbetar jobba jobbar vidare bättre bra behöver finns fler färre gärna helt lite ganska
    sätt därför dock medan eftersom samma varje hela stor stora större liten små mindre
    tidigare senare oftare alltid aldrig ofta igen nästa gång gånger just inga ingen
    verksamheten verksamhet mottagningen mottagning vårdcentralen vårdcentral region regionen
    """.split()
)
# Inflection endings stripped to find a word's stem, longest first ("telefontiderna" -> "telefontid").
SUFFIXES = tuple(
    sorted(
        """arnas ernas ornas heten heter arna erna orna ande ende ingen ingar ning ing else ens ets
        are ast en et er ar or na ad at as es a e n t s""".split(),
        key=len,
        reverse=True,
    )
)
MIN_STEM = 4
MIN_PREFIX_STEM = 5  # a stem this long also gathers the words that merely start with it
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def stem(word: str) -> str:
    w = word.casefold()
    for suffix in SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= MIN_STEM:
            return w[: -len(suffix)]
    return w


@dataclass
class Theme:
    stem: str
    forms: list[str]  # the word forms seen, most frequent first
    clinics: list[str]
    count: int  # occurrences

    @property
    def label(self) -> str:
        return self.forms[0]


def themes(texts: dict[str, list[str]], *, min_clinics: int = 2, limit: int = 15) -> list[Theme]:
    """Words that recur across clinics, word forms grouped: ``texts`` maps a clinic to its texts."""
    forms: dict[str, Counter[str]] = {}
    clinics: dict[str, set[str]] = {}
    for clinic, items in texts.items():
        for text in items:
            for m in _WORD.finditer(text or ""):
                word = m.group(0).casefold()
                if len(word) < MIN_STEM or word in STOPWORDS:
                    continue
                s = stem(word)
                forms.setdefault(s, Counter())[word] += 1
                clinics.setdefault(s, set()).add(clinic)
    # Merge a stem into a shorter one it starts with (as a rule's stem matches the longer word).
    keys = sorted(forms, key=lambda k: (len(k), k))
    parent: dict[str, str] = {}
    for k in keys:
        root = next((p for p in keys if len(p) >= MIN_PREFIX_STEM and len(p) < len(k) and k.startswith(p) and p not in parent), None)
        if root is not None:
            parent[k] = root
    merged_forms: dict[str, Counter[str]] = {}
    merged_clinics: dict[str, set[str]] = {}
    for k in keys:
        root = parent.get(k, k)
        merged_forms.setdefault(root, Counter()).update(forms[k])
        merged_clinics.setdefault(root, set()).update(clinics[k])
    out = [
        Theme(
            stem=k,
            forms=[w for w, _ in merged_forms[k].most_common()],
            clinics=sorted(merged_clinics[k], key=str.casefold),
            count=sum(merged_forms[k].values()),
        )
        for k in merged_forms
        if len(merged_clinics[k]) >= min_clinics
    ]
    out.sort(key=lambda t: (-len(t.clinics), -t.count, t.stem))
    return out[:limit]


# ---------------------------------------------------------------- the overview


@dataclass
class ClinicRow:
    clinic: str
    dialogues: int
    dialogue_id: str | None = None
    date: str | None = None
    flow: str | None = None
    flow_title: str | None = None
    mode: str | None = None
    status: str | None = None
    status_label: str | None = None
    review: str | None = None
    review_label: str | None = None
    stage: str | None = None
    areas_discussed: list[str] = field(default_factory=list)
    areas_untouched: list[str] = field(default_factory=list)
    focus: dict[str, list[str]] = field(default_factory=dict)
    next_meeting_wish: str | None = None
    work_on: str | None = None
    open_actions: int = 0
    overdue_actions: int = 0
    done_actions: int = 0
    actions: list[dict[str, Any]] = field(default_factory=list)  # the open ones, overdue first
    actions_shown: int = 0  # how many of them the documents list (the rest: `dialogstod actions`)
    problem: str | None = None


def build_region(
    store: Any,
    *,
    year: int | None = None,
    flow: str | None = None,
    today: date | None = None,
    generated: datetime | None = None,
) -> dict[str, Any]:
    from assistant.session import Dialogue, DialogueError

    today = today or local_today(generated)
    rows = store.list_dialogues(year=year, flow=flow)
    by_clinic: dict[str, list[dict[str, Any]]] = {}
    names: dict[str, str] = {}
    for r in rows:
        key = r["clinic"].casefold()
        by_clinic.setdefault(key, []).append(r)
        names.setdefault(key, r["clinic"])
    data_rows = store.indicator_values()
    if flow is None:  # every clinic the region follows: with a dialogue, or only with data so far
        for c in store.clinics():
            names.setdefault(c["name"].casefold(), c["name"])
        for v in data_rows:
            names.setdefault(v["clinic"].casefold(), v["clinic"])
    in_scope = {r["id"] for r in rows}
    all_actions = store.list_actions()
    clinics: list[ClinicRow] = []
    feedback: dict[tuple[str, str], list[dict[str, str]]] = {}
    focus_counts: dict[str, Counter[str]] = {}
    untouched_counts: dict[str, Counter[str]] = {}
    held_counts: Counter[str] = Counter()
    theme_texts: dict[str, list[str]] = {}
    for key in sorted(names, key=lambda k: names[k].casefold()):
        ds = sorted(by_clinic.get(key, []), key=lambda r: str(r["started"]), reverse=True)
        row = ClinicRow(clinic=names[key], dialogues=len(ds))
        mine = [a for a in all_actions if a["clinic"].casefold() == key and (year is None and flow is None or a["dialogue_id"] in in_scope)]
        for a in mine:
            overdue = E.action_overdue(a["status"], a.get("due"), today)
            if a["status"] == "done":
                row.done_actions += 1
            else:
                row.actions.append({**a, "overdue": overdue})
                row.open_actions += 1
                row.overdue_actions += overdue
        row.actions.sort(key=lambda a: (not a["overdue"], a.get("due") or "9999"))
        row.actions_shown = min(len(row.actions), SHOWN_ACTIONS)
        clinics.append(row)
        if not ds:
            continue
        held = [r for r in ds if r["status"] != "prepared"]
        latest = held[0] if held else ds[0]
        row.dialogue_id = latest["id"]
        row.date = str(latest["started"])[:10]
        row.flow = latest["flow_id"]
        row.mode = latest["mode"]
        row.status = latest["status"]
        row.status_label = STATUS_LABELS.get(latest["status"], latest["status"])
        row.review = latest.get("review")
        row.review_label = review_label(row.review) if latest["status"] == "finished" or row.review else "–"
        try:
            d = Dialogue.resume(store, latest["id"])
        except DialogueError as exc:
            row.problem = str(exc)
            continue
        st, fl = d.state, d.flow
        row.flow_title = fl.title
        row.stage = fl.phase(st.stage).title if st.stage and fl.phase(st.stage) else None
        for party, sections in st.focus.items():
            labels = [fl.section_label(fl.section_index[s]) for s in sections if s in fl.section_index]
            if labels:
                row.focus[fl.party_title(party)] = labels
                focus_counts.setdefault(fl.title, Counter()).update(labels)
        row.next_meeting_wish = st.answers.get(WISH_QUESTION)
        row.work_on = st.answers.get(WORK_ON_QUESTION)
        if st.status != "prepared":
            held_counts[fl.title] += 1
            for a in E.coverage(st):
                (row.areas_discussed if a.touched else row.areas_untouched).append(a.label)
                if not a.touched:
                    untouched_counts.setdefault(fl.title, Counter())[a.label] += 1
                else:
                    untouched_counts.setdefault(fl.title, Counter())
        texts = [row.work_on] if row.work_on else []
        for section in fl.sections:
            if section.kind != "feedback" or (st.mode == "self" and section.facilitator_only):
                continue
            for q in fl.section_questions(section.id):
                answer = st.answers.get(q.id)
                if answer:
                    feedback.setdefault((section.title, E.prompt_text(st, q.id)), []).append({"clinic": row.clinic, "answer": answer})
                    if q.id != WISH_QUESTION:
                        texts.append(answer)
        if texts:
            theme_texts[row.clinic] = texts

    from assistant.figures import region_figures
    from assistant.flagview import FlowKinds

    indicators = [
        {
            "indicator": ind,
            "label": label,
            "period": period,
            "figures": [asdict(f) for f in region_figures(label, period, flags)],
        }
        for ind, label, period, flags in _indicator_flags(data_rows, FlowKinds(store))
    ]
    return {
        "title": "Regionöversikt",
        "year": year,
        "flow": flow,
        "scope": _scope(year, flow),
        "generated": (generated or datetime.now().astimezone()).astimezone().strftime("%Y-%m-%d %H:%M"),
        "today": today.isoformat(),
        "clinics": [asdict(c) for c in clinics],
        "totals": {
            "clinics": len(clinics),
            "with_dialogue": sum(1 for c in clinics if c.dialogues),
            "open_actions": sum(c.open_actions for c in clinics),
            "overdue_actions": sum(c.overdue_actions for c in clinics),
            "done_actions": sum(c.done_actions for c in clinics),
            "approved": sum(1 for c in clinics if c.review == "approved"),
        },
        "feedback": [
            {"section": section, "question": question, "answers": answers}
            for (section, question), answers in feedback.items()
        ],
        "focus_areas": [
            {"flow": title, "held": held_counts[title], "areas": [{"area": a, "clinics": n} for a, n in counts.most_common()]}
            for title, counts in focus_counts.items()
        ],
        "untouched_areas": [
            {"flow": title, "held": held_counts[title], "areas": [{"area": a, "clinics": n} for a, n in counts.most_common()]}
            for title, counts in untouched_counts.items()
            if counts
        ],
        "themes": [{"theme": t.label, "forms": t.forms, "clinics": t.clinics, "count": t.count} for t in themes(theme_texts)],
        "indicators": indicators,
    }


def _scope(year: int | None, flow: str | None) -> str:
    parts = [f"dialoger som började {year}" if year else "varje mottagnings senaste dialog"]
    if flow:
        parts.append(f"flödet {flow}")
    return ", ".join(parts)


def _indicator_flags(data_rows: list[dict[str, Any]], kinds: dict[str, str]):
    """Per indicator, its newest period and every clinic's flag for it (each compared with its own
    peer group), from one analysis of the data."""
    if not data_rows:
        return []
    from assistant.data import stats
    from assistant.data.flags import Analysis
    from assistant.indicators import default_catalogue

    catalogue = default_catalogue()
    if catalogue is None:
        return []
    analysis = Analysis(data_rows, catalogue, kinds)
    newest: dict[str, str] = {}
    for r in data_rows:
        p = newest.get(r["indicator"])
        if p is None or stats.period_key(r["period"]) > stats.period_key(p):
            newest[r["indicator"]] = r["period"]
    by_indicator: dict[str, dict[str, Any]] = {}
    clinics = sorted({r["clinic"] for r in data_rows}, key=str.casefold)
    for clinic in clinics:
        for f in analysis.flags(clinic):
            if newest.get(f.indicator) == str(f.period):
                by_indicator.setdefault(f.indicator, {})[clinic] = f
    order = {ind.id: i for i, ind in enumerate(catalogue.indicators)}
    out = []
    for ind in sorted(by_indicator, key=lambda i: (order.get(i, len(order)), i)):
        flags = by_indicator[ind]
        out.append((ind, next(iter(flags.values())).label, newest[ind], flags))
    return out


def region_json(ctx: dict[str, Any]) -> dict[str, Any]:
    """The JSON form: every clinic with its figures, and what was found across them."""
    out = dict(ctx)
    out["indicators"] = [
        {
            "indicator": i["indicator"],
            "label": i["label"],
            "period": i["period"],
            "clinics": [r for f in i["figures"] for r in f["rows"]],
        }
        for i in ctx["indicators"]
    ]
    return out


def region_bytes(store, fmt: str, *, year=None, flow=None, generated=None) -> bytes:
    from assistant import render
    from assistant.export import _terminal

    ctx = build_region(store, year=year, flow=flow, generated=generated)
    if fmt == "json":
        from assistant.textsafe import json_text

        return (json_text(region_json(ctx), indent=2, default=str) + "\n").encode("utf-8")
    ctx = _terminal(ctx)
    if fmt in ("html", "docx"):
        from assistant.data import charts
        from assistant.figures import with_pictures

        for i in ctx["indicators"]:
            for figure in i["figures"]:
                with_pictures(figure, fmt, (charts.FUNNEL,))
    if fmt == "md":
        return render.render_prompt("region.md.j2", **ctx).encode("utf-8")
    if fmt == "html":
        return render.render_prompt("region.html.j2", **ctx).encode("utf-8")
    if fmt == "docx":
        from assistant.export import region_docx

        return region_docx(ctx)
    raise ValueError(f"unknown format {fmt!r}")
