"""A stand-in for arXiv's two harvesting interfaces on 127.0.0.1, for tests and the ingest benchmark.

- ``GET /oai``: OAI-PMH. ``verb=ListRecords`` with ``metadataPrefix`` arXivRaw, arXiv or oai_dc; ``from``/``until``
  (YYYY-MM-DD, inclusive, against each record's datestamp); ``set`` in arXiv's syntax (``cs``, ``cs:cs:CL``,
  ``physics:hep-th``, ``math``; a record is in a set when any of its categories is); ``resumptionToken`` (exclusive).
  Pages of ``page_size`` records ordered by (datestamp, id). ``verb=Identify`` answers; any other verb is badVerb.
  Errors are ``<error code=...>`` in a 200 answer, as arXiv sends them: badArgument, badResumptionToken,
  cannotDisseminateFormat, noRecordsMatch, badVerb.
- ``GET /api/query?id_list=...&start=&max_results=``: the export API's Atom feed, one entry per known id in the order
  asked (the latest version, or the version asked); an unknown id gets no entry; a malformed one (``arXiv:`` prefix
  included) the API's error feed with HTTP 400. ``search_query`` is not served (an empty feed).

Two shapes, from recorded responses (tests/data/arxiv/README.md) and arXiv's server code:

- ``style="current"`` (default): oaipmh.arxiv.org/oai, arXiv's OAI server since 2025 (arXiv/oaipmh templates), and
  the export API as recorded in 2026. A resumptionToken is the URL-quoted query plus ``skip`` with only an
  ``expirationDate`` attribute (next UTC midnight); the last page of a resumed list ends with ``<resumptionToken/>``;
  a list that fits one page has none. Set specs are per category (``cs:cs:CL``); version dates are zero-padded
  (``Mon, 02 Apr 2007 19:18:42 GMT``). API summaries and titles come on one line; the error entry's id is
  ``https://arxiv.org/api/errors#incorrect_id_format_for_<id>``.
- ``style="legacy"``: export.arxiv.org/oai2 as recorded 2013-2016: tokens ``<cacheid>|<next>`` with ``cursor`` and
  ``completeListSize``, the last page of a resumed list an empty token with both attributes; archive-level set specs
  (``cs``, ``physics:hep-th``); unpadded days (``Mon, 2 Apr 2007``); the older Atom layout (wrapped summaries,
  ``http://`` links, ``primary_category`` with a scheme).

In both, titles, comments and abstracts are hard-wrapped as arXiv's abs files are (79 columns counting the field's
label, continuation lines indented two spaces; abstracts start with two spaces). Deleted records come as
``<header status="deleted">`` (the legacy server's way; the current server's code has no deleted records) and are
absent from the API.

Failures: ``fail_next(*faults)`` answers the next requests (any path) with these, in order. ``requests`` records every
request; ``max_in_flight`` is the most it answered at once. ``expire_tokens()`` makes every token issued so far
answer badResumptionToken, as arXiv's tokens expire at midnight."""

from __future__ import annotations

import base64
import hashlib
import re
import textwrap
import threading
import time
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ATOM_SCHEME = "http://arxiv.org/schemas/atom"
PREFIXES = ("arXivRaw", "arXiv", "oai_dc")
PHYSICS_ARCHIVES = {"astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nlin",
                    "nucl-ex", "nucl-th", "physics", "quant-ph"}  # fmt: skip
GROUPS = {"cs", "econ", "eess", "math", "physics", "q-bio", "q-fin", "stat"}
# An id as the API accepts it: new style (4 or 5 digits after the dot, whatever the month) or old style.
API_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?")
DESCRIPTIONS = {  # the current server's texts (OAI-PMH 2.0's); the legacy one sent short messages instead
    "badArgument": "The request includes illegal arguments, is missing required arguments, includes a repeated "
                   "argument, or values for arguments have an illegal syntax.",
    "badResumptionToken": "The value of the resumptionToken argument is invalid or expired.",
    "badVerb": "Value of the verb argument is not a legal OAI-PMH verb, the verb argument is missing, or the verb "
               "argument is repeated.",
    "cannotDisseminateFormat": "The metadata format identified by the value given for the metadataPrefix argument "
                               "is not supported by the item or by the repository.",
    "noRecordsMatch": "The combination of the values of the from, until, set and metadataPrefix arguments results "
                      "in an empty list.",
}  # fmt: skip
DC_NAMES = {"cs": "Computer Science", "stat": "Statistics", "math": "Mathematics", "eess": "Electrical Engineering "
            "and Systems Science", "q-bio": "Quantitative Biology", "physics": "Physics"}  # fmt: skip


