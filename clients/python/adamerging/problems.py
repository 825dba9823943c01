"""Refusals as exceptions: the service's RFC 9457 problems carry a stable `code` to branch on (docs/api.md, "Errors")."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ProblemItem:
    """One individual problem: its code, where it is in the request body (JSON Pointer; None for a header or file name)."""

    code: str
    detail: str
    pointer: str | None = None


class ApiProblem(Exception):
    """A 4xx or 5xx answer. Branch on `code` (and each of `errors`' codes and pointers), never on the wording."""

    def __init__(self, status: int, code: str, title: str, detail: str, errors: list[ProblemItem], trace_id: str | None,
                 body: Any = None):
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.errors, self.trace_id, self.body = errors, trace_id, body
        where = "; ".join(f"{e.pointer or '(request)'}: {e.code}" for e in errors)
        super().__init__(f"{status} {code}: {detail}" + (f" [{where}]" if where else "") + (f" (trace {trace_id})" if trace_id else ""))

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiProblem:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # Not a problem document (a proxy's page, a cut connection's half answer): say what came back.
            text = response.text[:500] if response.content else response.reason_phrase
            return cls(response.status_code, f"http_{response.status_code}", response.reason_phrase, text, [], None, body)
        errors = [ProblemItem(e.get("code", ""), e.get("detail", ""), e.get("pointer")) for e in body.get("errors") or []]
        return cls(response.status_code, body.get("code") or f"http_{response.status_code}", body.get("title") or "",
                   body.get("detail") or body.get("title") or "", errors, body.get("traceId"), body)


class MergeFailed(Exception):
    """A merge waited on ended failed or cancelled; `merge` is its final state, `code` the failure's code."""

    def __init__(self, merge: Any, code: str | None):
        self.merge, self.code = merge, code
        super().__init__(f"merge {merge.id} {merge.status}" + (f" ({code})" if code else "") + (f": {merge.error}" if merge.error else ""))
