"""Server-sent events as the service writes them (docs/api.md, "Events and callbacks")."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

#: The event types after which a merge changes no more (MergeEventType in the OpenAPI document).
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


def lines_of(chunks: Iterable[str]) -> Iterator[str]:
    """Lines as the stream has them, empty ones included: they end events (httpx 0.23's iter_lines drops them)."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        *whole, pending = pending.split("\n")
        yield from whole
    if pending:
        yield pending


def parse_events(lines: Iterable[str]) -> Iterator[tuple[int | None, Any]]:
    """(id, decoded data) per event; comments (the keep-alives) and `retry:` fields are read and dropped."""
    event_id, data = None, []
    for line in lines:
        line = line.rstrip("\r")
        if not line:
            if data:
                yield event_id, json.loads("\n".join(data))
            data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "id" and value.isdigit():
            event_id = int(value)
    if data:
        yield event_id, json.loads("\n".join(data))
