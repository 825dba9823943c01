"""The client: every operation (generated), sent with the key, retried where that is safe, answers decoded."""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from . import __version__
from ._operations import Operations
from ._wire import decode, encode
from .events import TERMINAL, lines_of, parse_events
from .problems import ApiProblem
from .downloads import Downloads
from .uploads import Uploads

RETRIED_STATUSES = {429, 502, 503, 504}
SAFE_VERBS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


class Client(Operations, Uploads, Downloads):
    """One service: `Client(url, key)`, or from ADAMERGING_URL and ADAMERGING_API_KEY.

    Requests that are safe to repeat (reads, PUTs, and POSTs that carry an Idempotency-Key, which this client adds)
    are retried on a dropped connection, 429 and 502-504, waiting Retry-After when the server names it.
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *, timeout: float = 60.0, retries: int = 4,
                 http: httpx.Client | None = None):
        base_url = base_url or os.environ.get("ADAMERGING_URL") or "http://127.0.0.1:5080"   # the README's first command
        api_key = api_key or os.environ.get("ADAMERGING_API_KEY")
        headers = {"User-Agent": f"adamerging-python/{__version__}"}
        if api_key:
            headers["X-Api-Key"] = api_key
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=httpx.Timeout(timeout))
        self.retries = retries

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    # --- the one place every operation goes through -------------------------------------------------------------
    def _call(self, verb: str, route: str, path: dict[str, Any], *, query: dict[str, Any] | None = None,
              headers: dict[str, Any] | None = None, json: Any = None, content: Any = None, multipart: Any = None,
              to: Any = None, returns: tuple[str, str | None], idempotent: bool = False) -> Any:
        url = route.format(**{k: quote(str(v), safe="") for k, v in path.items()})
        params = {k: _param(v) for k, v in (query or {}).items() if v is not None}
        sent = {k: str(v) for k, v in (headers or {}).items() if v is not None}
        if idempotent:
            sent.setdefault("Idempotency-Key", str(uuid.uuid4()))   # what makes a retried POST safe
        if route.startswith("/uploads"):
            sent["Tus-Resumable"] = "1.0.0"
        if content is not None:
            sent.setdefault("Content-Type", "application/offset+octet-stream" if route == "/uploads/{id}" else "application/octet-stream")
        kind, model = returns
        if kind == "events":
            return self._events(url, params, sent)
        body = _Body(json, content, multipart)
        retry = (verb in SAFE_VERBS or idempotent) and body.replayable
        if kind == "bytes" and to is not None:
            return self._download(verb, url, params, sent, Path(to))
        response = self._send(verb, url, params, sent, body, retry)
        if response.status_code == 304:
            return None
        if kind == "model":
            return decode(model, response.json())
        if kind == "models":
            return [decode(model, item) for item in response.json()]
        if kind == "json":
            return response.json()
        if kind == "text":
            return response.text
        if kind == "bytes":
            return response.content
        return response.headers

    def _send(self, verb: str, url: str, params: dict, headers: dict, body: _Body, retry: bool) -> httpx.Response:
        for attempt in range(self.retries + 1):
            last = attempt == self.retries or not retry
            try:
                response = self._http.request(verb, url, params=params, headers=headers, **body.arguments())
            except httpx.TransportError:
                if last:
                    raise
                time.sleep(_backoff(attempt, None))
                continue
            finally:
                body.close()
            if response.status_code in RETRIED_STATUSES and not last:
                time.sleep(_backoff(attempt, response.headers.get("Retry-After")))
                continue
            if response.status_code >= 400:
                raise ApiProblem.from_response(response)
            return response
        raise AssertionError("unreachable")

    def _download(self, verb: str, url: str, params: dict, headers: dict, target: Path) -> Path:
        """The body streamed into a temporary file beside `target`, renamed when whole: no half file is ever visible.
        (download_merge resumes a cut one and checks its SHA-256; this is the plain operation.)"""
        partial = target.with_name(target.name + ".part")
        with self._http.stream(verb, url, params=params, headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                raise ApiProblem.from_response(response)
            with open(partial, "wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
        partial.replace(target)
        return target

    def _events(self, url: str, params: dict, headers: dict) -> Iterator[Any]:
        """Server-sent events, reconnecting with Last-Event-ID when the stream is cut, until the merge has ended."""
        last_id, failures = headers.get("Last-Event-ID"), 0
        while True:
            if last_id is not None:
                headers = {**headers, "Last-Event-ID": str(last_id)}
            try:
                with self._http.stream("GET", url, params=params, headers=headers,
                                       timeout=httpx.Timeout(30.0, read=90.0)) as response:  # keep-alives come every 15 s
                    if response.status_code >= 400:
                        response.read()
                        raise ApiProblem.from_response(response)
                    for event_id, data in parse_events(lines_of(response.iter_text())):
                        last_id, failures = event_id, 0
                        event = decode("MergeEventResponse", data)
                        yield event
                        if event.type in TERMINAL:
                            return
            except httpx.TransportError:
                failures += 1
                if failures > self.retries:
                    raise
            time.sleep(3.0 if failures else 0.5)   # the server's retry: 3000


class _Body:
    """A request body that can be sent again when the first try is lost: JSON, bytes, seekable files, local paths."""

    def __init__(self, json: Any, content: Any, multipart: Any):
        self.json = encode(json) if json is not None else None
        self.content, self.opened = content, []
        self.field, self.paths = multipart if multipart and multipart[1] else (None, None)
        self.start = content.tell() if hasattr(content, "seekable") and content.seekable() else None
        self.replayable = content is None or isinstance(content, bytes) or self.start is not None

    def arguments(self) -> dict[str, Any]:
        if self.json is not None:
            return {"json": self.json}
        if self.paths:
            self.opened = [open(p, "rb") for p in self.paths]
            return {"files": [(self.field, (Path(p).name, f, "application/octet-stream")) for p, f in zip(self.paths, self.opened)]}
        if self.content is None:
            return {}
        if self.start is not None:
            self.content.seek(self.start)
        return {"content": self.content}

    def close(self) -> None:
        for f in self.opened:
            f.close()
        self.opened = []


def _param(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value).lower() if isinstance(value, bool) else str(value)


def _backoff(attempt: int, retry_after: str | None) -> float:
    if retry_after and retry_after.isdigit():
        return min(float(retry_after), 60.0)
    return min(0.5 * 2 ** attempt, 10.0)
