"""The CLI's merge configuration, a YAML file in mergekit's spirit (clients/python/README.md):

    base: ./clip-vit-b32                # a model folder or file, or the id of a stored checkpoint
    method: adamerging                  # mergekit's merge_method is read too
    options: {granularity: layer, steps: 100}   # or parameters:
    models:
      - name: mnist
        model: ./finetuned/mnist        # folder, file or checkpoint id
        head: ./heads/mnist.safetensors # file or head id
        data: ./data/mnist-unlabeled.safetensors        # adaptation data: file or dataset id
        evaluation: ./data/mnist-test.safetensors       # evaluation data: file or dataset id
    output: ./merged
    metadata: {project: demo}

Every problem is reported at once, each with where it is (`models[1].head`).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ALIASES = {"merge_method": "method", "base_model": "base", "parameters": "options", "tasks": "models"}
TOP = {"base", "method", "options", "models", "output", "metadata"}
PER_MODEL = {"name": None, "model": "checkpoint", "head": "head", "data": "dataset", "evaluation": "dataset"}
MODEL_ALIASES = {"checkpoint": "model", "adaptation_data": "data", "adaptationData": "data", "evaluation_data": "evaluation",
                 "evaluationData": "evaluation"}


class ConfigError(ValueError):
    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Input:
    """A stored resource named by id, or a local path uploaded unless the service already has its bytes."""

    kind: str   # checkpoint | head | dataset
    id: str | None = None
    path: Path | None = None


@dataclass
class TaskConfig:
    name: str
    model: Input
    head: Input | None = None
    data: Input | None = None
    evaluation: Input | None = None


@dataclass
class MergeConfig:
    base: Input
    method: str
    models: list[TaskConfig]
    options: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def _input(kind: str, value: Any, where: str, root: Path, problems: list[str]) -> Input | None:
    if isinstance(value, dict) and set(value) == {"id"}:
        value = value["id"]
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: a path or a stored {kind}'s id, not {value!r}")
        return None
    try:
        return Input(kind, id=str(uuid.UUID(value)))
    except ValueError:
        path = (root / value).expanduser()
        if not path.exists():
            problems.append(f"{where}: {path} does not exist")
            return None
        return Input(kind, path=path)


def load(path: str | Path) -> MergeConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(str(path), [f"not YAML: {e}"]) from e
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["the file must be a mapping (base, method, models, options, output)"])
    return parse(raw, path.parent, str(path))


def parse(raw: dict[str, Any], root: Path, source: str = "config") -> MergeConfig:
    problems: list[str] = []
    raw = {ALIASES.get(k, k): v for k, v in raw.items()}
    problems += [f"{k}: unknown key (expected one of {', '.join(sorted(TOP))})" for k in raw if k not in TOP]
    for key in ("base", "method", "models"):
        if key not in raw:
            problems.append(f"{key}: required")
    base = _input("checkpoint", raw["base"], "base", root, problems) if "base" in raw else None
    method = raw.get("method")
    if "method" in raw and not (isinstance(method, str) and re.fullmatch(r"[a-z_]+", method)):
        problems.append(f"method: a method's name such as adamerging or task_arithmetic, not {method!r}")
    for key in ("options", "metadata"):
        if not isinstance(raw.get(key, {}), dict):
            problems.append(f"{key}: a mapping")
    models = raw.get("models", [])
    if "models" in raw and (not isinstance(models, list) or not models):
        problems.append("models: a list of at least one model")
        models = []
    tasks = [t for k, m in enumerate(models) if (t := _task(k, m, root, problems)) is not None]
    names = [t.name for t in tasks]
    problems += [f"models: the name {n!r} is used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise ConfigError(source, problems)
    output = raw.get("output")
    return MergeConfig(base=base, method=method, models=tasks, options=dict(raw.get("options") or {}),
                       output=(root / output) if output else None,
                       metadata={str(k): str(v) for k, v in (raw.get("metadata") or {}).items()})


def _task(k: int, raw: Any, root: Path, problems: list[str]) -> TaskConfig | None:
    where = f"models[{k}]"
    if isinstance(raw, str):
        raw = {"model": raw}
    if not isinstance(raw, dict):
        problems.append(f"{where}: a mapping with model (and name, head, data, evaluation)")
        return None
    raw = {MODEL_ALIASES.get(key, key): v for key, v in raw.items()}
    before = len(problems)
    problems += [f"{where}.{key}: unknown key (expected one of {', '.join(PER_MODEL)})" for key in raw if key not in PER_MODEL]
    if "model" not in raw:
        problems.append(f"{where}.model: required")
        return None
    inputs = {key: _input(kind, raw[key], f"{where}.{key}", root, problems) for key, kind in PER_MODEL.items() if kind and key in raw}
    model = inputs["model"]
    name = raw.get("name") or (model.path.stem if model and model.path else f"task{k}")
    if len(problems) > before:
        return None
    return TaskConfig(str(name), model, inputs.get("head"), inputs.get("data"), inputs.get("evaluation"))
