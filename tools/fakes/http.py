"""A threaded HTTP server on 127.0.0.1 with injectable faults, the base of the venue fakes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    """What the next `times` matching requests get instead of a normal answer.

    kind: "status" (answer `status` with `body`, and Retry-After when `retry_after` is set),
    "hang" (sleep `seconds`, then answer normally), "hang_after" (answer normally after
    sleeping: the work is done, the reply is late), "malformed" (a 200 that is not JSON).
    """

    kind: str
    path: str = ""
    method: str | None = None
    times: int = 1
    status: int = 500
    body: Any = None
    retry_after: float | None = None
    seconds: float = 0.0
    # Only requests with these query parameters (one value each): a fault meant for one
    # order's lookup, not another's that a trigger makes meanwhile.
    query: dict[str, str] | None = None

    def matches(self, request: Request) -> bool:
        if not request.path.startswith(self.path) or self.method not in (None, request.method):
            return False
        wanted = self.query or {}
        return all(request.query.get(name) == [value] for name, value in wanted.items())


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


Route = Callable[[Request], tuple[int, Any]]


@dataclass(frozen=True)
class Raw:
    """A body sent as it is, with its own content type (an SSE stream, say)."""

    payload: bytes
    content_type: str


@dataclass
class FakeServer:
    routes: list[tuple[str, str, Route]] = field(default_factory=list)
    latency_s: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def start(self) -> FakeServer:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, prefix: str, handler: Route) -> None:
        self.routes.append((method, prefix, handler))

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def requests_to(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _answer(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        self.requests.append(request)
        if self.latency_s:
            time.sleep(self.latency_s)
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "status":
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return fault.status, fault.body or {"message": f"injected {fault.status}"}, headers
        if fault is not None and fault.kind == "malformed":
            return 200, b"{this is not json", {}
        if fault is not None and fault.kind == "hang":
            time.sleep(fault.seconds)
        for method, prefix, handler in self.routes:
            if method == request.method and request.path.startswith(prefix):
                status, body = handler(request)
                if fault is not None and fault.kind == "hang_after":
                    time.sleep(fault.seconds)
                return status, body, {}
        return 404, {"message": f"no route for {request.method} {request.path}"}, {}


def _handler_for(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body in one segment, sent at once: otherwise Nagle and delayed ACKs
        # add ~40 ms to every reply and the injected latency means nothing.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers=dict(self.headers),
                body=json.loads(raw) if raw else None,
            )
            status, body, headers = server._answer(request)
            content_type = body.content_type if isinstance(body, Raw) else "application/json"
            if isinstance(body, Raw):
                body = body.payload
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that is the point of a hang

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
