"""A local FRED: ``http.server`` on 127.0.0.1 serving recorded observations.

It answers fredapi's ``/fred/series/observations`` in FRED's XML (filtered to
``observation_start``/``observation_end``) and the keyless ``/graph/fredgraph.csv``, and
FRED's errors: HTTP 400 with FRED's error XML for an unregistered key or a series that
does not exist, 404 for an unknown series on the CSV path. ``server.throttle = n`` makes
the next ``n`` API requests answer HTTP 429 with ``Retry-After: 7`` and a
plain-text body, as a proxy in front of FRED does. ``stalled_fred`` is a FRED that accepts
connections and never answers.
"""

from __future__ import annotations

import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fred"
VALID_KEY = "abcdef0123456789abcdef0123456789"
BAD_KEY_XML = (
    '<?xml version="1.0" encoding="utf-8" ?>\n<error code="400" message="Bad Request.  The '
    "value for variable api_key is not registered.  Read https://fred.stlouisfed.org/docs/"
    'api/api_key.html for more information."/>\n'
)
NO_SERIES_XML = (
    '<?xml version="1.0" encoding="utf-8" ?>\n'
    '<error code="400" message="Bad Request.  The series does not exist."/>\n'
)


def observations(series: str, start: str | None, end: str | None) -> ET.Element:
    root = ET.fromstring((FIXTURES / f"{series}.xml").read_text())
    for child in list(root):
        day = child.get("date")
        if (start and day < start) or (end and day > end):
            root.remove(child)
    return root


class FredHandler(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append(self.path)
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/fred/series/observations" and self.server.throttle > 0:
            self.server.throttle -= 1
            self._send(429, "text/plain", "Too Many Requests", {"Retry-After": "7"})
        elif url.path == "/fred/series/observations":
            self._api(query)
        elif url.path == "/graph/fredgraph.csv":
            self._csv(query)
        else:
            self._send(404, "text/plain", "not recorded")

    def _api(self, query: dict) -> None:
        if query.get("api_key") != VALID_KEY:
            return self._send(400, "text/xml", BAD_KEY_XML)
        series = query.get("series_id", "")
        if not (FIXTURES / f"{series}.xml").exists():
            return self._send(400, "text/xml", NO_SERIES_XML)
        root = observations(series, query.get("observation_start"), query.get("observation_end"))
        self._send(200, "text/xml", ET.tostring(root, encoding="unicode"))

    def _csv(self, query: dict) -> None:
        series = query.get("id", "")
        if not (FIXTURES / f"{series}.xml").exists():
            return self._send(404, "text/html", "<html>Series not found</html>")
        root = observations(series, query.get("cosd"), query.get("coed"))
        rows = [f"observation_date,{series}"] + [
            f"{o.get('date')},{'' if o.get('value') == '.' else o.get('value')}" for o in root
        ]
        self._send(200, "text/csv", "\n".join(rows) + "\n")

    def _send(self, status: int, content_type: str, body: str, headers=None) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


@contextmanager
def local_fred() -> Iterator[ThreadingHTTPServer]:
    """A running local FRED; ``server.root`` is its base URL, ``server.seen`` its requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FredHandler)
    server.seen = []
    server.throttle = 0
    server.root = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def stalled_fred() -> Iterator[str]:
    """The base URL of a port that accepts connections and never answers: every read
    waits until the client's timeout, or for ever without one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
