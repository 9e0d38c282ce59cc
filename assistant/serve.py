"""``dialogstod serve``: the app in a browser, through textual-serve, behind a per-run token.

textual-serve runs one app process per browser tab and relays its terminal over a WebSocket; on
its own anyone who can reach the port — another local user, or any web page open in the owner's
browser (cross-site WebSocket hijacking) — gets the app and every dialogue. ``DialogstodServer``
extends textual-serve's ``Server`` the way Jupyter protects its server:

- **A secret token per run** (``secrets.token_urlsafe``), printed in the URL (``/?token=…``). The
  first visit with it sets a cookie (HttpOnly, SameSite=Strict, named after the port) and the page
  drops the token from the address bar. The page, the WebSocket and downloads need the cookie (or
  ``Authorization: token …``); without it the page is a Swedish "log in" form, everything else 403.
- **Host and Origin** are checked on every request: the Host header must name this server (a
  loopback name when it listens on loopback — against DNS rebinding), and an Origin, required on
  the WebSocket, must be the page's own.
- **The WebSocket URL is built from the request's Host**, so ``--host 0.0.0.0`` works from other
  machines (textual-serve embeds ``ws://0.0.0.0:PORT/ws``).
- **Our own page** (``assistant/web/``): Swedish texts, the terminal focused on load so keys work
  without a click, every asset (fonts included) from this server, a Content-Security-Policy with a
  nonce, and no English "Session ended. Restart".
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
import textual_serve
from aiohttp import web
from textual_serve.server import Server, to_int

WEB_DIR = Path(__file__).parent / "web"
STATIC_DIR = Path(textual_serve.__file__).parent / "static"  # textual.js, xterm.css, the fonts

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_wildcard(host: str) -> bool:
    return host.strip().strip("[]") in ("0.0.0.0", "::", "")


def _split_host(value: str) -> tuple[str, int | None]:
    """'example:8712' -> ('example', 8712); '[::1]:8712' -> ('::1', 8712); a bad port -> (…, -1)."""
    try:
        parts = urlsplit("//" + value)
        port = parts.port
    except ValueError:
        return value, -1
    return (parts.hostname or "").casefold(), port


def url_host(host: str) -> str:
    """A host as it is written in a URL (IPv6 literals in brackets)."""
    host = host.strip().strip("[]")
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_warning(host: str) -> str | None:
    """A warning to print when the server can be reached from other machines, else None."""
    if is_loopback(host):
        return None
    return (
        f"VARNING: Dialogstöd lyssnar på {host} och kan nås från andra datorer. Trafiken är okrypterad "
        "(http): den som kan avlyssna nätet kan läsa dialogerna och token. Använd 127.0.0.1 (standard) om "
        "du inte har skyddat nätet på annat sätt, och dela aldrig adressen med token."
    )


class DialogstodServer(Server):
    """textual-serve's Server with a token, Host and Origin checks, and Dialogstöd's own page."""

    def __init__(self, command: str, *, host: str, port: int, token: str | None = None) -> None:
        super().__init__(command, host=host, port=port, title="Dialogstöd", templates_path=WEB_DIR)
        self.token = token or secrets.token_urlsafe(32)
        self.cookie_name = f"dialogstod-{port}"
        self.allowed_hosts = self._allowed_hosts()

    # ------------------------------------------------------------ who may come in

    def _allowed_hosts(self) -> set[str] | None:
        """Host names a request may use (None: any IP literal or one of the machine's names)."""
        names = set(LOOPBACK_NAMES)
        if is_wildcard(self.host):
            return None
        if not is_loopback(self.host):
            names.add(self.host.strip().strip("[]").casefold())
        return names

    def host_ok(self, request: web.Request) -> bool:
        name, port = _split_host(request.host)
        if port != self.port and not (port is None and self.port == 80):
            return False
        if self.allowed_hosts is not None:
            return name in self.allowed_hosts
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            pass
        own = {"localhost", socket.gethostname().casefold(), socket.getfqdn().casefold()}
        return name in own

    @staticmethod
    def origin_ok(request: web.Request) -> bool:
        """The Origin (when there is one) is this page's own: same scheme, host and port."""
        origin = request.headers.get("Origin")
        if origin is None:
            return request.path != "/ws"  # a browser always sends Origin on a WebSocket
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and parts.netloc.casefold() == request.host.casefold()

    def _token_matches(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(value.encode(), self.token.encode())

    def authorized(self, request: web.Request) -> bool:
        if self._token_matches(request.cookies.get(self.cookie_name)):
            return True
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return scheme.casefold() == "token" and self._token_matches(value.strip())

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not self.host_ok(request):
            return web.Response(status=403, text="Fel värdnamn för Dialogstöd.\n")
        if not self.origin_ok(request):
            return web.Response(status=403, text="Anropet kommer från en annan webbplats och nekas.\n")
        if request.path.startswith("/static/"):
            response = await handler(request)  # the page's public assets (script, styles, fonts)
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response
        query_token = request.query.get("token")
        fresh_login = request.path == "/" and self._token_matches(query_token)
        if not fresh_login and not self.authorized(request):
            if request.path == "/":
                return self.login_page(request, wrong=query_token is not None)
            return web.Response(status=403, text="Öppna Dialogstöd med adressen som `dialogstod serve` skrev ut.\n")
        response = await handler(request)
        if fresh_login:
            response.set_cookie(self.cookie_name, self.token, httponly=True, samesite="Strict", path="/")
        return response

    # ------------------------------------------------------------ the pages

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(WEB_DIR)), autoescape=True)
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", STATIC_DIR, show_index=False, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    def _headers(self, response: web.StreamResponse, policy: str) -> None:
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        scheme = "wss" if request.secure else "ws"
        nonce = secrets.token_urlsafe(16)
        context = {
            "title": self.title,
            "static": "/static/",
            "websocket_url": f"{scheme}://{request.host}/ws",
            "font_size": max(8, min(to_int(request.query.get("fontsize", "16"), 16), 48)),
            "nonce": nonce,
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        self._headers(
            response,
            f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            f"font-src 'self'; img-src 'self' data:; connect-src 'self' {scheme}://{request.host}; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        return response

    def login_page(self, request: web.Request, *, wrong: bool) -> web.StreamResponse:
        response = aiohttp_jinja2.render_template("login.html", request, {"title": self.title, "wrong": wrong})
        response.set_status(403)
        self._headers(
            response, "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
        )
        return response

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints an English banner here; `dialogstod serve` prints its own."""

    # ------------------------------------------------------------ where to point the browser

    def urls(self) -> list[str]:
        """The addresses to open (with the token), best first."""
        hosts = [self.host]
        if is_wildcard(self.host):
            hosts = [socket.gethostname(), "127.0.0.1"]
        port = "" if self.port == 80 else f":{self.port}"
        return [f"http://{url_host(h)}{port}/?token={self.token}" for h in hosts]
