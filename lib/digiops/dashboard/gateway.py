"""The one door clients knock on: sign-in with an access code, then only their own run's dashboard.

Each client's dashboard is a Voila process on a loopback port with a token no one is shown
(:mod:`digiops.dashboard.serve`); this gateway is the only listener a client reaches. It

- asks for the access code on its own page (:mod:`digiops.dashboard.pages`) and answers a right one with a signed
  session cookie (HttpOnly, SameSite=Strict) naming the client and the code's generation: a rotated or expired code
  (:mod:`digiops.dashboard.access`) ends the session at its next request, open kernel connections included;
- forwards to that client's Voila only the paths the dashboard page uses (``ALLOWED``), adding Voila's token; any
  other path (``/api/contents``, ``/files``, ``/voila/files``, ``/voila/render``, ``/login`` …) is "not here", and
  Voila itself lets a kernel connection carry widget messages only, never code (its ``allowed_message_types``);
- caps the viewers per client (open kernel connections plus pages served in the last minute and not yet
  connected): one more gets a "busy, retry" page;
- shuts a viewer's kernel down a few seconds after its last connection closes (a closed tab that sent no
  ``beforeunload``), so memory stays bounded under repeated visits; Voila also culls idle kernels.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tornado import httpclient, web, websocket
from tornado.httputil import HTTPHeaders

from digiops.dashboard import access, pages

SESSION_COOKIE = "digiops_session"
KERNEL_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: (method, path) pairs the dashboard page needs; everything else is refused
ALLOWED = [
    ("GET", re.compile(r"^/$")),
    ("GET", re.compile(r"^/voila/static/[^?]+$")),
    ("GET", re.compile(r"^/voila/templates/[\w-]+/static/[^?]+$")),
    ("GET", re.compile(r"^/voila/labextensions/[^?]+$")),
    ("GET", re.compile(r"^/voila/api/themes/[^?]+$")),
    ("GET", re.compile(rf"^/api/kernels/{KERNEL_ID}$")),
    ("POST", re.compile(rf"^/voila/api/shutdown/{KERNEL_ID}$")),
]
#: how a served dashboard page names its kernel (Voila's page config)
PAGE_KERNEL = re.compile(rb'"kernelId":\s*"(' + KERNEL_ID.encode("ascii") + rb')"')
SOCKETS = rf"/(?:api/kernels/({KERNEL_ID})/channels|voila/query/({KERNEL_ID}))"
#: a page served counts as a viewer for this long before its kernel connection opens
PENDING_S = 60.0
#: a kernel whose last connection closed is shut down after this grace (a reconnect keeps it)
SHUTDOWN_GRACE_S = 3.0
BUSY_RETRY_S = 10
#: seconds a wrong code waits for its answer (guessing 60-bit codes one per second is hopeless anyway)
WRONG_CODE_DELAY_S = 1.0
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
               "proxy-authenticate", "content-length", "set-cookie", "host", "cookie", "authorization"}
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
OWN_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


@dataclass
class Viewers:
    """Who is looking at one client's dashboard: open kernel connections, and pages served whose kernel has not
    connected yet (keyed by that kernel's id once the page names it)."""

    cap: int
    connections: dict[str, int] = field(default_factory=dict)  # kernel id -> open sockets
    pending: dict[str, float] = field(default_factory=dict)  # ticket or kernel id -> monotonic time served

    def expire(self, now: float | None = None) -> list[str]:
        """Forget pages that never connected within ``PENDING_S``; returns their kernel ids (to shut down)."""
        now = time.monotonic() if now is None else now
        gone = [key for key, served in self.pending.items() if now - served > PENDING_S]
        for key in gone:
            del self.pending[key]
        return [key for key in gone if not key.startswith("ticket-")]

    def count(self, now: float | None = None) -> int:
        self.expire(now)
        return len(self.connections) + len(self.pending)

    def admit(self) -> str | None:
        """A ticket for one more page, or ``None`` at the cap."""
        if self.count() >= self.cap:
            return None
        ticket = f"ticket-{uuid.uuid4().hex}"
        self.pending[ticket] = time.monotonic()
        return ticket

    def served(self, ticket: str, kernel_id: str) -> None:
        """The page of ``ticket`` runs on ``kernel_id``."""
        self.pending[kernel_id] = self.pending.pop(ticket, time.monotonic())

    def connected(self, kernel_id: str) -> None:
        self.pending.pop(kernel_id, None)
        self.connections[kernel_id] = self.connections.get(kernel_id, 0) + 1

    def disconnected(self, kernel_id: str) -> bool:
        """Whether that was the kernel's last connection."""
        left = self.connections.get(kernel_id, 1) - 1
        if left > 0:
            self.connections[kernel_id] = left
            return False
        self.connections.pop(kernel_id, None)
        return True


@dataclass
class Tenant:
    """One client served by the gateway: its Voila (loopback URL + token) and where its access code is kept."""

    client_id: str
    names: tuple[str, str]
    access_folder: Path
    upstream_url: str  # http://127.0.0.1:PORT/
    upstream_token: str
    viewers: Viewers

    def grant_valid(self, generation: int) -> bool:
        grant = access.current(self.access_folder)
        return grant is not None and grant.generation == generation


class Gateway:
    """The routing table and the viewer book-keeping behind the handlers."""

    def __init__(self, tenants: list[Tenant], *, local: bool, cookie_secret: str):
        self.tenants = {tenant.client_id: tenant for tenant in tenants}
        self.local = local
        self.cookie_secret = cookie_secret
        self.sockets: set[SocketProxy] = set()
        self.http = httpclient.AsyncHTTPClient(force_instance=True, max_clients=200)

    def application(self) -> web.Application:
        routes = [(r"/sign-in", SignIn), (r"/sign-out", SignOut), (SOCKETS, SocketProxy), (r"/.*", Forward)]
        return web.Application([(path, handler, {"gateway": self}) for path, handler in routes],
                               cookie_secret=self.cookie_secret, xsrf_cookies=False, compress_response=False,
                               websocket_ping_interval=30)

    def sign_in(self, code: str) -> tuple[Tenant, access.Grant] | None:
        for tenant in self.tenants.values():
            grant = access.check(tenant.access_folder, code)
            if grant is not None:
                return tenant, grant
        return None

    def shown_names(self) -> list[str]:
        """Client names on the sign-in page: only when a single client is served (else the page says nothing of who
        else is served here)."""
        if len(self.tenants) != 1:
            return []
        zh, en = next(iter(self.tenants.values())).names
        return [zh] if zh == en or not en else [f"{zh} / {en}"]

    async def shut_kernel_later(self, tenant: Tenant, kernel_id: str) -> None:
        await asyncio.sleep(SHUTDOWN_GRACE_S)
        if kernel_id in tenant.viewers.connections:
            return  # reconnected
        try:
            await self.http.fetch(f"{tenant.upstream_url}voila/api/shutdown/{kernel_id}", method="POST", body=b"",
                                  headers={"Authorization": f"token {tenant.upstream_token}"}, raise_error=False,
                                  request_timeout=30)
        except (OSError, httpclient.HTTPClientError):
            pass  # Voila is stopping

    def sweep(self) -> None:
        """Every few seconds: shut the kernels of pages that never connected, close kernel connections whose code
        was rotated or has expired."""
        for tenant in self.tenants.values():
            for kernel_id in tenant.viewers.expire():
                asyncio.ensure_future(self.shut_kernel_later(tenant, kernel_id))
        for socket in list(self.sockets):
            if not socket.tenant.grant_valid(socket.generation):
                socket.close(4001, "access code expired or replaced")

    def close(self) -> None:
        for socket in list(self.sockets):
            socket.close(1001, "dashboard stopping")
        self.http.close()


class _Handler(web.RequestHandler):
    """What every gateway answer shares: the host check, security headers and the session."""

    def initialize(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def set_default_headers(self) -> None:
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "DENY")

    def prepare(self) -> None:
        if not host_allowed(self, self.gateway):
            raise web.HTTPError(403)

    def session(self) -> tuple[Tenant, int] | None:
        return read_session(self, self.gateway)

    def had_session(self) -> bool:
        return bool(self.get_cookie(SESSION_COOKIE))

    def start_session(self, tenant: Tenant, grant: access.Grant) -> None:
        self.set_signed_cookie(SESSION_COOKIE, json.dumps({"client": tenant.client_id,
                                                           "generation": grant.generation}),
                               expires_days=None, httponly=True, samesite="Strict",
                               secure=self.request.protocol == "https")

    async def refuse_code(self) -> None:
        """A wrong, rotated or expired code: the sign-in page again, after a pause that makes guessing slow."""
        await asyncio.sleep(WRONG_CODE_DELAY_S)
        self.own_page(pages.sign_in_page(self.gateway.shown_names(), "wrong"), 403)

    def own_page(self, html: str, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", OWN_PAGE_POLICY)
        self.set_header("Cache-Control", "no-store")
        self.finish(html)

    def write_error(self, status_code: int, **_kwargs: object) -> None:
        # never Tornado's traceback page or Jupyter's: one of ours
        self.own_page(pages.not_here_page(), status_code)


def read_session(handler: web.RequestHandler, gateway: Gateway) -> tuple[Tenant, int] | None:
    """The client and code generation of a request's session cookie, while that code is current."""
    raw = handler.get_signed_cookie(SESSION_COOKIE, max_age_days=31)
    if not raw:
        return None
    try:
        value = json.loads(raw)
        tenant = gateway.tenants[value["client"]]
        generation = int(value["generation"])
    except (ValueError, KeyError, TypeError):
        return None
    return (tenant, generation) if tenant.grant_valid(generation) else None


def host_allowed(handler: web.RequestHandler, gateway: Gateway) -> bool:
    """On a loopback address only a page of this site may call it (DNS rebinding: another site's name pointed at
    127.0.0.1 sends its own Host header)."""
    return not gateway.local or _host_name(handler.request.host) in LOCAL_NAMES


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _safe_next(path: str) -> str:
    """Where to go after signing in: a path of this site only."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


class SignIn(_Handler):
    def get(self) -> None:
        problem = self.get_query_argument("problem", None)
        self.own_page(pages.sign_in_page(self.gateway.shown_names(), problem, _safe_next(self.get_query_argument(
            "next", "/"))))

    async def post(self) -> None:
        found = self.gateway.sign_in(self.get_body_argument("code", ""))
        if found is None:
            await self.refuse_code()
            return
        self.start_session(*found)
        self.redirect(_safe_next(self.get_body_argument("next", "/")))


class SignOut(_Handler):
    def get(self) -> None:
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/sign-in")


class Forward(_Handler):
    """Every HTTP path: the dashboard's own ones go to the signed-in client's Voila, the rest are not here."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    async def forward(self) -> None:
        code = self.get_query_argument("code", None)
        if code is not None and self.request.method == "GET":
            await self.sign_in_from_link(code)
            return
        session = self.session()
        method = "GET" if self.request.method == "HEAD" else self.request.method
        allowed = any(method == m and pattern.match(self.request.path) for m, pattern in ALLOWED)
        if session is None:
            if self.request.path == "/" and method == "GET":
                self.redirect("/sign-in" + ("?problem=ended" if self.had_session() else ""))
            elif allowed:
                raise web.HTTPError(403)
            else:
                raise web.HTTPError(404)
            return
        if not allowed:
            raise web.HTTPError(404)
        tenant, _generation = session
        ticket = None
        if self.request.path == "/" and self.request.method == "GET":  # a page a viewer will look at
            ticket = tenant.viewers.admit()
            if ticket is None:
                self.set_header("Retry-After", str(BUSY_RETRY_S))
                self.own_page(pages.busy_page(BUSY_RETRY_S), 503)
                return
        await self.pass_on(tenant, ticket)

    get = head = post = put = patch = delete = options = forward  # every method: the allow-list decides

    async def sign_in_from_link(self, code: str) -> None:
        """``/?code=…`` (the link a consultant sends): sign in, then the same address without the code."""
        query = [(k, v) for k, v in urllib.parse.parse_qsl(self.request.query, keep_blank_values=True) if k != "code"]
        target = self.request.path + ("?" + urllib.parse.urlencode(query) if query else "")
        found = self.gateway.sign_in(code)
        if found is None:
            await self.refuse_code()
            return
        self.start_session(*found)
        self.redirect(_safe_next(target))

    async def pass_on(self, tenant: Tenant, ticket: str | None = None) -> None:
        """Forward the request to the client's Voila and stream its answer back; a dashboard page (``ticket``) is
        booked under the kernel id it names."""
        headers = {k: v for k, v in self.request.headers.get_all() if k.lower() not in HOP_HEADERS}
        headers["Authorization"] = f"token {tenant.upstream_token}"
        started = False

        def on_header(line: str) -> None:
            nonlocal started
            if line.startswith("HTTP/"):
                self._status_line = line
                self._upstream_headers = HTTPHeaders()
            elif line.strip():
                self._upstream_headers.parse_line(line)
            elif not started:
                started = True
                self.set_status(int(self._status_line.split(" ", 2)[1]))
                self.clear_header("Content-Type")  # Tornado's default (text/html) is not the upstream's
                for name, value in self._upstream_headers.get_all():
                    if name.lower() not in HOP_HEADERS:
                        self.add_header(name, value)

        tail = b""

        def on_chunk(chunk: bytes) -> None:
            nonlocal ticket, tail
            if ticket is not None:  # the kernel id may straddle two chunks
                found = PAGE_KERNEL.search(tail + chunk)
                tail = chunk[-120:]
                if found:
                    tenant.viewers.served(ticket, found.group(1).decode("ascii"))
                    ticket = None
            self.write(chunk)
            self.flush()

        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        request = httpclient.HTTPRequest(
            tenant.upstream_url + self.request.uri.lstrip("/"), method=self.request.method, headers=headers,
            body=body, allow_nonstandard_methods=True, follow_redirects=False, decompress_response=False,
            request_timeout=300, header_callback=on_header, streaming_callback=on_chunk)
        try:
            await self.gateway.http.fetch(request, raise_error=False)
        except (OSError, httpclient.HTTPClientError):
            if not started:
                raise web.HTTPError(502)
        if not self._finished:
            self.finish()


class SocketProxy(websocket.WebSocketHandler):
    """A kernel connection (``/api/kernels/<id>/channels``) or Voila's request-info socket, passed on both ways."""

    def initialize(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.upstream: websocket.WebSocketClientConnection | None = None
        self.kernel_id = ""
        self.counted = False

    async def get(self, channels_kernel: str | None, query_kernel: str | None) -> None:
        session = read_session(self, self.gateway) if host_allowed(self, self.gateway) else None
        if session is None:
            self.set_status(403)
            self.finish()
            return
        self.tenant, self.generation = session
        self.kernel_id = channels_kernel or ""
        url = "ws" + self.tenant.upstream_url[4:] + self.request.uri.lstrip("/")
        asked = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        try:
            self.upstream = await websocket.websocket_connect(
                httpclient.HTTPRequest(url, headers={"Authorization": f"token {self.tenant.upstream_token}"},
                                       request_timeout=60),
                subprotocols=asked or None, max_message_size=100 * 1024 * 1024)
        except (OSError, httpclient.HTTPClientError, websocket.WebSocketError):
            self.set_status(404)  # no such kernel for this client
            self.finish()
            return
        await super().get(channels_kernel, query_kernel)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return self.upstream.selected_subprotocol if self.upstream is not None else None

    def open(self, *_args: str) -> None:
        self.gateway.sockets.add(self)
        if self.kernel_id:
            self.tenant.viewers.connected(self.kernel_id)
            self.counted = True
        asyncio.ensure_future(self._from_upstream())

    async def _from_upstream(self) -> None:
        while self.upstream is not None:
            message = await self.upstream.read_message()
            if message is None:
                self.close()
                return
            try:
                await self.write_message(message, binary=isinstance(message, bytes))
            except websocket.WebSocketClosedError:
                return

    async def on_message(self, message: str | bytes) -> None:
        if self.upstream is None:
            return
        try:
            await self.upstream.write_message(message, binary=isinstance(message, bytes))
        except websocket.WebSocketClosedError:
            self.close()

    def on_close(self) -> None:
        self.gateway.sockets.discard(self)
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None
        if self.counted and self.tenant.viewers.disconnected(self.kernel_id):
            asyncio.ensure_future(self.gateway.shut_kernel_later(self.tenant, self.kernel_id))
        self.counted = False
