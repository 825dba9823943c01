"""JSON to dataclasses and back, by the field metadata generate.py writes (the wire name and what a field holds)."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any, ClassVar, Union

#: What an upload's body may be: bytes, an open binary file, or chunks.
Content = Union[bytes, IO[bytes], Iterable[bytes]]


def _models() -> dict[str, type[Model]]:
    from ._models import MODELS  # the generated table of every schema
    return MODELS


def parse_time(value: str) -> datetime:
    # .NET writes up to 7 fractional digits; fromisoformat (3.11) takes any number and keeps microseconds.
    return datetime.fromisoformat(value)


class Model:
    """A schema of the API. Fields the server adds after this client was generated are kept in `extra`."""

    extra: ClassVar[dict[str, Any]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Any:
        values, known = {}, set()
        for f in dataclasses.fields(cls):
            name = f.metadata["json"]
            known.add(name)
            if name in data:
                values[f.name] = _decode(f.metadata, data[name])
        instance = cls(**{f.name: values.get(f.name) for f in dataclasses.fields(cls)})
        object.__setattr__(instance, "extra", {k: v for k, v in data.items() if k not in known})
        return instance

    def to_json(self) -> dict[str, Any]:
        """The request body: wire names, None left out (an absent field takes the service's default)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.metadata["json"]] = encode(value)
        return out


def _decode(meta: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = meta.get("kind")
    if kind == "model":
        return _models()[meta["ref"]].from_json(value)
    if kind == "models":
        return [_models()[meta["ref"]].from_json(v) for v in value]
    if kind == "model_map":
        return {k: _models()[meta["ref"]].from_json(v) for k, v in value.items()}
    if kind == "datetime":
        return parse_time(value)
    if kind == "datetimes":
        return [parse_time(v) for v in value]
    return value


def decode(model: str, data: Any) -> Any:
    return _models()[model].from_json(data)


def encode(value: Any) -> Any:
    """A request value as JSON: models by their wire names, datetimes as RFC 3339, the rest as it is."""
    if isinstance(value, Model):
        return value.to_json()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value
