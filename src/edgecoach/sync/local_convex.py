"""A local stand-in for the Convex deployment: the same HTTP contract, on 127.0.0.1.

It implements the device's functions as convex/functions/edgecoach.ts does
(edgecoach.sync.local_cloud: `ingestBatch` with the deployment's item rules,
`deviceState`, `acknowledgeDeletion`; bearer token checked), so the outbox benchmark,
demos and tests exercise the real client against a real socket. Tests also use its
fault injection: each request takes the next queued `Fault`, if any.

It runs stdlib `http.server` in a thread, so it works from sync and async code alike.
"""

import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from edgecoach.sync.convex import MUTATION_ENDPOINT, QUERY_ENDPOINT
from edgecoach.sync.local_cloud import DeviceForbidden, LocalCloud
from edgecoach.sync.upstream import ACKNOWLEDGE_PATH, DEVICE_STATE_PATH, INGEST_PATH

# The functions the device may call, by endpoint: (cloud, args) -> value.
Function = Callable[[LocalCloud, dict[str, Any]], Any]
FUNCTIONS: dict[str, dict[str, Function]] = {
    MUTATION_ENDPOINT: {
        INGEST_PATH: lambda cloud, args: cloud.ingest(args["items"]),
        ACKNOWLEDGE_PATH: lambda cloud, args: cloud.acknowledge_deletion(args.get("userId")),
    },
    QUERY_ENDPOINT: {
        DEVICE_STATE_PATH: lambda cloud, args: cloud.device_state(
            args.get("userId"), args.get("since")),
    },
}


class FaultKind(StrEnum):
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    RATE_LIMITED = "rate_limited"  # 429 with Retry-After
    HANG = "hang"  # no reply until the client times out
    RESET = "reset"  # the connection is dropped (RST) without a reply
    MALFORMED = "malformed"  # HTTP 200 with a body that is not JSON
    ERROR_STATUS = "error_status"  # {"status": "error"}, as when the function throws


@dataclass(frozen=True)
class Fault:
    """One failure for one request. `after_store`: take the batch in, then fail (a lost
    reply, so the client must retry and the server sees duplicates)."""

    kind: FaultKind
    retry_after: str | None = "1"
    after_store: bool = False
    hang_seconds: float = 30.0
    message: str = "Uncaught Error: boom"  # the errorMessage of ERROR_STATUS


@dataclass(frozen=True)
class Request:
    """What the server saw of one request (status None: no reply was sent)."""

    path: str | None
    status: int | None
    fault: FaultKind | None
    item_ids: list[str]
    authorization_ok: bool
    at: float = field(default_factory=time.monotonic)


class LocalConvex:
    """A Convex-like HTTP server on 127.0.0.1; `with LocalConvex() as server: server.url`."""

    def __init__(self, token: str | None = "local-token", port: int = 0) -> None:
        self.token = token
        self.port = port
        self.cloud = LocalCloud()
        self.requests: list[Request] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        """Each delivered item once, by UUID."""
        return self.cloud.items

    @property
    def deliveries(self) -> Counter[str]:
        return self.cloud.deliveries

    @property
    def reject_ids(self) -> set[str]:
        """Items the deployment refuses one by one (tests add ids here)."""
        return self.cloud.reject_ids

    @property
    def duplicates(self) -> int:
        """Deliveries beyond the first of each UUID (harmless: stored once)."""
        with self.cloud.lock:
            return sum(count - 1 for count in self.deliveries.values())

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each following request takes the next one."""
        with self._lock:
            self._faults.extend(faults)

    def start(self) -> "LocalConvex":
        """Listen (again on the same port after `stop()`, to simulate a network back)."""
        self._closing.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.convex = self  # type: ignore[attr-defined]
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="local-convex",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()` (the device is offline)."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "LocalConvex":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for_items(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` distinct items arrived (for tests of background loops)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cloud.lock:
                if len(self.items) >= count:
                    return True
            time.sleep(0.01)
        return False

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _log(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `LocalConvex.requests` instead."""

    def do_POST(self) -> None:
        convex: LocalConvex = self.server.convex  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        expected = f"Bearer {convex.token}" if convex.token else None
        auth_ok = expected is None or self.headers.get("Authorization") == expected
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        path = body.get("path") if isinstance(body, dict) else None
        args = body.get("args") if isinstance(body, dict) else None
        items = args.get("items") if isinstance(args, dict) else None
        ids = [str(item.get("id")) for item in items or [] if isinstance(item, dict)]

        def log(status: int | None, fault: FaultKind | None = None) -> None:
            convex._log(Request(path, status, fault, ids, auth_ok))

        functions = FUNCTIONS.get(self.path)
        if functions is None:
            log(404)
            return self._reply(404, {"status": "error", "errorMessage": "not found"})
        if not auth_ok:
            log(401)
            return self._reply(401, {"status": "error", "errorMessage": "Unauthenticated"})
        fault = convex._next_fault()
        function = functions.get(path) if isinstance(path, str) else None
        if function is None:
            log(400)
            message = f"Could not find public function for {path!r}"
            return self._reply(400, {"status": "error", "errorMessage": message})
        valid = (isinstance(args, dict) and isinstance(body, dict) and body.get("format") == "json"
                 and (path != INGEST_PATH or isinstance(items, list)))
        if not valid:
            log(400)
            return self._reply(400, {"status": "error", "errorMessage": "ArgumentValidationError"})
        value: Any = None
        if fault is None or fault.after_store:
            try:
                value = function(convex.cloud, args)  # type: ignore[arg-type]
            except DeviceForbidden as error:
                log(403)
                return self._reply(403, {"status": "error", "errorMessage": str(error)})
            except ValueError as error:
                log(560)
                return self._reply(560, {"status": "error", "errorMessage": str(error)})
        if fault is not None:
            log(self._fail(fault, convex), fault.kind)
        else:
            log(200)
            self._reply(200, {"status": "success", "value": value})

    def _fail(self, fault: Fault, convex: LocalConvex) -> int | None:
        """Answer with the fault; returns the status sent (None: no reply)."""
        match fault.kind:
            case FaultKind.HTTP_500 | FaultKind.HTTP_502:
                status = 500 if fault.kind is FaultKind.HTTP_500 else 502
                self._reply(status, b"<html>server error</html>", "text/html")
                return status
            case FaultKind.RATE_LIMITED:
                self._reply(429, {"status": "error", "errorMessage": "rate limited"},
                            retry_after=fault.retry_after)
                return 429
            case FaultKind.MALFORMED:
                self._reply(200, b'{"status": "success", "value": {"accep', "application/json")
                return 200
            case FaultKind.ERROR_STATUS:
                self._reply(560, {"status": "error", "errorMessage": fault.message})
                return 560
            case FaultKind.HANG:
                convex._closing.wait(fault.hang_seconds)
                self._drop()
                return None
            case FaultKind.RESET:
                self._drop()
                return None

    def _drop(self) -> None:
        """Close the connection with a TCP reset and no reply."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.wfile.close()
        self.connection.close()

    def _reply(self, status: int, body: dict | bytes, content_type: str = "application/json",
               retry_after: str | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(data)
