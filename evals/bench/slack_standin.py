"""A Slack Web API stand-in on 127.0.0.1 for the Slack tests and the load test.

It answers every method ok and records (method, params, time) in call order, the ts it
returned in ``params["_ts"]``. It fails the way Slack does when asked to:

- ``errors[method] = "not_in_channel"``: that method always answers ok=false with that error;
- ``inject(method, error, times)``: the next ``times`` calls fail, then calls succeed again;
  ``error`` is a Slack error string, ``RATE_LIMITED`` (HTTP 429 with a Retry-After header of
  ``retry_after`` seconds) or ``DROP`` (the connection closes without a response);
- a message whose text (top-level plus its blocks') passes ``text_limit`` characters is
  refused with ``msg_blocks_too_long``, and one with more than 50 blocks with ``invalid_blocks``,
  as Slack refuses them;
- ``delays[method]``: seconds a method takes (a slow Slack, or a bot kept mid-answer);
- 429s carry ``Retry-After`` in whole seconds, as Slack sends it.

Streams (chat.startStream / appendStream / stopStream) are checked as Slack checks them:
startStream needs ``channel`` and ``thread_ts``, and outside a DM ``recipient_user_id`` and
``recipient_team_id`` (else ``invalid_arguments``); appendStream/stopStream need ``channel``
and the ``ts`` of a stream still open (else ``message_not_in_streaming_state``); a stream's
streamed text and its final blocks count towards the message limits. ``end_streams(error,
after)`` makes Slack end every stream after ``after`` appends: with
``message_not_in_streaming_state`` (Slack closed it) or ``stopped_by_user`` (the user
stopped it), which later appends and the stop then get. chat.update needs ``channel`` and
``ts``.

Posts to ``response_url`` (a slash command's reply URL) are recorded as method
"response" (inject faults into them the same way); a URL takes 5 messages, then answers
404 ``used_url``, and ``expire_response_urls()`` makes them answer 404 ``expired_url``."""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RATE_LIMITED = "ratelimited"
DROP = "drop"
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "response")


def message_text_size(params: dict) -> int:
    """Characters of text in a message as the stand-in counts them: its text and every
    text string inside its blocks."""

    def inside(node: Any) -> int:
        if isinstance(node, dict):
            return sum(len(v) if k == "text" and isinstance(v, str) else inside(v) for k, v in node.items())
        if isinstance(node, list):
            return sum(inside(v) for v in node)
        return 0

    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return len(params.get("text") or "") + inside(blocks)


