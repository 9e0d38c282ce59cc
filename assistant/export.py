"""Exports of one dialogue: md, html, docx (the method's documentation document) and json (the log).

Files are written by ``assistant.fileio.write_regular``: atomically (a temporary file, then a
rename), mode 0600 unless asked otherwise, and never over anything that is not a regular file.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import datetime
from typing import Any

from assistant import engine as E
from assistant.textsafe import terminal_safe

FORMATS = ("md", "html", "json", "docx")


def _charts():
    """``assistant.data.charts`` and the pictures a discussed flag gets, imported by the documents
    that draw (not by ``dialogstod show``)."""
    from assistant.data import charts

    return charts, (charts.FUNNEL, charts.RUN)


def _terminal(value: Any) -> Any:
    if isinstance(value, str):
        return terminal_safe(value)
    if isinstance(value, dict):
        return {k: _terminal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_terminal(v) for v in value]
    return value


def transcript_text(state: E.State, row: dict[str, Any], *, ids: bool = False) -> str:
    """The readable transcript for a terminal (`dialogstod show`); ``ids`` shows question ids."""
    from assistant import render, report

    return render.render_prompt("transcript.txt.j2", show_ids=ids, **_terminal(report.build(state, row)))


def render_document(state: E.State, row: dict[str, Any], fmt: str, *, generated: datetime | None = None) -> bytes:
    from assistant import render, report

    # Control characters become visible symbols in every document (and docx needs XML-safe text).
    context = _terminal(report.build(state, row, generated=generated))
    charts, pictures = _charts() if context["flags_discussed"] else (None, ())
    if fmt == "md":
        for f in context["flags_discussed"]:
            f["chart_text"] = charts.text_lines(f.get("chart"))
        return render.render_prompt("export.md.j2", **context).encode("utf-8")
    if fmt == "html":
        from markupsafe import Markup

        for f in context["flags_discussed"]:
            # Inline SVG (allowed by the page's Content-Security-Policy: no scripts, no fetches).
            f["svgs"] = [Markup(charts.svg(f["chart"], w)) for w in pictures if charts.available(f.get("chart"), w)]
        return render.render_prompt("export.html.j2", **context).encode("utf-8")
    if fmt == "docx":
        return _docx(context)
    raise ValueError(f"unknown format {fmt!r}")


def slug(text: str, fallback: str = "dialog") -> str:
    plain = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^A-Za-z0-9]+", "-", plain.encode("ascii", "ignore").decode()).strip("-").lower()[:40] or fallback


def default_filename(row: dict[str, Any], fmt: str, *, pack: bool = False) -> str:
    date = str(row.get("started", ""))[:10]
    lead = "underlag" if pack else "uppfoljningsdialog"
    return f"{lead}-{slug(row.get('clinic', 'dialog'))}-{date}-{row['id'][:8]}.{fmt}"


def pack_bytes(store, d, fmt: str, *, generated: datetime | None = None) -> bytes:
    """"Underlag inför uppföljningsdialogen" for a (prepared) dialogue: md, html or docx."""
    from assistant import render
    from assistant.figures import with_pictures
    from assistant.pack import build_pack

    context = _terminal(build_pack(store, d, generated=generated))
    for i in context["indicators"]["stands_out"]:  # pictures where they matter: what stands out
        with_pictures(i["figure"], fmt)
    if fmt == "md":
        return render.render_prompt("pack.md.j2", **context).encode("utf-8")
    if fmt == "html":
        return render.render_prompt("pack.html.j2", **context).encode("utf-8")
    if fmt == "docx":
        return _pack_docx(context)
    raise ValueError(f"unknown format {fmt!r}")


def export_bytes(store, state: E.State, row: dict[str, Any], fmt: str, *, generated: datetime | None = None) -> bytes:
    if fmt == "json":
        from assistant.bundles import export_dialogue_json

        return export_dialogue_json(store, row["id"]).encode("utf-8")
    return render_document(state, row, fmt, generated=generated)


# ---------------------------------------------------------------- docx


def _add(doc: Any, text: str, style: Any) -> Any:
    """``doc.add_paragraph(text, style=style)``, the style set by its id. Assigning a style object,
    python-docx looks for the document's default style of that type on every paragraph (a scan
    of all ~160 styles; 40–80 ms for a dialogue's documentation); these are never the default."""
    paragraph = doc.add_paragraph(text)
    paragraph._p.style = style.style_id
    return paragraph


