"""A corpus of hostile strings through every input door, checked at every output door.

Input doors: the line mode (typed answers, notes, actions and owners), command-line options
(clinic, participants and roles, focus parties, ``correct`` and ``actions --who``), bundles, JSON
imports, indicator files and flow files. Output doors: the terminal (every command that prints),
Markdown, HTML, docx, JSON and bundles.

The oracles look for the dangerous things themselves — raw control bytes, live HTML tags, Markdown
links, evaluated templates — and never call the code that is supposed to neutralise them.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import run_cli as run
from tests.test_chat import user_flows  # noqa: F401 - fixture

# ESC sequences (CSI, OSC with BEL, DCS with ST), a C1 CSI, BEL, bidirectional overrides and
# isolates, Textual/Rich markup, Jinja, HTML, a Markdown link and a NUL.
TEXT = (
    "\x1b[31mröd\x1b[0m \x1b]0;titel\x07 \x1b]8;;https://x.invalid\x07länk\x1b]8;;\x07 \x1bP+q\x1b\\ "
    "\x9b2J \x07klocka \u202eevil\u202c \u2066isolerad\u2069 "
    "[b]fet[/b] [@click=app.quit]klick[/] "
    "{{ 1234*1000 }} {% for x in range(3) %}ZQ{% endfor %} "
    "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
    "nul\x00byte"
)
# The same kinds of thing without the characters that options and commands split on (; : = ,).
NAME = (
    "\x1b[31mröd\x1b[0m \x1b]2\x07 \x9b2J \x07klocka \u202eevil\u202c [b]fet[/b] "
    "{{ 1234*1000 }} {% for x in range(3) %}ZQ{% endfor %} <script>alert(1)</script> <b>x</b>"
)
CLINIC = "Fysio " + NAME

# What must never reach a terminal: C0 controls but newline and tab, DEL, C1, bidi controls.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
EVALUATED = ("1234000", "ZQZQ")  # what the templates in the corpus would produce if run


def assert_inert(text: str, where: str) -> None:
    found = RAW_CONTROL.search(text)
    assert found is None, f"{where}: raw {found.group(0)!r} at {found.start()}: {text[max(0, found.start() - 40):found.start() + 20]!r}"
    for result in EVALUATED:
        assert result not in text, f"{where}: a template was evaluated ({result})"


def terminal(*argv: str, stdin: str = "", expect: int = 0) -> str:
    code, out, err = run(*argv, stdin=stdin)
    assert code == expect, (argv, code, err)
    assert "Traceback" not in err
    assert_inert(out, f"stdout of {argv[:2]}")
    assert_inert(err, f"stderr of {argv[:2]}")
    return out + err


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def check_html(html: str) -> None:
    assert_inert(html, "html")
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags
    body = "".join(parser.text)
    assert "<script>alert(1)</script>" in body  # shown as text


def check_markdown(md: str) -> None:
    assert_inert(md, "md")
    assert not re.search(r"(?<!\\)<(script|img|b)\b", md), "a live HTML tag in Markdown"
    assert not re.search(r"(?<!\\)\]\(javascript", md), "a live Markdown link"


def check_docx(data: bytes) -> None:
    from docx import Document

    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    text = "\n".join(texts)
    assert_inert(text, "docx")
    assert "<script>alert(1)</script>" in text
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    assert "<script" not in xml


def check_json(raw: str, where: str) -> dict:
    assert_inert(raw, where)  # JSON escapes every control character it carries
    doc = json.loads(raw)
    texts = [e.get("text") for d in doc.get("dialogues", [doc]) for e in d["events"]]
    assert TEXT.replace("\x00", "\ufffd") in texts, f"{where}: the answer is not kept exactly"
    return doc


def _indicator_file(tmp_path: Path) -> Path:
    path = tmp_path / "indikatorer.csv"
    path.write_text(
        "enhet;indikator;period;täljare;nämnare;riktning\n"
        f"{CLINIC};{NAME} egen;2025 \x1b[1m\u202e;30;40;högre\n"
        f"Annan;{NAME} egen;2025 \x1b[1m\u202e;5;40;högre\n",
        encoding="utf-8",
    )
    return path


def test_every_door_in_and_every_door_out(user_flows, tmp_path, monkeypatch):  # noqa: F811
    # ---- in: an indicator file, the line mode with hostile options, corrections and actions
    terminal("data", "import", str(_indicator_file(tmp_path)))
    script = "\n".join([TEXT, f"/anteckning {TEXT}", f"/åtgärd {NAME}; ansvarig {NAME}", "/data", "/status",
                        "/sammanfattning", "/parkera", "/förslag", "/avsluta"]) + "\n"
    out = terminal(
        "chat", "--flow", "mini", "--clinic", CLINIC, "--participant", f"{NAME}:{NAME}", "--focus", f"{NAME}=p1,p2",
        stdin=script,
    )
    assert "Data för" in out and "[b]fet[/b]" in out  # the clinic's data was shown, markup as text
    did = json.loads(run("list", "--json")[1])[0]["id"]
    terminal("correct", did, "p1.vilka", "Rättat: " + TEXT, "--who", NAME)
    terminal("actions", "--done", f"{did}:a1", "--who", NAME)

    # ---- out: the terminal
    for argv in (("list",), ("list", "--json"), ("show", did), ("show", did, "--ids"), ("search", "röd"),
                 ("search", "röd", "--json"), ("actions",), ("actions", "--json"),
                 ("data", "flags", "--clinic", CLINIC), ("data", "flags", "--clinic", CLINIC, "--json")):
        terminal(*argv)
    terminal("chat", "--resume", did, stdin="/data\n/status\n/avsluta\n")
    terminal("data", "flags", "--clinic", "Finns inte", expect=2)  # lists the clinics it has

    # ---- out: documents and the log
    for fmt in ("md", "html", "json", "docx"):
        target = tmp_path / f"export.{fmt}"
        terminal("export", did, "--format", fmt, "-o", str(target))
        data = target.read_bytes()
        {"md": lambda b: check_markdown(b.decode()), "html": lambda b: check_html(b.decode()),
         "json": lambda b: check_json(b.decode(), "json export"), "docx": check_docx}[fmt](data)
    for fmt in ("md", "html", "json"):
        terminal("export", did, "--format", fmt, "-o", "-")
    bundle = tmp_path / "paket.json"
    terminal("bundle", "export", did, "-o", str(bundle))
    check_json(bundle.read_text(encoding="utf-8"), "bundle")

    # ---- in again: the bundle and the JSON export into an empty database, then every output
    for source in (bundle, tmp_path / "export.json"):
        monkeypatch.setenv("DIALOGSTOD_DB", str(tmp_path / f"from-{source.stem}.db"))
        terminal("bundle", "import", str(source))
        for argv in (("list",), ("show", did), ("search", "röd"), ("actions",)):
            terminal(*argv)
        target = tmp_path / f"again-{source.stem}.html"
        terminal("export", did, "--format", "html", "-o", str(target))
        check_html(target.read_text(encoding="utf-8"))


def _rebundle(doc: dict) -> str:
    doc["sha256"] = hashlib.sha256(
        json.dumps(doc["dialogues"], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return json.dumps(doc, ensure_ascii=False)


@pytest.mark.parametrize(
    "field, damage",
    [
        ("dialogue id", lambda d: d["dialogue"].__setitem__("id", "ab\x1b[2Jcd")),
        ("path in the id", lambda d: d["dialogue"].__setitem__("id", "../../etc/x")),
        ("flow id", lambda d: d["dialogue"].__setitem__("flow_id", "mini\x1b]0;x\x07")),
        ("mode", lambda d: d["dialogue"].__setitem__("mode", "self\x1b[2J")),
        ("question id", lambda d: d["events"][1].__setitem__("qid", "p1.vilka\x1b[31m")),
        ("action id", lambda d: next(e for e in d["events"] if e["kind"] == "action_added")["payload"].__setitem__(
            "action_id", "a1\x1b[2J")),
    ],
)
def test_a_bundle_with_a_hostile_id_is_refused_and_the_message_is_inert(user_flows, tmp_path, field, damage):  # noqa: F811
    terminal("chat", "--flow", "mini", "--clinic", "Fysio", stdin="svar\n/åtgärd Ring\n/avsluta\n")
    did = json.loads(run("list", "--json")[1])[0]["id"]
    bundle = tmp_path / "paket.json"
    terminal("bundle", "export", did, "-o", str(bundle))
    doc = json.loads(bundle.read_text(encoding="utf-8"))
    doc["dialogues"][0]["dialogue"]["id"] = str(uuid.uuid4())  # a new dialogue, so nothing is "already here"
    damage(doc["dialogues"][0])
    bundle.write_text(_rebundle(doc), encoding="utf-8")
    before = run("list", "--json")[1]
    message = terminal("bundle", "import", str(bundle), expect=2)
    assert "kan inte importeras" in message and "Inget har importerats" in message
    assert run("list", "--json")[1] == before


def test_a_bundled_flow_with_escape_sequences_is_refused(user_flows, tmp_path):  # noqa: F811
    terminal("chat", "--flow", "mini", "--clinic", "Fysio", stdin="svar\n/avsluta\n")
    did = json.loads(run("list", "--json")[1])[0]["id"]
    bundle = tmp_path / "paket.json"
    terminal("bundle", "export", did, "-o", str(bundle))
    doc = json.loads(bundle.read_text(encoding="utf-8"))
    (sha, flow), = doc["flows"].items()
    source = flow["source"].replace('title = "Minidialog för tester"', 'title = "Mini\\u001b]0;titel\\u0007"')
    new_sha = hashlib.sha256(source.encode()).hexdigest()
    doc["flows"] = {new_sha: {**flow, "source": source}}
    entry = doc["dialogues"][0]
    entry["dialogue"]["id"] = str(uuid.uuid4())
    entry["dialogue"]["flow_sha256"] = new_sha
    entry["events"][0]["payload"]["flow_sha256"] = new_sha
    bundle.write_text(_rebundle(doc), encoding="utf-8")
    message = terminal("bundle", "import", str(bundle), expect=2)
    assert "styrtecken" in message


def test_a_hostile_indicator_file_error_is_inert(user_flows, tmp_path):  # noqa: F811
    path = tmp_path / "dubbel.csv"
    row = f"{CLINIC};{NAME};2025\x1b[1m;30;40;högre\n"
    path.write_text("enhet;indikator;period;täljare;nämnare;riktning\n" + row + row, encoding="utf-8")
    message = terminal("data", "import", str(path), expect=2)
    assert "dubblett" in message and "Inget importerades" in message


def test_a_flow_file_with_escape_sequences_is_refused_with_its_location(user_flows):  # noqa: F811
    text = (user_flows / "mini.toml").read_text(encoding="utf-8")
    text = text.replace('title = "Personal"', 'title = "Personal\\u001b[2J\\u202e"', 1)
    (user_flows / "mini.toml").write_text(text, encoding="utf-8")
    message = terminal("flows", "check", str(user_flows / "mini.toml"), expect=2)
    assert "sections[0].title: texten innehåller ett styrtecken (U+001B)" in message
    terminal("flows", "list")  # the broken flow is left out with the same message
    message = terminal("chat", "--flow", "mini", "--clinic", "Fysio", expect=2)
    assert "styrtecken" in message