@dataclass
class StandinRecord:
    """One paper as the stand-in serves it (its latest metadata)."""

    id: str  # base id: "2401.01234" or "hep-th/9901001"
    title: str
    abstract: str  # plain text; the stand-in wraps it as arXiv does
    authors: list[str]  # "C. Bal\\'azs" style names allowed (LaTeX accents as arXiv has them)
    categories: list[str]  # primary first
    versions: list[str]  # ISO dates (or datetimes) of v1, v2, ...
    datestamp: str  # OAI datestamp (YYYY-MM-DD): the day the record last changed
    deleted: bool = False
    comments: str = ""
    license: str = "http://creativecommons.org/licenses/by/4.0/"


@dataclass
class Fault:
    """What the next request gets instead of the normal answer. ``status=200`` with no ``body`` answers normally
    (after ``delay_s``): a slow arXiv."""

    status: int = 503  # 503, 429, 403, 500, or 200 for a body fault
    retry_after: str | None = None  # the Retry-After header as sent; arXiv sends seconds
    body: str | None = None  # e.g. malformed XML, with status 200
    delay_s: float = 0.0  # held this long before answering
    empty_page: bool = False  # see empty_page()
    oai_error: tuple[str, str] | None = None  # see oai_error()


def empty_page() -> Fault:
    """A valid ListRecords page with no <record> whose resumptionToken continues where this request would have
    started (arXiv sends such pages)."""
    return Fault(status=200, empty_page=True)


def oai_error(code: str, message: str) -> Fault:
    """A 200 answer carrying ``<error code=...>message</error>``."""
    return Fault(status=200, oai_error=(code, message))


@dataclass
class RequestSeen:
    path: str
    params: dict[str, str]
    user_agent: str
    started: float  # time.monotonic()
    ended: float | None = None
    status: int | None = None


class _OAIError(Exception):
    def __init__(self, code: str, reason: str, request: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code, self.reason, self.request = code, reason, request


# -- arXiv's conventions ----------------------------------------------------------------------------------------
def _category_path(category: str) -> tuple[str, str, str]:
    archive, _, sub = category.partition(".")
    return ("physics" if archive in PHYSICS_ARCHIVES else archive), archive, sub


def set_specs(category: str) -> set[str]:
    """Every set a category belongs to: its group, its archive and itself ("cs", "cs:cs", "cs:cs:CL")."""
    group, archive, sub = _category_path(category)
    return {group, f"{group}:{archive}"} | ({f"{group}:{archive}:{sub}"} if sub else set())


def _header_spec(category: str, legacy: bool) -> str:
    group, archive, sub = _category_path(category)
    if legacy:  # the old server named groups, and physics archives
        return f"physics:{archive}" if group == "physics" else group
    return f"{group}:{archive}:{sub}" if sub else f"{group}:{archive}"


def _valid_set(spec: str) -> bool:
    parts = spec.split(":")
    if parts[0] not in GROUPS or len(parts) > 3:
        return False
    return len(parts) == 1 or _category_path(parts[1])[0] == parts[0]


def wrap_field(label: str, text: str) -> str:
    """A field as arXiv's abs files hold it: 79 columns counting "Label: ", continuation lines indented two."""
    lines = textwrap.wrap(f"{label}: {text}", 79, subsequent_indent="  ", break_long_words=False,
                          break_on_hyphens=False)  # fmt: skip
    return "\n".join(lines)[len(label) + 2 :]


def wrap_abstract(text: str) -> str:
    """An abstract as arXiv stores it: two leading spaces, lines of at most 79 columns, a final newline."""
    return textwrap.fill(text, 79, initial_indent="  ", break_long_words=False, break_on_hyphens=False) + "\n"


def _version_time(record: StandinRecord, index: int) -> datetime:
    stamp = record.versions[index].rstrip("Z")
    if "T" in stamp:
        return datetime.fromisoformat(stamp)
    # A date alone: a fixed time of day drawn from the id, so answers are stable.
    return datetime.fromisoformat(stamp) + timedelta(seconds=zlib.crc32(f"{record.id}v{index}".encode()) % 86400)


WEEKDAYS = "Mon Tue Wed Thu Fri Sat Sun".split()  # English whatever the locale, as arXiv writes them
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _rfc2822(moment: datetime, legacy: bool) -> str:
    """A version's date in arXivRaw: "Tue, 3 Apr 2007 22:04:11 GMT" (legacy) or "Tue, 03 Apr 2007 ..." (current)."""
    day = str(moment.day) if legacy else f"{moment.day:02d}"
    return f"{WEEKDAYS[moment.weekday()]}, {day} {MONTHS[moment.month - 1]} {moment:%Y %H:%M:%S} GMT"


def _author_parts(name: str) -> tuple[str, str]:
    """(keyname, forenames): the last word, with lower-case particles before it ("van der Putten")."""
    words = name.split()
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in {"de", "van", "von", "der", "den", "di", "da", "del", "la", "le"}:
        cut -= 1
    return " ".join(words[cut:]), " ".join(words[:cut])


def _authors_line(authors: list[str]) -> str:
    return authors[0] if len(authors) == 1 else ", ".join(authors[:-1]) + " and " + authors[-1]


_COMBINING = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "=": "\u0304",
              ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "k": "\u0328"}  # fmt: skip