class _Docx:
    """A new python-docx document with its styles looked up once (python-docx resolves a style name
    with an XPath query every time), a heading by level, and the finished file's bytes."""

    def __init__(self, *styles: str) -> None:
        from docx import Document

        self.doc = Document()
        self.styles = {name: self.doc.styles[name] for name in ("Title", "Heading 1", "Heading 2", *styles)}

    def heading(self, text: str, level: int) -> None:
        _add(self.doc, text, self.styles["Title" if level == 0 else f"Heading {level}"])

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def _docx(ctx: dict[str, Any]) -> bytes:
    from docx.shared import Inches, Pt

    writer = _Docx("List Bullet", "Table Grid")
    doc, styles, heading = writer.doc, writer.styles, writer.heading
    bullet = styles["List Bullet"]

    doc.core_properties.title = ctx["title"][:255]  # the docx format caps core properties at 255
    doc.core_properties.subject = ctx["clinic"][:255]
    heading(ctx["title"], 0)
    meta = doc.add_table(rows=0, cols=2)
    meta.style = styles["Table Grid"]
    for label, value in (
        (ctx["unit_label"], ctx["clinic"]),
        ("Datum", ctx["date"] or ""),
        ("Flöde", f"{ctx['flow']['title']} (version {ctx['flow']['version']})"),
        ("Form", f"{ctx['mode_label']} · {ctx['status_label']}"),
        *((("Del", ctx["stage"]),) if ctx["stage"] else ()),
        ("Mötestid", f"{ctx['elapsed_minutes']} av {ctx['meeting_minutes']} min"),
        ("Granskning", ctx["review_status"]),
    ):
        cells = meta.add_row().cells
        cells[0].text = label
        cells[1].text = value
    if ctx["participants"]:
        heading("Deltagare", 1)
        for p in ctx["participants"]:
            _add(doc, p["name"] + (f" – {p['role']}" if p["role"] else ""), bullet)
    if ctx["focus"]:
        heading("Fokusområden", 1)
        for f in ctx["focus"]:
            _add(doc, f"{f['party']}: {', '.join(f['areas'])}", bullet)
    if ctx["flags_discussed"]:
        heading("Data som diskuterades", 1)
        charts, pictures = _charts()
        for f in ctx["flags_discussed"]:
            _add(doc, f"{f['label']} {f['period']}: {f['text']}", bullet)
            for which in pictures:
                if charts.available(f.get("chart"), which):
                    doc.add_picture(io.BytesIO(charts.png(f["chart"], which)), width=Inches(5.6))
        doc.add_paragraph(ctx["data_caveat"]).runs[0].italic = True
    for area in ctx["areas"]:
        heading(area["label"], 1)
        if not area["entries"] and not area["notes"]:
            doc.add_paragraph("Ej berört under dialogen.").runs[0].italic = True
        sub = None
        for item in area["entries"]:
            if item["subarea"] and item["subarea"] != sub:
                heading(item["subarea"], 2)
                sub = item["subarea"]
            q = doc.add_paragraph()
            q.add_run(item["question"] + (" (följdfråga)" if item["followup"] else "")).bold = True
            if item["status"] == "answered":
                doc.add_paragraph(item["answer"])
                if item["corrected"]:
                    who = f" av {item['corrected_by']}" if item["corrected_by"] else ""
                    label = "Tillagt efter mötet" if item["added_after"] else "Rättad"
                    doc.add_paragraph(f"{label}{who} {item['corrected_at']}.").runs[0].italic = True
            else:
                text = "Parkerad – tas upp senare." if item["status"] == "parked" else "Hoppades över."
                doc.add_paragraph(text).runs[0].italic = True
        if area["notes"]:
            doc.add_paragraph().add_run("Anteckningar").bold = True
            for n in area["notes"]:
                _add(doc, n["text"], bullet)
    if ctx["general_notes"]:
        heading("Övriga anteckningar", 1)
        for n in ctx["general_notes"]:
            _add(doc, n["text"], bullet)
    heading("Åtgärder", 1)
    if ctx["actions"]:
        table = doc.add_table(rows=1, cols=4)
        table.style = styles["Table Grid"]
        for cell, label in zip(table.rows[0].cells, ("Åtgärd", "Ansvarig", "Datum", "Status"), strict=True):
            cell.text = label
        for a in ctx["actions"]:
            cells = table.add_row().cells
            cells[0].text = a["text"]
            cells[1].text = a["owner"] or ""
            cells[2].text = a["due"] or ""
            cells[3].text = ("⚠ " if a["overdue"] else "") + a["status_label"]
            if a["overdue"]:
                for run in cells[3].paragraphs[0].runs:
                    run.bold = True
    else:
        doc.add_paragraph("Inga åtgärder.")
    heading("Parkeringsplatsen", 1)
    for p in ctx["parked"]:
        _add(doc, p["question"], bullet)
    if not ctx["parked"]:
        doc.add_paragraph("Inga parkerade frågor.")
    heading("Täckning per område", 1)
    table = doc.add_table(rows=1, cols=5)
    table.style = styles["Table Grid"]
    for cell, label in zip(table.rows[0].cells, ("Område", "Besvarade", "Överhoppade", "Parkerade", "Kvar"), strict=True):
        cell.text = label
    for c in ctx["coverage"]:
        cells = table.add_row().cells
        cells[0].text = c["label"] + (" (fokus)" if c["focus"] else "")
        for cell, key in zip(cells[1:], ("answered", "skipped", "parked", "untouched"), strict=True):
            cell.text = str(c[key])
    if ctx["corrections"]:
        heading("Rättelser efter mötet", 1)
        for c in ctx["corrections"]:
            who = f", {c['who']}" if c["who"] else ""
            change = "tillagt efter mötet" if c["added"] else f"tidigare: {c['previous']}"
            _add(doc, f"{c['at']}{who}: {c['question']} – {change}", bullet)
    if ctx["review"]:
        heading("Granskning av dokumentationen", 1)
        for r in ctx["review"]:
            who = f" ({r['who']})" if r["who"] else ""
            note = f" – {r['note']}" if r["note"] else ""
            _add(doc, f"{r['at']}: {r['label']}{who}{note}", bullet)
    heading("Ord i dokumentet", 1)
    for t in ctx["glossary"]:
        para = _add(doc, "", bullet)
        para.add_run(t["word"]).bold = True
        para.add_run(": " + t["means"])
    sources = f" Källor: {'; '.join(ctx['sources'])}." if ctx["sources"] else ""
    foot = doc.add_paragraph(f"{ctx['flow']['provenance']}.{sources} Dialog {ctx['dialogue_id']}.")
    foot.runs[0].font.size = Pt(8)
    return writer.bytes()