class WebAPIStandIn:
    """See the module docstring. Use as a context manager, or call shutdown()."""

    def __init__(self, text_limit: int = 12_000) -> None:
        self.calls: list[tuple[str, dict, float]] = []
        self.thread: list[dict] = []  # what conversations.replies returns
        self.delays: dict[str, float] = {}
        self.errors: dict[str, str] = {}
        self.text_limit = text_limit
        self._faults: dict[str, list[tuple[str, float]]] = {}
        self._streams: dict[str, dict] = {}  # ts -> {"open", "appends", "text", "error"}
        self._stream_end: tuple[str, int] | None = None
        self._responses: dict[str, int] = {}  # response_url path -> messages it took
        self._urls_expired = False
        self._lock = threading.Lock()
        self._ts = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if not self.path.startswith(stand_in._prefix):
                    # A client of another stand-in that had this port (a bot left over from
                    # an earlier test): not one of this stand-in's calls.
                    self.send_error(404)
                    return
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                if isinstance(params.get("blocks"), str):
                    params["blocks"] = json.loads(params["blocks"])
                method = self.path.rsplit("/", 1)[-1]
                if method.startswith("response"):  # response_url (one stand-in can hand out several)
                    method, params["_url"] = "response", self.path
                status, headers, body = stand_in._answer(method, params)
                if status is None:  # DROP: close the connection without a word
                    self.close_connection = True
                    return
                data = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self._prefix = f"/{uuid.uuid4().hex[:12]}/"
        self.url = f"http://127.0.0.1:{port}{self._prefix}api/"
        self.response_url = f"http://127.0.0.1:{port}{self._prefix}response"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def inject(self, method: str, error: str, times: int = 1, retry_after: float = 1) -> None:
        """The next ``times`` calls of ``method`` fail with ``error`` (see the module docstring)."""
        with self._lock:
            self._faults.setdefault(method, []).extend([(error, retry_after)] * times)

    def end_streams(self, error: str = "message_not_in_streaming_state", after: int = 0) -> None:
        """Slack ends every stream after ``after`` appends, with ``error`` (module docstring)."""
        with self._lock:
            self._stream_end = (error, after)

    def expire_response_urls(self) -> None:
        with self._lock:
            self._urls_expired = True

    def _checked(self, method: str, params: dict, ts: str) -> str | None:
        """Slack's refusal of a stream, chat.update or response_url call, if any (under the lock)."""
        if method == "chat.startStream":
            needed = ["channel", "thread_ts"]
            if not str(params.get("channel", "")).startswith("D"):
                needed += ["recipient_user_id", "recipient_team_id"]
            if not all(params.get(k) for k in needed):
                return "invalid_arguments"
            self._streams[ts] = {"open": True, "appends": 0, "text": "", "error": None}
            self._streams[ts]["text"] += _chunk_text(params)
            return None
        if method in ("chat.appendStream", "chat.stopStream"):
            if not params.get("channel") or not params.get("ts"):
                return "invalid_arguments"
            stream = self._streams.get(params["ts"])
            if stream is None:
                return "message_not_found"
            if stream["open"] and self._stream_end:  # Slack ends it between calls: the next one hears
                if stream["appends"] >= self._stream_end[1]:
                    stream["open"], stream["error"] = False, self._stream_end[0]
            if not stream["open"]:
                return stream["error"] or "message_not_in_streaming_state"
            text = stream["text"] + _chunk_text(params)
            if method == "chat.stopStream":
                if len(text) + message_text_size({"blocks": params.get("blocks")}) > self.text_limit:
                    return "msg_blocks_too_long"
                if len(params.get("blocks") or []) > 50:
                    return "invalid_blocks"
                stream["open"], stream["error"] = False, "message_not_in_streaming_state"
            else:
                stream["appends"] += 1
            stream["text"] = text
            return None
        if method == "chat.update" and (not params.get("channel") or not params.get("ts")):
            return "invalid_arguments"
        if method == "response":
            if self._urls_expired:
                return "expired_url"
            if self._responses.get(params["_url"], 0) >= 5:
                return "used_url"
        return None

    def _answer(self, method: str, params: dict) -> tuple[int | None, dict, dict | str]:
        with self._lock:
            self._ts += 1
            ts = f"{time.time():.0f}.{self._ts:06d}"  # unique per call, increasing
            params["_ts"] = ts
            self.calls.append((method, params, time.monotonic()))
            fault = self._faults[method].pop(0) if self._faults.get(method) else None
        time.sleep(self.delays.get(method, 0))
        params["_ok"] = fault is None and method not in self.errors  # refusals below set it False too
        if fault and fault[0] == DROP:
            return None, {}, {}
        if fault and fault[0] == RATE_LIMITED:
            # Slack's Retry-After is whole seconds
            return 429, {"Retry-After": str(math.ceil(fault[1]))}, {"ok": False, "error": "ratelimited"}
        error = fault[0] if fault else self.errors.get(method)
        if error is None:
            with self._lock:
                error = self._checked(method, params, ts)
        if error is None and method in MESSAGE_METHODS:
            if message_text_size(params) > self.text_limit:
                error = "msg_blocks_too_long"
            elif len(params.get("blocks") or []) > 50:
                error = "invalid_blocks"
        params["_ok"] = error is None
        if method == "response":  # a response_url answers in plain text, like Slack's
            if error is None:
                with self._lock:
                    self._responses[params["_url"]] = self._responses.get(params["_url"], 0) + 1
            return (200, {}, "ok") if error is None else (404, {}, error)
        if error is not None:
            return 200, {}, {"ok": False, "error": error}
        extra = {"messages": self.thread} if method == "conversations.replies" else {}
        return 200, {}, {"ok": True, **extra, "ts": ts, "channel": params.get("channel"),
                         "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}  # fmt: skip

    def new_response_url(self) -> str:
        """Another slash command's response_url (each takes 5 messages)."""
        return f"{self.response_url}-{uuid.uuid4().hex[:8]}"

    # -- what was received -------------------------------------------------------------------
    def posts(self) -> list[dict]:
        return [p for m, p, _ in self.calls if m == "chat.postMessage"]

    def answers(self, thread_ts: str | None = None) -> list[dict]:
        """Posted answers (messages with blocks), optionally those in one thread."""
        return [p for p in self.posts() if p.get("blocks") and thread_ts in (None, p.get("thread_ts"))]

    def methods(self) -> list[str]:
        return [m for m, _, _ in self.calls]

    def succeeded(self, method: str) -> list[dict]:
        """Calls of ``method`` the stand-in answered ok (not a fault, not refused)."""
        # A call still being answered has no "_ok" yet: not a success (a retried post in flight
        # counted as one, and a test saw an answer where the apology was to come).
        return [p for m, p, _ in self.calls if m == method and p.get("_ok", False)]

    def streams(self) -> list[dict]:
        """Streamed messages: thread_ts, the markdown text appended in order, and the blocks
        the stream stopped with (None while still open)."""
        by_ts: dict[str, dict] = {}
        for method, p, _ in self.calls:
            if method == "chat.startStream":
                by_ts[p["_ts"]] = {"thread_ts": p.get("thread_ts"), "channel": p.get("channel"), "parts": [],
                                   "blocks": None, "recipient_user_id": p.get("recipient_user_id")}  # fmt: skip
                ts = p["_ts"]
            elif method in ("chat.appendStream", "chat.stopStream"):
                ts = p.get("ts")
            else:
                continue
            s = by_ts.get(ts)
            if s is None:
                continue
            s["parts"] += [c.get("text", "") for c in p.get("chunks") or [] if c.get("type") == "markdown_text"]
            if p.get("markdown_text"):
                s["parts"].append(p["markdown_text"])
            if method == "chat.stopStream":
                s["blocks"] = p.get("blocks") or []
        for s in by_ts.values():
            s["text"] = "".join(s["parts"])
        return list(by_ts.values())

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "WebAPIStandIn":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def _chunk_text(params: dict) -> str:
    """The markdown a stream call carries (its chunks, or markdown_text)."""
    chunks = params.get("chunks") or []
    if isinstance(chunks, str):
        chunks = json.loads(chunks)
    text = "".join(c.get("text", "") for c in chunks if c.get("type") == "markdown_text")
    return text + (params.get("markdown_text") or "")