_TEX_ACCENT = re.compile(r"\{?\\([`'\"^~=.])\{?\\?([A-Za-z])\}?\}?|\{?\\([cvuHk])[{ ]\\?([A-Za-z])\}?\}?")


def tex_to_unicode(text: str) -> str:
    """LaTeX accents in names (``Bal\\'azs``, ``Ko\\c{c}``) as the API shows them (Balázs, Koç)."""

    def accent(m: re.Match) -> str:
        mark, letter = (m[1], m[2]) if m[1] else (m[3], m[4])
        return unicodedata.normalize("NFC", letter + _COMBINING[mark])

    return _TEX_ACCENT.sub(accent, text)


def _esc(text: str, quotes: dict[str, str] | None = None) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, entity in (quotes or {}).items():
        text = text.replace(char, entity)
    return text


def _el(tag: str, text: str) -> str:
    return f"<{tag}>{text}</{tag}>" if text else ""


def _iso(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}Z"


def _next_midnight() -> str:
    return _iso(datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=1), datetime.min.time()))


class _Handler(BaseHTTPRequestHandler):
    standin: ArxivStandin

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.standin._handle(self)


class ArxivStandin:
    """See the module docstring. Use as a context manager: the server runs between __enter__ and __exit__."""

    def __init__(self, page_size: int = 2500, style: str = "current") -> None:
        if style not in ("current", "legacy"):
            raise ValueError(f"style must be 'current' or 'legacy', not {style!r}")
        self.page_size, self.style, self.legacy = page_size, style, style == "legacy"
        self.requests: list[RequestSeen] = []
        self.max_in_flight = 0
        self._records: dict[str, StandinRecord] = {}
        self._faults: list[Fault] = []
        self._lists: dict[str, tuple[dict[str, str], list[StandinRecord]]] = {}  # legacy tokens' cached lists
        self._issued: set[str] = set()
        self._expired: set[str] = set()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        # The current server's Jinja templates escape quotes as &#34;/&#39;; the old one wrote &quot;.
        self._quotes = {'"': "&quot;"} if self.legacy else {'"': "&#34;", "'": "&#39;"}

    # -- life cycle and controls ---------------------------------------------------------------------------------
    def __enter__(self) -> ArxivStandin:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval: stopping waits for it (0.5 s by default, in every test).
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _base(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not running: use it as `with ArxivStandin() as arxiv:`")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def oai_url(self) -> str:
        return f"{self._base()}/oai"

    @property
    def api_url(self) -> str:
        return f"{self._base()}/api/query"

    def put(self, *records: StandinRecord) -> None:
        """Add records, or replace those with the same id."""
        with self._lock:
            self._records.update((r.id, r) for r in records)

    def fail_next(self, *faults: Fault) -> None:
        """The next requests, whatever their path, get these faults, one each, in order."""
        with self._lock:
            self._faults.extend(faults)

    def expire_tokens(self) -> None:
        """Every resumptionToken issued so far now answers badResumptionToken (arXiv's expire at UTC midnight)."""
        with self._lock:
            self._expired |= self._issued

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        params: dict[str, str] = {}
        repeated = False
        for key, value in parse_qsl(url.query, keep_blank_values=True):
            repeated |= key in params
            params.setdefault(key, value)
        seen = RequestSeen(url.path, dict(params), h.headers.get("User-Agent", ""), time.monotonic())
        with self._lock:
            self.requests.append(seen)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            fault = self._faults.pop(0) if self._faults else None
        try:
            if fault and fault.delay_s:
                time.sleep(fault.delay_s)
            seen.status, ctype, body = self._answer(url.path, params, repeated, fault)
            data = body.encode()
            h.send_response(seen.status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            if fault and fault.retry_after is not None:
                h.send_header("Retry-After", fault.retry_after)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass
        finally:
            with self._lock:
                seen.ended = time.monotonic()
                self._in_flight -= 1

    def _answer(self, path: str, params: dict, repeated: bool, fault: Fault | None) -> tuple[int, str, str]:
        xml = "application/xml" if not self.legacy else "text/xml"
        if fault and fault.oai_error:
            return 200, xml, self._error_document(*fault.oai_error)
        if fault and fault.body is not None:
            return fault.status, xml, fault.body
        if fault and fault.status != 200:
            return fault.status, "text/plain", f"{fault.status} {_Handler.responses.get(fault.status, ('',))[0]}\n"
        if path == "/oai":
            try:
                if repeated:
                    raise _OAIError("badArgument", "Duplicate parameters not allowed")
                if params.get("verb") == "Identify":
                    return 200, xml, self._identify(params)
                if params.get("verb") != "ListRecords":
                    raise _OAIError("badVerb", f"Verb '{params.get('verb', '')}' not implemented.")
                return 200, xml, self._list_records(params, bool(fault and fault.empty_page))
            except _OAIError as e:
                return 200, xml, self._error_document(e.code, self._error_text(e), e.request)
        if path == "/api/query":
            return self._api(params)
        return 404, "text/plain", "not found\n"

    # -- OAI-PMH -------------------------------------------------------------------------------------------------
    def _document(self, request: dict[str, str] | None, inner: str) -> str:
        base = "http://export.arxiv.org/oai2" if self.legacy else "https://oaipmh.arxiv.org/oai"
        if request and "resumptionToken" in request and not self.legacy:
            attrs = f" verb='ListRecords' resumptionToken='{_esc(request['resumptionToken'], self._quotes)}'"
        else:
            attrs = "".join(f' {k}="{_esc(v, self._quotes)}"' for k, v in (request or {}).items())
        now = _iso(datetime.now(timezone.utc).replace(tzinfo=None))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="http://www.w3.org/'
                f'2001/XMLSchema-instance" xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/'
                f'OAI-PMH.xsd">\n<responseDate>{now}</responseDate>\n<request{attrs}>{base}</request>\n{inner}\n'
                "</OAI-PMH>\n")  # fmt: skip

    def _error_text(self, e: _OAIError) -> str:
        return e.reason if self.legacy else f"{DESCRIPTIONS[e.code]} Reason: {e.reason}"

    def _error_document(self, code: str, text: str, request: dict[str, str] | None = None) -> str:
        quote_char = '"' if self.legacy else "'"
        request = None if code in ("badArgument", "badVerb") else request  # arXiv echoes no arguments for these
        return self._document(request, f"<error code={quote_char}{code}{quote_char}>{_esc(text)}</error>")

    def _identify(self, params: dict[str, str]) -> str:
        base = "http://export.arxiv.org/oai2" if self.legacy else "https://oaipmh.arxiv.org/oai"
        return self._document(params, f"<Identify>\n<repositoryName>arXiv</repositoryName>\n<baseURL>{base}</baseURL>"
                              "\n<protocolVersion>2.0</protocolVersion>\n<adminEmail>help@arxiv.org</adminEmail>\n"
                              "<earliestDatestamp>2005-09-16</earliestDatestamp>\n<deletedRecord>persistent"
                              "</deletedRecord>\n<granularity>YYYY-MM-DD</granularity>\n</Identify>")  # fmt: skip

    def _list_records(self, params: dict[str, str], empty: bool) -> str:
        token = params.get("resumptionToken")
        cached = None
        if token is not None:
            if set(params) != {"verb", "resumptionToken"}:
                raise _OAIError("badArgument", "No other parameters allowed with resumptionToken")
            query, skip, cached = self._redeem(token, params)
        else:
            query, skip = {k: params[k] for k in ("verb", "metadataPrefix", "from", "until", "set") if k in params}, 0
            if unknown := sorted(set(params) - set(query)):
                raise _OAIError("badArgument", f"Unallowed parameter: {', '.join(unknown)}")
        listing = cached if cached is not None else self._listing(query, params)
        if skip >= len(listing):
            raise _OAIError("noRecordsMatch", "No records match", params)
        end = skip if empty else min(skip + self.page_size, len(listing))
        if end < len(listing):
            next_token = self._next_token(query, skip, end, listing)
            with self._lock:
                self._issued.add(next_token)
                self._expired.discard(next_token)
            if self.legacy:
                tail = f'<resumptionToken cursor="{skip}" completeListSize="{len(listing)}">{next_token}'
                tail += "</resumptionToken>"
            else:
                tail = f"<resumptionToken expirationDate='{_next_midnight()}'>{next_token}</resumptionToken>"
        elif token is None:
            tail = ""  # a complete list in one answer needs no token
        else:
            tail = (f'<resumptionToken cursor="{skip}" completeListSize="{len(listing)}"/>' if self.legacy
                    else "<resumptionToken/>")  # fmt: skip
        records = "\n".join(self._record(r, query["metadataPrefix"]) for r in listing[skip:end])
        body = "\n".join(part for part in ("<ListRecords>", records, tail, "</ListRecords>") if part)
        return self._document(params, body)

    def _redeem(self, token: str, params: dict[str, str]) -> tuple[dict[str, str], int, list | None]:
        bad = _OAIError("badResumptionToken", "The resumptionToken supplied is illegal for this repository"
                        if self.legacy else "Token decoding failed or format is invalid.", params)  # fmt: skip
        with self._lock:
            if token in self._expired:
                raise bad
            if self.legacy:
                cache_id, _, offset = token.partition("|")
                query, listing = self._lists.get(cache_id, ({}, None))
                if listing is None or not offset.isdigit() or not 0 < int(offset) <= len(listing):
                    raise bad
                return query, int(offset) - 1, listing
        decoded = dict(parse_qsl(unquote(token)))
        skip = decoded.pop("skip", "")
        if decoded.get("verb") != "ListRecords" or not skip.isdigit():
            raise bad
        return decoded, int(skip), None

    def _next_token(self, query: dict[str, str], skip: int, end: int, listing: list[StandinRecord]) -> str:
        if self.legacy:  # "<list>|<1-based index of the next record>", one list id for all its pages
            with self._lock:
                cache_id = next((k for k, (_, cached) in self._lists.items() if cached is listing), None)
                cache_id = cache_id or str(700000 + len(self._lists))
                self._lists[cache_id] = (query, listing)
            return f"{cache_id}|{end + 1}"
        # The current server's rule: within one day, skip further; else restart from the next record's day,
        # skipping the records of that day already shown.
        following = listing[end].datestamp
        if end == skip or listing[skip].datestamp == following:
            query, skip = dict(query), end
        else:
            query = {**query, "from": following}
            skip = sum(r.datestamp == following for r in listing[skip:end])
        return quote(urlencode({**query, "skip": skip}))

    def _listing(self, query: dict[str, str], params: dict[str, str]) -> list[StandinRecord]:
        prefix = query.get("metadataPrefix")
        if prefix is None:
            raise _OAIError("badArgument", "metadataPrefix required.")
        if prefix not in PREFIXES:
            raise _OAIError("cannotDisseminateFormat", "Did not recognize requested format", params)
        days = []
        for key in ("from", "until"):
            value = query.get(key)
            try:
                days.append(date.fromisoformat(value).isoformat() if value else None)
                if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise ValueError(value)
            except ValueError:
                raise _OAIError("badArgument", f"{key} date format must be YYYY-MM-DD") from None
        since, until = days
        if since and until and since > until:
            raise _OAIError("badArgument", "until date must be greater than or equal to from date")
        spec = query.get("set")
        if spec and not _valid_set(spec):
            if self.legacy:
                raise _OAIError("noRecordsMatch", f"Set argument doesn't match any sets. The setSpec was '{spec}'",
                                params)  # fmt: skip
            raise _OAIError("badArgument", "Set does not exist")
        with self._lock:
            records = list(self._records.values())
        chosen = [r for r in records if (not since or r.datestamp >= since) and (not until or r.datestamp <= until)
                  and (not spec or any(spec in set_specs(c) for c in r.categories))]  # fmt: skip
        return sorted(chosen, key=lambda r: (r.datestamp, r.id))

    def _record(self, r: StandinRecord, prefix: str) -> str:
        specs = list(dict.fromkeys(_header_spec(c, self.legacy) for c in r.categories))
        specs = sorted(specs) if self.legacy else specs  # the old server listed them sorted
        head = [f"<identifier>oai:arXiv.org:{r.id}</identifier>", f"<datestamp>{r.datestamp}</datestamp>"]
        head += [f"<setSpec>{s}</setSpec>" for s in specs]
        status = ' status="deleted"' if r.deleted else ""
        header = f"<header{status}>\n " + "\n ".join(head) + "\n</header>"
        if r.deleted:
            return f"<record>\n{header}\n</record>"
        metadata = {"arXivRaw": self._arxiv_raw, "arXiv": self._arxiv, "oai_dc": self._dc}[prefix](r)
        return f"<record>\n{header}\n<metadata>\n {metadata}\n</metadata>\n</record>"

    def _root(self, tag: str, namespaces: str, location: str, elements: list[str]) -> str:
        """A metadata element around ``elements`` (empty ones left out, as arXiv leaves out empty fields)."""
        inner = ("" if self.legacy else "\n ").join(e for e in elements if e)
        return (f'<{tag} {namespaces} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                f'xsi:schemaLocation="{location}">\n {inner}</{tag}>')  # fmt: skip

    def _schema(self, name: str) -> str:
        host = "http://arxiv.org/OAI" if self.legacy else "https://oaipmh.arxiv.org/OAI"
        return f"http://arxiv.org/OAI/{name}/ {host}/{name}.xsd"

    def _common(self, r: StandinRecord) -> dict[str, str]:
        """The elements arXivRaw and arXiv share, escaped, in the wrapping of arXiv's abs files."""
        esc = lambda s: _esc(s, self._quotes)  # noqa: E731
        return {"title": _el("title", esc(wrap_field("Title", r.title))),
                "categories": _el("categories", " ".join(r.categories)),
                "comments": _el("comments", esc(wrap_field("Comments", r.comments)) if r.comments else ""),
                "license": _el("license", r.license), "abstract": _el("abstract", esc(wrap_abstract(r.abstract)))}

    def _arxiv_raw(self, r: StandinRecord) -> str:
        common = self._common(r)
        versions = []
        for i in range(len(r.versions)):
            crc = zlib.crc32(f"{r.id}/{i}".encode())  # stable made-up sizes and source types
            when = _rfc2822(_version_time(r, i), self.legacy)
            versions.append(f'<version version="v{i + 1}"><date>{when}</date><size>{20 + crc % 900}kb</size>'
                            + ("<source_type>D</source_type>" if crc % 2 else "") + "</version>")  # fmt: skip
        authors = _esc(wrap_field("Authors", _authors_line(r.authors)), self._quotes)
        return self._root("arXivRaw", 'xmlns="http://arxiv.org/OAI/arXivRaw/"', self._schema("arXivRaw"), [
            _el("id", r.id), _el("submitter", _esc(tex_to_unicode(r.authors[0]))), *versions, common["title"],
            _el("authors", authors), common["categories"], common["comments"], common["license"], common["abstract"]])

    def _arxiv(self, r: StandinRecord) -> str:
        common = self._common(r)
        authors = ""
        for name in r.authors:
            keyname, forenames = _author_parts(name)
            authors += f"<author>{_el('keyname', _esc(keyname))}{_el('forenames', _esc(forenames))}</author>"
        updated = _version_time(r, -1).date().isoformat() if len(r.versions) > 1 else ""
        return self._root("arXiv", 'xmlns="http://arxiv.org/OAI/arXiv/"', self._schema("arXiv"), [
            _el("id", r.id), _el("created", _version_time(r, 0).date().isoformat()), _el("updated", updated),
            _el("authors", authors), common["title"], common["categories"], common["comments"], common["license"],
            common["abstract"]])

    def _dc(self, r: StandinRecord) -> str:
        common = self._common(r)
        elements = [common["title"].replace("title>", "dc:title>")]
        elements += [_el("dc:creator", _esc(", ".join(p for p in _author_parts(a) if p))) for a in r.authors]
        elements += [_el("dc:subject", f"{DC_NAMES.get(_category_path(c)[0], c)} - {c}") for c in r.categories]
        elements += [common["abstract"].replace("abstract>", "dc:description>"),
                     _el("dc:date", _version_time(r, 0).date().isoformat()), _el("dc:type", "text"),
                     _el("dc:identifier", f"http://arxiv.org/abs/{r.id}")]  # fmt: skip
        dc = "http://www.openarchives.org/OAI/2.0/oai_dc/"
        return self._root("oai_dc:dc", f'xmlns:oai_dc="{dc}" xmlns:dc="http://purl.org/dc/elements/1.1/"',
                          f"{dc} http://www.openarchives.org/OAI/2.0/oai_dc.xsd", elements)  # fmt: skip

    # -- export API ----------------------------------------------------------------------------------------------
    def _api(self, params: dict[str, str]) -> tuple[int, str, str]:
        atom = "application/atom+xml; charset=UTF-8"
        asked = [i.strip() for i in params.get("id_list", "").split(",") if i.strip()]
        for name, value in (("start", params.get("start", "0")), ("max_results", params.get("max_results", "10"))):
            if not value.isdigit():
                return 400, atom, self._api_error(f"{name}_must_be_an_integer", f"{name} must be an integer", params)
        start, size = int(params.get("start", "0")), int(params.get("max_results", "10"))
        found = []
        for arxiv_id in asked:
            m = API_ID.fullmatch(arxiv_id)
            if m is None:
                slug, message = f"incorrect_id_format_for_{arxiv_id}", f"incorrect id format for {arxiv_id}"
                return 400, atom, self._api_error(slug, message, params)
            with self._lock:
                r = self._records.get(m[1])
            version = int(m[2]) if m[2] else len(r.versions) if r else 0
            if r is not None and not r.deleted and 1 <= version <= len(r.versions):
                found.append((r, version))
        entries = "".join(self._entry(r, v) for r, v in found[start : start + size])
        return 200, atom, self._feed(params.get("id_list", ""), start, size, len(found), entries)

    def _feed(self, id_list: str, start: int, size: int, total: int, entries: str) -> str:
        query = f"search_query=&id_list={id_list}&start={start}&max_results={size}"
        digest = base64.b64encode(hashlib.sha1(query.encode()).digest()).decode().rstrip("=")
        if self.legacy:
            stamp = datetime.now(timezone(timedelta(hours=-4))).strftime("%Y-%m-%dT00:00:00-04:00")
            ns = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
            return (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n  <link '
                    f'href="http://arxiv.org/api/query?{quote(query, safe="")}" rel="self" type="application/'
                    f'atom+xml"/>\n  <title type="html">ArXiv Query: {_esc(query)}</title>\n  <id>http://arxiv.org/api/'
                    f"{digest}</id>\n  <updated>{stamp}</updated>\n  <opensearch:totalResults {ns}>{total}</opensearch:"
                    f"totalResults>\n  <opensearch:startIndex {ns}>{start}</opensearch:startIndex>\n  <opensearch:"
                    f"itemsPerPage {ns}>{size}</opensearch:itemsPerPage>\n{entries}</feed>\n")  # fmt: skip
        now = _iso(datetime.now(timezone.utc).replace(tzinfo=None))
        link = f"search_query=&start={start}&max_results={size}&id_list={id_list}"
        return (f"{self._feed_open()}  <id>https://arxiv.org/api/{digest}</id>\n  <title>arXiv Query: {_esc(query)}"
                f"</title>\n  <updated>{now}</updated>\n  <link href=\"https://arxiv.org/api/query?{_esc(link)}\" "
                f'type="application/atom+xml"/>\n  <opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>\n  '
                f"<opensearch:totalResults>{total}</opensearch:totalResults>\n  <opensearch:startIndex>{start}"
                f"</opensearch:startIndex>\n{entries}</feed>\n")  # fmt: skip

    @staticmethod
    def _feed_open() -> str:
        return ("<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns:opensearch=\"http://a9.com/-/spec/opensearch/"
                f'1.1/" xmlns:arxiv="{ATOM_SCHEME}" xmlns="http://www.w3.org/2005/Atom">\n')  # fmt: skip

    def _api_error(self, slug: str, message: str, params: dict[str, str]) -> str:
        host = "http://arxiv.org" if self.legacy else "https://arxiv.org"
        now = _iso(datetime.now(timezone.utc).replace(tzinfo=None))
        error = f"{host}/api/errors#{_esc(slug)}"
        entry = (f"  <entry>\n    <id>{error}</id>\n    <title>Error</title>\n    <updated>{now}</updated>\n    <link "
                 f'href="{error}" rel="alternate" type="text/html"/>\n    <summary>{_esc(message)}</summary>\n    '
                 "<author>\n      <name>arXiv api core</name>\n    </author>\n  </entry>\n")  # fmt: skip
        if self.legacy:  # the old API wrapped its error entry in the usual feed
            return self._feed(params.get("id_list", ""), 0, 1, 1, entry)
        return (f"{self._feed_open()}  <id>https://arxiv.org/</id>\n  <title>arXiv Search Results</title>\n  <updated>"
                f"{now}</updated>\n  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n  <opensearch:totalResults>"
                f"1</opensearch:totalResults>\n  <opensearch:startIndex>0</opensearch:startIndex>\n{entry}</feed>\n")

    def _entry(self, r: StandinRecord, version: int) -> str:
        vid = f"{r.id}v{version}"
        updated, published = _iso(_version_time(r, version - 1)), _iso(_version_time(r, 0))
        names = [_esc(tex_to_unicode(a)) for a in r.authors]  # the API shows accents, not LaTeX
        authors = "".join(f"    <author>\n      <name>{name}</name>\n    </author>\n" for name in names)
        cats = "".join(f'    <category term="{c}" scheme="{ATOM_SCHEME}"/>\n' for c in r.categories)
        if self.legacy:
            ns = f' xmlns:arxiv="{ATOM_SCHEME}"'
            comment = f"    <arxiv:comment{ns}>{_esc(r.comments)}</arxiv:comment>\n" if r.comments else ""
            return (f"  <entry>\n    <id>http://arxiv.org/abs/{vid}</id>\n    <updated>{updated}</updated>\n    "
                    f"<published>{published}</published>\n    <title>{_esc(wrap_field('Title', r.title))}</title>\n"
                    f"    <summary>{_esc(wrap_abstract(r.abstract))}</summary>\n{authors}"
                    + comment
                    + f'    <link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>\n    <link '
                    f'title="pdf" href="http://arxiv.org/pdf/{vid}" rel="related" type="application/pdf"/>\n    '
                    f'<arxiv:primary_category{ns} term="{r.categories[0]}" scheme="{ATOM_SCHEME}"/>\n{cats}'
                    "  </entry>\n")
        one_line = lambda s: _esc(" ".join(s.split()))  # noqa: E731  (the 2026 API unwraps titles and summaries)
        return (f"  <entry>\n    <id>http://arxiv.org/abs/{vid}</id>\n    <title>{one_line(r.title)}</title>\n    "
                f'<updated>{updated}</updated>\n    <link href="https://arxiv.org/abs/{vid}" rel="alternate" '
                f'type="text/html"/>\n    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/'
                f'pdf" title="pdf"/>\n    <summary>{one_line(r.abstract)}</summary>\n{cats}    <published>{published}'
                f"</published>\n" + (f"    <arxiv:comment>{_esc(r.comments)}</arxiv:comment>\n" if r.comments else "")
                + f'    <arxiv:primary_category term="{r.categories[0]}"/>\n{authors}  </entry>\n')  # fmt: skip