def _pack_docx(ctx: dict[str, Any]) -> bytes:
    from docx.shared import Cm, Pt

    writer = _Docx("Heading 3", "List Bullet", "List Number", "Table Grid")
    doc, styles, heading = writer.doc, writer.styles, writer.heading
    bullet = styles["List Bullet"]

    def muted(text: str) -> None:
        doc.add_paragraph(text).runs[0].italic = True

    def table(header: tuple[str, ...], rows: list[tuple[str, ...]], bold_rows: set[int] = frozenset()) -> None:
        t = doc.add_table(rows=1, cols=len(header))
        t.style = styles["Table Grid"]
        for cell, label in zip(t.rows[0].cells, header, strict=True):
            cell.text = label
        for i, values in enumerate(rows):
            cells = t.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                cell.text = value
                if i in bold_rows:
                    for run in cell.paragraphs[0].runs:
                        run.bold = True

    doc.core_properties.title = ctx["title"][:255]
    doc.core_properties.subject = ctx["clinic"][:255]
    heading(ctx["title"], 0)
    meta = [
        (ctx["unit_label"], ctx["clinic"]),
        ("Flöde", f"{ctx['flow']['title']} (version {ctx['flow']['version']})"),
        ("Form", f"{ctx['mode_label']} · {ctx['status_label']}" + (f" ({ctx['prepared']})" if ctx["prepared"] else "")),
        *((("Del", ctx["stage"]),) if ctx["stage"] else ()),
        ("Planerad mötestid", f"{ctx['meeting_minutes']} min"),
    ]
    t = doc.add_table(rows=0, cols=2)
    t.style = styles["Table Grid"]
    for label, value in meta:
        cells = t.add_row().cells
        cells[0].text, cells[1].text = label, value
    if ctx["stage_work"]:
        heading("Arbetet i den här delen", 1)
        for w in ctx["stage_work"]:
            _add(doc, w, bullet)
    heading("Fokusområden hittills", 1)
    muted(ctx["focus_prompt"] + ".")
    for f in ctx["focus"]:
        _add(doc, f"{f['party']}: {', '.join(f['areas']) if f['areas'] else 'inga valda ännu'}", bullet)
    heading("Planerade områden och tid", 1)
    table(("Område", "Minuter", ""), [(s["label"], str(s["minutes"]), "fokus" if s["focus"] else "") for s in ctx["plan"]])
    muted("Målet är att ha dialog kring samtliga områden, inte att hinna alla frågor.")
    prev = ctx["previous"]
    if prev:
        heading(f"Från förra dialogen ({prev['date']}, {prev['flow_title']})", 1)
        if prev["stage"]:
            muted(prev["stage"])
        if prev["wish"]:
            doc.add_paragraph().add_run("Önskemål inför detta möte:").bold = True
            doc.add_paragraph(prev["wish"])
        for c in prev["carried"]:
            doc.add_paragraph().add_run(c["question"]).bold = True
            doc.add_paragraph(c["answer"])
        actions = prev["actions"] + prev["older_open"]
        if actions:
            doc.add_paragraph().add_run("Åtgärder och deras status:").bold = True
            table(
                ("Åtgärd", "Ansvarig", "Datum", "Status"),
                [(a["text"], a["owner"] or "", a["due"] or "", ("⚠ " if a["overdue"] else "") + a["status_label"]) for a in actions],
                {i for i, a in enumerate(actions) if a["overdue"]},
            )
        if prev["parked"]:
            doc.add_paragraph().add_run("Kvar på parkeringsplatsen:").bold = True
            for p in prev["parked"]:
                _add(doc, p, bullet)
        if prev["flag_moves"]:
            doc.add_paragraph().add_run("Data sedan dess:").bold = True
            for line in prev["flag_moves"]:
                _add(doc, line, bullet)
    heading("Mottagningens data", 1)
    method = ctx["method"]
    if not ctx["has_data"]:
        muted(f"Ingen indikatordata är importerad för {ctx['clinic']}.")
    else:
        if method:
            muted(method["data"]["intro"])
        heading("Det som sticker ut", 2)
        for i in ctx["indicators"]["stands_out"]:
            heading(f"{i['marker']} {i['label']} {i['period']}", 3)
            doc.add_paragraph(i["text"])
            figure = i["figure"]
            for png in figure.get("pngs") or []:
                doc.add_picture(io.BytesIO(png), width=Cm(14))
            for line in figure["lines"]:
                _add(doc, line, bullet)
            if i["questions"]:
                muted("Tas upp under: " + "; ".join(i["questions"]))
        if not ctx["indicators"]["stands_out"]:
            muted("Inget sticker ut i datan.")
        heading("Det som inte sticker ut", 2)
        for i in ctx["indicators"]["calm"]:
            n = f" (n = {i['n']})" if i["n"] else ""
            _add(doc, f"{i['label']} {i['period']}: {i['value']}{n} – {' '.join(i['figure']['lines'])}", bullet)
        if not ctx["indicators"]["calm"]:
            muted("Inga.")
        if ctx["indicators"]["small"]:
            heading("För få observationer – flaggas inte", 2)
            for i in ctx["indicators"]["small"]:
                need = f", minst {i['min_n']} behövs" if i["min_n"] else ""
                n = f" (n = {i['n']}{need})" if i["n"] else ""
                _add(doc, f"{i['label']} {i['period']}: {i['value']}{n}", bullet)
            if method:
                muted("Varför: " + method["data"]["small_numbers"])
    validity = ctx["validity"]
    heading(validity["title"], 1)
    doc.add_paragraph("Titta på siffrorna före mötet och ta med det som inte stämmer med verkligheten.")
    for q in validity["questions"]:
        _add(doc, q, bullet)
    if not validity["questions"]:
        muted("Ingen data att kontrollera.")
    if validity["quote"]:
        muted(f"”{validity['quote']}” – {validity['quote_source']}")
    if method:
        heading("Inför mötet: metodens utgångspunkter", 1)
        heading(method["trust"]["title"], 2)
        doc.add_paragraph(method["trust"]["intro"])
        for p in method["trust"]["principles"]:
            _add(doc, p, styles["List Number"])
        muted(f"Källa: {method['trust']['source']}.")
        heading(method["staircase"]["title"], 2)
        doc.add_paragraph(method["staircase"]["text"])
        muted(f"Källa: {method['staircase']['source']}.")
        heading(method["data"]["title"], 2)
        doc.add_paragraph(method["data"]["intro"])
        _add(doc, method["data"]["small_numbers"], bullet)
        _add(doc, method["data"]["registration"], bullet)
        muted(f"Källa: {method['data']['source']}.")
    sources = f" Flödets källor: {'; '.join(ctx['sources'])}." if ctx["sources"] else ""
    foot = doc.add_paragraph(f"{ctx['title']} · Dialog {ctx['dialogue_id']}.{sources}")
    foot.runs[0].font.size = Pt(8)
    return writer.bytes()


