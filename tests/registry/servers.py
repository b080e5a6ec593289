"""Local fake register servers: real HTTP on 127.0.0.1, answering the documented shapes.

A FakeRegister serves routes by exact path. A route answers with a list of replies taken in
order (the last one repeats) or with a function of the request. A route may demand an Accept
header, as Enhetsregisteret's versioned API does: any other Accept gets 406. Every request is
recorded, so tests can count what reached the server.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""

    def form(self) -> dict[str, str]:
        """A POSTed application/x-www-form-urlencoded body, one value per name."""
        return {name: values[0] for name, values in parse_qs(self.body.decode()).items()}

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int = 200
    # dict/list → JSON; str/bytes → sent as is; None → empty body.
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"
    # Hold the answer until the server stops (a register that does not answer in time).
    stall: bool = False
    # Send only this many bytes of the body, with the full Content-Length, then hang up.
    truncate_to: int | None = None
    # Answer only after this many seconds (a register that answers slowly).
    delay: float = 0.0

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Responder = Callable[[Request], Reply]


@dataclass
class _Route:
    replies: list[Reply] | None
    responder: Responder | None
    accept: str | None


class FakeRegister:
    """One register's HTTP API on a free port of 127.0.0.1."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.routes: dict[str, _Route] = {}
        self.requests: list[Request] = []
        # The paths whose answers were sent (after any delay): what a client may have read.
        self.answered: list[str] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for the serving loop to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The base URL the adapter is configured with (origin + prefix)."""
        return self.origin + self.prefix

    def add(
        self,
        path: str,
        *replies: Reply,
        responder: Responder | None = None,
        accept: str | None = None,
        absolute: bool = False,
    ) -> None:
        full = path if absolute else self.prefix + path
        self.routes[full] = _Route(list(replies) or None, responder, accept)

    def hits(self, path: str, *, absolute: bool = False) -> list[Request]:
        full = path if absolute else self.prefix + path
        with self._lock:
            return [r for r in self.requests if r.path == full]

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            route = self.routes.get(request.path)
            if route is None:
                return Reply(404, {"error": "Not Found", "path": request.path})
            if route.accept is not None and request.headers.get("accept") != route.accept:
                return Reply(406, {"error": "Not Acceptable"})
            if route.responder is not None:
                responder = route.responder
            else:
                assert route.replies
                reply = route.replies.pop(0) if len(route.replies) > 1 else route.replies[0]
                return reply
        return responder(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(self.rfile.read(length))

            def _serve(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    method=self.command,
                    body=body,
                )
                reply = fake._answer(request)
                if reply.stall:
                    fake._release.wait(timeout=30)
                elif reply.delay:
                    fake._release.wait(timeout=reply.delay)
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.truncate_to is not None:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    if reply.truncate_to is not None:
                        payload = payload[: reply.truncate_to]
                    self.wfile.write(payload)
                    self.wfile.flush()
                    with fake._lock:
                        fake.answered.append(request.path)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def closed_port_url() -> str:
    """An address where nothing listens (a register that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- Identifiers and documented response shapes (REGISTERS.md) ------------------------------


def orgnr(seed: int) -> str:
    """A valid organisation number, different for each seed."""
    from registry.identifiers import orgnr_with_check_digit

    base = 91_000_000 + seed * 17
    while True:
        number = orgnr_with_check_digit(f"{base:08d}")
        if number:
            return number
        base += 1


def national_id(birth: str, *, d_number: bool = False, seed: int = 0) -> str:
    """A valid fødselsnummer (or D-number) born on birth (DDMMYY), different per seed."""
    from registry.identifiers import national_id_with_check_digits

    day = int(birth[:2]) + (40 if d_number else 0)
    individual = 100 + seed * 7
    while True:
        number = national_id_with_check_digits(f"{day:02d}{birth[2:]}{individual:03d}")
        if number:
            return number
        individual += 1


ACCEPT_ENHET = "application/vnd.brreg.enhetsregisteret.enhet.v2+json;charset=UTF-8"
ACCEPT_UNDERENHET = "application/vnd.brreg.enhetsregisteret.underenhet.v2+json;charset=UTF-8"
ACCEPT_ROLLE = "application/vnd.brreg.enhetsregisteret.rolle.v1+json;charset=UTF-8"
# The bulk files' (registry.clients.brreg.BULK_FILES).
ACCEPT_ENHET_GZIP = "application/vnd.brreg.enhetsregisteret.enhet.v2+gzip;charset=UTF-8"
ACCEPT_UNDERENHET_GZIP = "application/vnd.brreg.enhetsregisteret.underenhet.v2+gzip;charset=UTF-8"


def enhet(number: str, name: str = "BYGG OG RENHOLD AS", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisasjonsnummer": number,
        "navn": name,
        "organisasjonsform": {"kode": "AS", "beskrivelse": "Aksjeselskap"},
        "registreringsdatoEnhetsregisteret": "2015-03-02",
        "registrertIMvaregisteret": True,
        "naeringskode1": {"kode": "41.200", "beskrivelse": "Oppføring av bygninger"},
        "antallAnsatte": 12,
        "forretningsadresse": {
            "adresse": ["Storgata 1", "2. etasje"],
            "postnummer": "0155",
            "poststed": "OSLO",
            "kommunenummer": "0301",
            "landkode": "NO",
        },
        "konkurs": False,
        "underAvvikling": False,
        "underTvangsavviklingEllerTvangsopplosning": False,
    }
    body.update(changes)
    return body


def underenhet(
    number: str, parent: str, name: str = "BYGG OG RENHOLD AS AVD BERGEN", **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisasjonsnummer": number,
        "navn": name,
        "organisasjonsform": {"kode": "BEDR", "beskrivelse": "Underenhet til næringsdrivende"},
        "registreringsdatoEnhetsregisteret": "2016-05-10",
        "registrertIMvaregisteret": False,
        "naeringskode1": {"kode": "41.200", "beskrivelse": "Oppføring av bygninger"},
        "antallAnsatte": 4,
        "overordnetEnhet": parent,
        "oppstartsdato": "2016-05-01",
        "beliggenhetsadresse": {
            "adresse": ["Bryggen 3"],
            "postnummer": "5003",
            "poststed": "BERGEN",
            "kommunenummer": "4601",
            "landkode": "NO",
        },
    }
    body.update(changes)
    return body


def rolle(
    code: str,
    *,
    fnr: str | None = None,
    fratraadt: bool = False,
    avregistrert: bool = False,
    enhet_orgnr: str | None = None,
) -> dict[str, Any]:
    role: dict[str, Any] = {
        "type": {"kode": code, "beskrivelse": code},
        "fratraadt": fratraadt,
        "avregistrert": avregistrert,
    }
    if enhet_orgnr:
        role["enhet"] = {
            "organisasjonsnummer": enhet_orgnr,
            "navn": ["REVISJON AS"],
            "erSlettet": False,
        }
    else:
        person: dict[str, Any] = {
            "fodselsdato": "1981-01-01",
            "navn": {"fornavn": "Ove", "mellomnavn": None, "etternavn": "Olsen"},
            "erDoed": False,
        }
        if fnr:
            person["fodselsnummer"] = fnr
        role["person"] = person
    return role


def roller(*groups: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {"rollegrupper": [{"type": {"kode": kode}, "roller": roles} for kode, roles in groups]}


def freg_person(
    number: str,
    *,
    first: str = "Kari",
    last: str = "Nordmann",
    birth: str = "1990-06-15",
    status: str = "iBruk",
    d_number: bool = False,
    opphold: list[dict[str, Any]] | None = None,
    statsborgerskap: list[str] | None = None,
    **extra_id_fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identifikasjonsnummer": [
            {
                "foedselsEllerDNummer": number,
                "identifikatortype": "dNummer" if d_number else "foedselsnummer",
                "status": status,
                "erGjeldende": status == "iBruk",
                **extra_id_fields,
            }
        ],
        "navn": [{"fornavn": first, "mellomnavn": None, "etternavn": last, "erGjeldende": True}],
        "foedsel": [{"foedselsdato": birth, "erGjeldende": True}],
    }
    if opphold is not None:
        body["opphold"] = opphold
    if statsborgerskap is not None:
        body["statsborgerskap"] = [{"land": land, "erGjeldende": True} for land in statsborgerskap]
    return body


def bulk_file(units: list[dict[str, Any]]) -> bytes:
    """Enhetsregisteret's bulk file: one gzip'd JSON array of units."""
    return gzip.compress(json.dumps(units).encode())


def gzip_reply(units: list[dict[str, Any]], **options: Any) -> Reply:
    return Reply(200, bulk_file(units), content_type="application/octet-stream", **options)


def change_feed_page(
    updates: list[tuple[int, str, str]], *, list_key: str, size: int
) -> dict[str, Any]:
    """A page of Enhetsregisteret's change feed: updates are (oppdateringsid, orgnr,
    endringstype), already those from the asked id on. `_embedded` is absent when there is
    nothing new (REGISTERS.md)."""
    page = updates[:size]
    body: dict[str, Any] = {"page": {"size": size, "totalElements": len(updates), "number": 0}}
    if page:
        body["_embedded"] = {
            list_key: [
                {
                    "oppdateringsid": update_id,
                    "dato": "2026-01-05T10:00:00.000Z",
                    "organisasjonsnummer": number,
                    "endringstype": kind,
                    "_links": {"enhet": {"href": f"https://x/enheter/{number}"}},
                }
                for update_id, number, kind in page
            ]
        }
    return body


def person_event_feed_reply(
    events: list[dict[str, Any]], *, seq: int, page_size: int, if_none_match: str | None
) -> Reply:
    """Folkeregisteret's hendelser/feed from seq on, page_size events a page, with an ETag per
    page; 304 without a body when the client's If-None-Match is that page's ETag."""
    page = [e for e in events if e["sekvensnummer"] >= seq][:page_size]
    etag = f'"{seq}-{len(page)}"'
    if if_none_match == etag:
        return Reply(304, None, headers={"ETag": etag})
    return Reply(200, page, headers={"ETag": etag})
