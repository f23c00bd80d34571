"""The HTTP server: a ThreadingHTTPServer whose handler applies each face's mode before the
face answers.

Modes need raw control of the connection, which is why this is `http.server` and not a
framework: *slow* waits `slow_s` and then answers; *failing* answers 503; *timeout* reads the
request and holds the connection without a byte of answer for `timeout_hold_s`, then drops
it; *down* reads the request and closes the connection at once (the client sees the server
disconnect without a response). The control API and page under /_control/ never obey modes.
"""

from __future__ import annotations

import logging
import socketserver
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from clearinghouse.sandbox import control
from clearinghouse.sandbox.engine import Engine
from clearinghouse.sandbox.faces import build_faces
from clearinghouse.sandbox.store import VENDORS, Store
from clearinghouse.sandbox.web import Request, Response, json_response

logger = logging.getLogger("clearinghouse.sandbox")

MAX_BODY = 20 * 1024 * 1024


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # held (timeout mode) connections must not delay a stop
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store):
        self.store = store
        self.engine = Engine(store)
        self.faces = build_faces(self.engine)
        self.stopping = threading.Event()  # wakes held and slow requests on stop
        super().__init__(address, SandboxHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's full name; a sandbox need not.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK (40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer
    server_version = "SandboxClearinghouse/1.0"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except ValueError as error:
            self._send(json_response(400, {"message": str(error)}))
            self.close_connection = True
            return
        split = urlsplit(self.path)
        _, _, rest = split.path.partition("/")
        prefix, slash, below = rest.partition("/")
        request = Request(
            method=self.command,
            path=slash + below,
            query={k: v[0] for k, v in parse_qs(split.query).items()},
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            client_host=str(self.client_address[0]),
        )
        response: Response | None
        try:
            if prefix == "_control":
                response = control.handle(self.server.store, request, request.path.rstrip("/"))
            elif prefix in VENDORS:
                response = self._vendor(prefix, request)
                if response is None:  # timeout or down: no answer at all
                    self.close_connection = True
                    return
            elif split.path in ("", "/"):
                response = Response(302, b"", "text/plain", {"Location": "/_control/"})
            else:
                faces = ", ".join(f"/{v}" for v in VENDORS)
                response = json_response(
                    404, {"message": f"no such face; the faces are {faces}, control at /_control/"}
                )
        except Exception:
            logger.error(
                "sandbox error on %s %s\n%s", self.command, split.path, traceback.format_exc()
            )
            response = json_response(500, {"message": "the sandbox failed on this request"})
        if response is not None:
            self._send(response)

    def _vendor(self, vendor: str, request: Request) -> Response | None:
        mode = self.server.store.mode(vendor)
        name = mode["mode"]
        if name == "down":
            logger.info("%s %s/%s -> dropped (down)", request.method, vendor, request.path)
            return None
        if name == "timeout":
            logger.info("%s %s/%s -> held (timeout)", request.method, vendor, request.path)
            self.server.stopping.wait(float(mode["timeout_hold_s"]))
            return None
        if name == "failing":
            return json_response(
                503, {"message": f"{vendor} is unavailable (sandbox failing mode)"}
            )
        if name == "slow":
            self.server.stopping.wait(float(mode["slow_s"]))
        return self.server.faces[vendor].dispatch(request)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("the body is too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("the body is too large")
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    # Request lines carry paths only; bodies and headers (credentials, PHI) are never logged.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.info("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_error(self, format: str, *args) -> None:
        logger.warning("sandbox: " + format, *args)


class SandboxClearinghouse:
    """One sandbox on a data directory: `start()` serves it in a thread (tests), or
    `serve_forever()` in the calling thread (the management command)."""

    def __init__(self, data_dir: Path | str, *, host: str = "127.0.0.1", port: int = 0):
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.httpd: SandboxHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> SandboxHTTPServer:
        store = Store(self.data_dir)
        try:
            self.httpd = SandboxHTTPServer((self.host, self.port), store)
        except OSError:
            store.close()
            raise
        self.port = self.httpd.server_port
        return self.httpd

    def start(self) -> SandboxClearinghouse:
        httpd = self.bind()
        self.thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        httpd = self.httpd or self.bind()
        try:
            httpd.serve_forever()
        finally:
            httpd.stopping.set()
            httpd.server_close()
            httpd.store.close()

    def stop(self) -> None:
        httpd = self.httpd
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        httpd.store.close()
        self.httpd = self.thread = None


def describe(sandbox: SandboxClearinghouse) -> str:
    faces = "\n".join(f"  {sandbox.url}/{vendor}" for vendor in VENDORS)
    return (
        f"Sandbox clearinghouse on {sandbox.url}/ (data in {sandbox.data_dir})\n"
        f"Vendor faces (a config's base_url):\n{faces}\n"
        f"Control page: {sandbox.url}/_control/"
    )