def region_docx(ctx: dict[str, Any]) -> bytes:
    from docx.shared import Cm, Pt

    writer = _Docx("List Bullet", "Table Grid")
    doc, styles, heading = writer.doc, writer.styles, writer.heading
    bullet = styles["List Bullet"]

    def muted(text: str) -> None:
        doc.add_paragraph(text).runs[0].italic = True

    doc.core_properties.title = ctx["title"]
    heading(ctx["title"], 0)
    t = ctx["totals"]
    doc.add_paragraph(
        f"{ctx['scope']} · {t['clinics']} mottagningar ({t['with_dialogue']} med dialog) · åtgärder: "
        f"{t['open_actions']} öppna, {t['overdue_actions']} försenade, {t['done_actions']} klara · "
        f"godkänd dokumentation: {t['approved']}"
    )
    heading("Per mottagning", 1)
    header = ("Mottagning", "Dialoger", "Senaste", "Status", "Granskning", "Öppna", "Försenade", "Klara")
    table = doc.add_table(rows=1, cols=len(header))
    table.style = styles["Table Grid"]
    for cell, label in zip(table.rows[0].cells, header, strict=True):
        cell.text = label
    for c in ctx["clinics"]:
        cells = table.add_row().cells
        values = (
            c["clinic"], str(c["dialogues"]), c["date"] or "–", c["status_label"] or "ingen dialog",
            c["review_label"] or "–", str(c["open_actions"]),
            ("⚠ " if c["overdue_actions"] else "") + str(c["overdue_actions"]), str(c["done_actions"]),
        )
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
        if c["overdue_actions"]:
            for run in cells[6].paragraphs[0].runs:
                run.bold = True
    for c in ctx["clinics"]:
        if not c["dialogue_id"]:
            continue
        heading(c["clinic"], 2)
        mode = " · självskattning" if c["mode"] == "self" else ""
        stage = f" · {c['stage']}" if c["stage"] else ""
        muted(f"{c['date']} · {c['flow_title'] or c['flow']}{mode} · {c['status_label']} · granskning: {c['review_label']}{stage}")
        if c["problem"]:
            muted(c["problem"])
        if c["focus"]:
            _add(doc, "Fokus: " + "; ".join(f"{p}: {', '.join(a)}" for p, a in c["focus"].items()), bullet)
        if c["areas_discussed"]:
            _add(doc, "Berört: " + ", ".join(c["areas_discussed"]), bullet)
        if c["areas_untouched"]:
            _add(doc, "Ej berört: " + ", ".join(c["areas_untouched"]), bullet)
        if c["work_on"]:
            _add(doc, "Jobba vidare med: " + c["work_on"], bullet)
        if c["next_meeting_wish"]:
            _add(doc, "Önskemål till nästa möte: " + c["next_meeting_wish"], bullet)
        for a in c["actions"][: c["actions_shown"]]:
            mark = "☑" if a["status"] == "done" else ("⚠" if a["overdue"] else "☐")
            extra = "".join((f" · ansvarig {a['owner']}" if a.get("owner") else "", f" · {a['due']}" if a.get("due") else ""))
            p = _add(doc, f"{mark} {a['text']}{extra}" + (" · försenad" if a["overdue"] else ""), bullet)
            if a["overdue"]:
                p.runs[0].bold = True
        if len(c["actions"]) > c["actions_shown"]:
            muted(f"… och {len(c['actions']) - c['actions_shown']} öppna åtgärder till.")
    heading("Återkoppling till regionen, samlad", 1)
    for f in ctx["feedback"]:
        heading(f"{f['section']}: {f['question']}", 2)
        for a in f["answers"]:
            _add(doc, f"{a['clinic']}: {a['answer']}", bullet)
    if not ctx["feedback"]:
        muted("Ingen återkoppling ännu.")
    heading("Områden", 1)
    for g in ctx["focus_areas"]:
        doc.add_paragraph(f"Oftast valda som fokus ({g['flow']}): " + ", ".join(f"{a['area']} ({a['clinics']})" for a in g["areas"]))
    for g in ctx["untouched_areas"]:
        doc.add_paragraph(
            f"Oftast ej berörda ({g['flow']}, {g['held']} hållna dialoger): "
            + ", ".join(f"{a['area']} ({a['clinics']})" for a in g["areas"])
        )
    heading("Återkommande teman i ”jobba vidare” och återkopplingen", 1)
    for th in ctx["themes"]:
        _add(
            doc,
            f"{th['theme']} ({', '.join(th['forms'])}) – {len(th['clinics'])} mottagningar: {', '.join(th['clinics'])}",
            bullet,
        )
    if not ctx["themes"]:
        muted("Inga ord återkommer hos flera mottagningar.")
    heading("Indikatorerna, alla mottagningar", 1)
    for i in ctx["indicators"]:
        for figure in i["figures"]:
            heading(figure["title"], 2)
            for png in figure.get("pngs") or []:
                doc.add_picture(io.BytesIO(png), width=Cm(14))
            for line in figure["lines"]:
                _add(doc, line, bullet)
    if not ctx["indicators"]:
        muted("Ingen indikatordata importerad.")
    foot = doc.add_paragraph(f"{ctx['title']} · skapad {ctx['generated']}.")
    foot.runs[0].font.size = Pt(8)
    return writer.bytes()
