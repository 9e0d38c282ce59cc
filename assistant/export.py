"""Exports of one dialogue: md, html, docx (the method's documentation document) and json (the log).

Files are written atomically (a temporary file, then a rename) with mode 0600 unless asked
otherwise, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant import engine as E
from assistant import render, report
from assistant.data import charts
from assistant.textsafe import terminal_safe

FORMATS = ("md", "html", "json", "docx")
CHARTS = (charts.FUNNEL, charts.RUN)


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
    return render.render_prompt("transcript.txt.j2", show_ids=ids, **_terminal(report.build(state, row)))


def render_document(state: E.State, row: dict[str, Any], fmt: str, *, generated: datetime | None = None) -> bytes:
    # Control characters become visible symbols in every document (and docx needs XML-safe text).
    context = _terminal(report.build(state, row, generated=generated))
    if fmt == "md":
        for f in context["flags_discussed"]:
            f["chart_text"] = charts.text_lines(f.get("chart"))
        return render.render_prompt("export.md.j2", **context).encode("utf-8")
    if fmt == "html":
        from markupsafe import Markup

        for f in context["flags_discussed"]:
            # Inline SVG (allowed by the page's Content-Security-Policy: no scripts, no fetches).
            f["svgs"] = [Markup(charts.svg(f["chart"], w)) for w in CHARTS if charts.available(f.get("chart"), w)]
        return render.render_prompt("export.html.j2", **context).encode("utf-8")
    if fmt == "docx":
        return _docx(context)
    raise ValueError(f"unknown format {fmt!r}")


def default_filename(row: dict[str, Any], fmt: str) -> str:
    clinic = unicodedata.normalize("NFKD", row.get("clinic", "dialog"))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", clinic.encode("ascii", "ignore").decode()).strip("-").lower() or "dialog"
    date = str(row.get("started", ""))[:10]
    return f"uppfoljningsdialog-{slug[:40]}-{date}-{row['id'][:8]}.{fmt}"


def write_private(path: Path, data: bytes, *, mode: int = 0o600) -> Path:
    """Write ``data`` to ``path`` atomically with the given permissions."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=".dialogstod-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def export_bytes(store, state: E.State, row: dict[str, Any], fmt: str, *, generated: datetime | None = None) -> bytes:
    if fmt == "json":
        return store.export_dialogue_json(row["id"]).encode("utf-8")
    return render_document(state, row, fmt, generated=generated)


# ---------------------------------------------------------------- docx


def _docx(ctx: dict[str, Any]) -> bytes:
    import io

    from docx import Document
    from docx.shared import Inches, Pt

    doc = Document()
    # Look each style up once: python-docx resolves a style name with an XPath query every time.
    styles = {name: doc.styles[name] for name in ("Title", "Heading 1", "Heading 2", "List Bullet", "Table Grid")}
    bullet = styles["List Bullet"]

    def heading(text: str, level: int) -> None:
        doc.add_paragraph(text, style=styles["Title" if level == 0 else f"Heading {level}"])

    doc.core_properties.title = ctx["title"][:255]  # the docx format caps core properties at 255
    doc.core_properties.subject = ctx["clinic"][:255]
    heading(ctx["title"], 0)
    meta = doc.add_table(rows=0, cols=2)
    meta.style = styles["Table Grid"]
    for label, value in (
        ("Mottagning", ctx["clinic"]),
        ("Datum", ctx["date"] or ""),
        ("Flöde", f"{ctx['flow']['title']} (version {ctx['flow']['version']})"),
        ("Form", f"{ctx['mode_label']} · {ctx['status_label']}"),
        ("Mötestid", f"{ctx['elapsed_minutes']} av {ctx['meeting_minutes']} min"),
    ):
        cells = meta.add_row().cells
        cells[0].text = label
        cells[1].text = value
    if ctx["participants"]:
        heading("Deltagare", 1)
        for p in ctx["participants"]:
            doc.add_paragraph(p["name"] + (f" – {p['role']}" if p["role"] else ""), style=bullet)
    if ctx["focus"]:
        heading("Fokusområden", 1)
        for f in ctx["focus"]:
            doc.add_paragraph(f"{f['party']}: {', '.join(f['areas'])}", style=bullet)
    if ctx["flags_discussed"]:
        heading("Data som diskuterades", 1)
        for f in ctx["flags_discussed"]:
            doc.add_paragraph(f"{f['label']} {f['period']}: {f['text']}", style=bullet)
            for which in CHARTS:
                if charts.available(f.get("chart"), which):
                    doc.add_picture(io.BytesIO(charts.png(f["chart"], which)), width=Inches(5.6))
        doc.add_paragraph(ctx["data_caveat"]).runs[0].italic = True
    for area in ctx["areas"]:
        heading(area["label"], 1)
        if not area["entries"] and not area["notes"]:
            doc.add_paragraph("Inte berört under dialogen.").runs[0].italic = True
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
                doc.add_paragraph(n["text"], style=bullet)
    if ctx["general_notes"]:
        heading("Övriga anteckningar", 1)
        for n in ctx["general_notes"]:
            doc.add_paragraph(n["text"], style=bullet)
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
            cells[3].text = a["status_label"]
    else:
        doc.add_paragraph("Inga åtgärder.")
    heading("Parkeringsplatsen", 1)
    for p in ctx["parked"]:
        doc.add_paragraph(p["question"], style=bullet)
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
            doc.add_paragraph(f"{c['at']}{who}: {c['question']} – {change}", style=bullet)
    foot = doc.add_paragraph(f"{ctx['flow']['provenance']}. Dialog {ctx['dialogue_id']}.")
    foot.runs[0].font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
