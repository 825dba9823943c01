"""The half of generate.py that writes adamerging/_operations.py: one method per operation of docs/openapi.json."""
import textwrap

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
TEXT_TYPES = ("text/csv", "text/markdown", "text/plain")


def python_type(schema: dict) -> str:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if kind == "boolean":
        return "bool"
    if fmt == "date-time":
        return "datetime | str"
    return "str"


def returns(operation: dict, ref_name) -> tuple[str, str]:
    """(what _call decodes, the Python return type) from the first success response."""
    code, response = next((c, r) for c, r in operation["responses"].items() if c.startswith("2"))
    content = response.get("content", {})
    if not content:
        return '("headers", None)', "httpx.Headers"
    media, body = next(iter(content.items()))
    schema = body.get("schema", {})
    if media == "application/json":
        if ref_name(schema):
            return f'("model", {ref_name(schema)!r})', ref_name(schema)
        if schema.get("type") == "array" and ref_name(schema.get("items", {})):
            inner = ref_name(schema["items"])
            return f'("models", {inner!r})', f"list[{inner}]"
        return '("json", None)', "Any"
    if media == "text/event-stream":
        return '("events", "MergeEventResponse")', "Iterator[MergeEventResponse]"
    if media in TEXT_TYPES:
        return '("text", None)', "str"
    return '("bytes", None)', "bytes | Path"


def request_body(operation: dict, ref_name) -> tuple[list[str], list[str], str | None]:
    """(signature parts, _call arguments, multipart field) for the request body."""
    body = operation.get("requestBody")
    if not body:
        return [], [], None
    content = body["content"]
    if "application/json" in content and len(content) == 1:
        ref = ref_name(content["application/json"]["schema"])
        return [f"body: {ref} | dict[str, Any]"], ["json=body"], None
    sig, call, field = ["content: Content | None = None"], ["content=content"], None
    if "multipart/form-data" in content:
        props = content["multipart/form-data"]["schema"]["properties"]
        field = next(iter(props))
        many = props[field].get("type") == "array"
        sig.append("files: Sequence[str | PathLike[str]] | None = None" if many else "file: str | PathLike[str] | None = None")
        call.append(f"multipart=({field!r}, {'files' if many else '[file] if file is not None else None'})")
    return sig, call, field


def render_operation(path: str, verb: str, op: dict, snake, ref_name, own_headers) -> list[str]:
    name = snake(op["operationId"])
    positional, keywords, path_args, query_args, header_args = ["self"], [], [], [], []
    for p in op.get("parameters", []):
        if p["in"] == "header" and p["name"] in own_headers:
            continue
        arg, kind = snake(p["name"]), python_type(p.get("schema", {}))
        target = {"path": path_args, "query": query_args, "header": header_args}[p["in"]]
        target.append(f"{p['name']!r}: {arg}")
        if p["in"] == "path":
            positional.append(f"{arg}: {kind}")
        elif p.get("required"):
            keywords.insert(0, f"{arg}: {kind}")
        else:
            keywords.append(f"{arg}: {kind} | None = None")
    body_sig, body_call, _ = request_body(op, ref_name)
    decode, result = returns(op, ref_name)
    if result == "bytes | Path":
        keywords.append("to: str | PathLike[str] | None = None")
        body_call.append("to=to")
    statuses = op["responses"]
    if "304" in statuses:
        result += " | None"
    signature = positional + [s for s in body_sig if s.startswith("body")]
    rest = [s for s in body_sig if not s.startswith("body")] + keywords
    if rest:
        signature += ["*"] + rest
    doc = f"{op.get('summary', op['operationId'])} ({verb.upper()} {path})."
    notes = []
    if "304" in statuses:
        notes.append("None when If-None-Match matches (304).")
    if result.startswith("bytes"):
        notes.append("The body as bytes, or streamed into the file `to` (returned as its Path).")
    if result.startswith("Iterator"):
        notes.append("The events as they arrive, until the merge ends (the stream closes).")
    args = [repr(verb.upper()), repr(path), f"path={{{', '.join(path_args)}}}"]
    if query_args:
        args.append(f"query={{{', '.join(query_args)}}}")
    if header_args:
        args.append(f"headers={{{', '.join(header_args)}}}")
    args += body_call + [f"returns={decode}"]
    if "Idempotency-Key" in (p["name"] for p in op.get("parameters", [])):
        args.append("idempotent=True")
    head = f"    def {name}({', '.join(signature)}) -> {result}:"
    if len(head) > 120:
        head = f"    def {name}(\n" + "".join(f"        {s},\n" for s in signature) + f"    ) -> {result}:"
    lines = [head, f'        """{doc}']
    if notes:
        lines += [""] + [f"        {n}" for n in notes]
    lines.append('        """')
    call = f"return self._call({', '.join(args)})"
    lines += textwrap.wrap(call, 118, initial_indent="        ", subsequent_indent="            ", break_on_hyphens=False)
    return lines + [""]


def render_operations(spec: dict, models, snake, ref_name, banner: str, own_headers: set[str]) -> str:
    out = [banner, '"""One method per operation of docs/openapi.json, named after its operationId (snake_case)."""',
           "from __future__ import annotations", "", "from collections.abc import Iterator, Sequence",
           "from datetime import datetime", "from os import PathLike", "from pathlib import Path",
           "from typing import Any", "", "import httpx", "", "from ._models import *  # noqa: F403 (every schema is a return type)",
           "from ._wire import Content", "", "", "class Operations:",
           '    """Every operation of the API as a typed call; Client adds uploads, waiting and downloads on top."""', "",
           "    def _call(self, verb: str, path: str, **kwargs: Any) -> Any:",
           "        raise NotImplementedError", "", ]
    ids = []
    for path, item in spec["paths"].items():
        for verb in METHODS:
            if verb in item:
                out += render_operation(path, verb, item[verb], snake, ref_name, own_headers)
                ids.append(item[verb]["operationId"])
    out += ["", "OPERATION_IDS = ("] + [f"    {i!r}," for i in ids] + [")", ""]
    return "\n".join(out)
