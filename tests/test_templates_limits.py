"""Flow templates are untrusted code: limits instead of crashes, hangs or gigabytes of memory."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time

import pytest

from assistant import render
from tests.conftest import FIXTURES, REPO

# Each of these crashed a chat, hung it or ate gigabytes before the limits.
HOSTILE = {
    "power": "{{ 10**5000 }}",
    "power that takes seconds": "{{ (3 ** 10000000) % 7 }}",
    "nested range": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "nested loops within range": "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
    "string repeat": "{{ 'x' * 3000000000 }}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "list repeat then join": "{{ (['x' * 1000] * 1000000)|join }}",
    "padding method": "{{ 'x'.ljust(10**9) }}",
    "format width": "{{ '{:>999999999}'.format(1) }}",
    "percent width": "{{ '%0999999999d' % 1 }}",
    "macro recursion": "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "recursive loop": "{% for x in 'ab' recursive %}{{ loop('ab') }}{% endfor %}",
    "filter block": "{% filter upper %}{% for i in range(10000) %}{{ svar('big') }}{% endfor %}{% endfilter %}",
    "output": "{% for i in range(10000) %}{{ svar('big') }}{% endfor %}",
    "loop over a long answer": "{% for c in svar('big') %}{% for d in svar('big') %}{% endfor %}{% endfor %}",
    "division": "{{ 1 / 0 }}",
    "float overflow": "{{ 5.5 ** 999 }}",
    "undefined": "{{ nothing.here }}",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_template_is_a_template_problem_quickly_and_small(name):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.monotonic()
    with pytest.raises(render.TemplateProblem):
        render.render_text(HOSTILE[name], {"big": "y" * 2_000_000})
    assert time.monotonic() - start < 2 * render.MAX_SECONDS + 0.5
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200, f"{name}: peak memory grew {grown_mib:.0f} MiB"


@pytest.mark.parametrize(
    "template, expected",
    [
        ('Ni nämnde {{ svar("a", "inget") }}.', "Ni nämnde arbetsmiljön."),
        ("{{ 2**10 }} {{ 7*7 }} {{ 'ab' ~ 'c' }} {{ '%5s'|length }}", "1024 49 abc 3"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
        ("{% if flag.n %}{{ flag.n | tal }}{% endif %} {{ flag.value | procent(1) }}", "1\u00a0204 78,5\u00a0%"),
        ("{{ svar('a')|upper }} {{ svar('a').lower() }}", "ARBETSMILJÖN arbetsmiljön"),
    ],
)
def test_ordinary_templates_still_render(template, expected):
    class Flag:
        n = 1204
        value = 0.785

    assert render.render_text(template, {"a": "arbetsmiljön"}, flag=Flag()) == expected


def test_limits_cover_the_text_but_not_the_answers_quoted_in_it():
    long_answer = "ord " * 500_000  # 2 MB, the longest answer there is
    assert render.render_text('{{ svar("a") }}', {"a": long_answer}) == long_answer


def _flows_check(tmp_path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "mini.toml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "flows", "check", str(path)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )


def test_flows_check_refuses_hostile_templates_with_their_location(tmp_path):
    text = (FIXTURES / "flows" / "mini.toml").read_text(encoding="utf-8")
    text = text.replace('text = "Vilka arbetar här?"', 'text = "Vilka? {{ 10**5000 }}"', 1)
    text = text.replace(
        'text = "Hur är arbetsmiljön?"',
        'text = "Hur? {% for a in range(9999) %}{% for b in range(9999) %}{% endfor %}{% endfor %}"',
        1,
    )
    text = text.replace(
        'text = "Hur ser verksamhetens egen verksamhetsidé och vision ut?"', "text = \"{{ 'x' * 3000000000 }}\"", 1
    )
    text = text.replace('intro = "Om dem som arbetar här."', 'intro = "{% macro m() %}{% endmacro %}"', 1)
    result = _flows_check(tmp_path, text)
    assert result.returncode == 2, result.stdout
    out = result.stdout
    assert "sections[0].questions[0].text: mallen går över gränserna: potensen" in out
    assert "sections[0].questions[1].text: mallen går över gränserna: mallen tar för många steg" in out
    assert "sections[1].questions[0].text: mallen går över gränserna: resultatet av *" in out
    assert "sections[0].intro: mallfel: makron är inte tillåtet" in out
    assert "Traceback" not in result.stderr


def test_shipped_flows_pass_the_check():
    flows = sorted(str(p) for p in (REPO / "flows").glob("*.toml"))
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "flows", "check", *flows], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stdout


def test_a_hostile_regional_flow_cannot_crash_or_hang_a_chat(isolated_dirs):
    folder = isolated_dirs / "flows"
    folder.mkdir(parents=True)
    text = (FIXTURES / "flows" / "mini.toml").read_text(encoding="utf-8")
    text = text.replace('text = "Vilka arbetar här?"', 'text = "Vilka? {{ 10**5000 }}"', 1)
    text = text.replace(
        'text = "Hur är arbetsmiljön?"',
        'text = "Hur? {% for a in range(9999) %}{% for b in range(9999) %}{% endfor %}{% endfor %}"',
        1,
    )
    (folder / "mini.toml").write_text(text, encoding="utf-8")
    shutil.copy(FIXTURES / "flows" / "mini.toml", folder / "ignored.txt")
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "chat", "--flow", "mini", "--clinic", "Fysio"],
        input="svar ett\nsvar två\n/avsluta\n", capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Vilka? {{ 10**5000 }}" in result.stdout  # shown as written, not rendered
    assert "Dialogen är sparad" in result.stdout
    assert time.monotonic() - start < 30
