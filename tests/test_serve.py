"""`dialogstod serve`: a real server, real HTTP requests and real WebSockets (aiohttp's client).

Nothing without the run's token; nothing from a foreign Origin or Host; with the token, the app.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import aiohttp
import pytest

from tests.conftest import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, proc: subprocess.Popen, port: int, token: str, output: str):
        self.proc, self.port, self.token, self.output = proc, port, token, output

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"dialogstod-{self.port}={self.token}"}


def _serve(*extra: str) -> Iterator[Served]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), *extra],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = ""
        deadline = time.monotonic() + 30
        token = None
        while time.monotonic() < deadline and token is None:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail(f"serve exited early: {output}")
            output += line
            m = re.search(r"\?token=([A-Za-z0-9_-]+)", line)
            token = m.group(1) if m else None
        assert token, output
        while time.monotonic() < deadline:  # until it answers
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield Served(proc, port, token, output)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def served(isolated_dirs):
    yield from _serve()


async def _get(url: str, **kwargs) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(url, allow_redirects=False, **kwargs) as response:
            return response.status, dict(response.headers), (await response.read()).decode("utf-8", "replace")


async def _websocket(served: Served, headers: dict[str, str], seconds: float = 0.0) -> tuple[int, bytes]:
    """Open /ws with these headers: (101 or the refusal's status, what the app sent meanwhile)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        try:
            ws = await session.ws_connect(f"ws://127.0.0.1:{served.port}/ws?width=100&height=30", headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, b""
        received = b""
        deadline = time.monotonic() + seconds
        async with ws:
            await ws.send_json(["resize", {"width": 100, "height": 30}])
            while time.monotonic() < deadline and b"Dialogst" not in received:
                try:
                    message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        return 101, received


async def test_nothing_without_the_token_and_the_app_with_it(served):
    origin = {"Origin": served.base}
    # the page
    status, headers, body = await _get(served.base + "/")
    assert status == 403 and "token" in body and "<form" in body
    status, _, body = await _get(served.base + "/?token=fel")
    assert status == 403 and "Token stämmer inte" in body
    status, headers, body = await _get(f"{served.base}/?token={served.token}")
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert f"dialogstod-{served.port}={served.token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "script-src 'self' 'nonce-" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in body
    status, _, _ = await _get(served.base + "/", headers=served.cookie)  # the cookie is enough afterwards
    assert status == 200
    status, _, _ = await _get(served.base + "/download/anything")
    assert status == 403

    # the WebSocket: no token, a wrong token, a foreign Origin, no Origin -> refused before the upgrade
    assert (await _websocket(served, origin))[0] == 403
    assert (await _websocket(served, {**origin, "Cookie": f"dialogstod-{served.port}=fel"}))[0] == 403
    assert (await _websocket(served, {**served.cookie, "Origin": "http://evil.example"}))[0] == 403
    assert (await _websocket(served, {**served.cookie, "Origin": f"http://localhost:{served.port + 1}"}))[0] == 403
    assert (await _websocket(served, served.cookie))[0] == 403
    # with the token and the page's own Origin: the app
    status, screen = await _websocket(served, {**served.cookie, **origin}, seconds=60)
    assert status == 101
    assert b"Dialogst" in screen


async def test_a_foreign_host_name_is_refused(served):
    # DNS rebinding: a name that resolves to 127.0.0.1 but is not ours, even with the token
    status, _, _ = await _get(f"{served.base}/?token={served.token}", headers={"Host": f"evil.example:{served.port}"})
    assert status == 403
    headers = {**served.cookie, "Host": f"evil.example:{served.port}", "Origin": f"http://evil.example:{served.port}"}
    assert (await _websocket(served, headers))[0] == 403
    status, _, _ = await _get(f"{served.base}/?token={served.token}", headers={"Host": f"localhost:{served.port}"})
    assert status == 200


async def test_every_asset_is_served_from_here_and_the_page_is_swedish(served):
    status, _, page = await _get(f"{served.base}/?token={served.token}")
    assert status == 200
    assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", page), "an asset from elsewhere"
    assert "googleapis" not in page and "fonts.g" not in page
    assert "Session ended" not in page and "Restart" not in page
    assert "Sessionen är avslutad" in page and 'lang="sv"' in page
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)"|url\("(/static/[^"]+)"\)""", page)
    paths = [a or b for a, b in assets]
    assert any(p.endswith(".ttf") for p in paths) and any(p.endswith(".js") for p in paths)
    for path in paths:
        status, _, _ = await _get(served.base + path)
        assert status == 200, path
    status, _, _ = await _get(served.base + "/static/")  # no directory listing
    assert status == 403 or status == 404


async def test_a_server_for_other_machines_builds_its_websocket_url_from_the_request(isolated_dirs):
    for served in _serve("--host", "0.0.0.0"):
        assert "VARNING" in served.output and "okrypterad" in served.output
        # as a browser on another machine would ask for it (any address of this machine)
        status, _, page = await _get(
            f"{served.base}/?token={served.token}", headers={"Host": f"192.0.2.7:{served.port}"}
        )
        assert status == 200
        assert f'data-session-websocket-url="ws://192.0.2.7:{served.port}/ws"' in page
        assert "0.0.0.0" not in page
        status, _, _ = await _get(f"{served.base}/?token={served.token}", headers={"Host": f"evil.example:{served.port}"})
        assert status == 403


def test_serve_warning_only_for_non_loopback_hosts():
    from assistant.serve import serve_warning

    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        assert serve_warning(host) is None, host
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.org"):
        warning = serve_warning(host)
        assert warning and "okrypterad" in warning and host in warning
