"""Uploads: model folders file by file, large files as resumable (tus) uploads, and lookups by SHA-256 so that what
the service already stores is never sent again (docs/api.md, "Resumable uploads" and "Lists")."""
from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .problems import ApiProblem

#: (file name, bytes done, bytes in all): what an upload reports as it goes.
Progress = Callable[[str, int, int], None]
#: Files of a published model folder that are never part of a model (the service would list them as skipped).
NOT_MODEL = {"README.md", "training_args.bin", "optimizer.pt", "scheduler.pt", "trainer_state.json", "scaler.pt"}
SOURCE_DIGEST = "sourceSha256"   # metadata key: the digest of the local folder a checkpoint was uploaded from


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def model_files(path: str | Path) -> list[Path]:
    """A single file, or a folder's files as a repository publishes them, less hidden files, docs and training state."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".") and p.name not in NOT_MODEL
                   and not p.name.startswith("rng_state"))
    if not files:
        raise FileNotFoundError(f"{path}: the folder holds no model files")
    return files


def folder_digest(digests: dict[str, str]) -> str:
    """One SHA-256 over a folder's (name, SHA-256) pairs: what a checkpoint uploaded from it records."""
    return hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest()


def tus_metadata(**values: str | None) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items() if v is not None)


class Uploads:
    """Mixed into Client: needs the generated operations."""

    resumable_above = 32 << 20   # files larger than this go as tus uploads, in chunks
    chunk_bytes = 8 << 20

    # --- resumable uploads ----------------------------------------------------------------------------------------
    def upload_resumable(self, path: str | Path, *, checkpoint: str | None = None, resource: str | None = None,
                         name: str | None = None, file_name: str | None = None, sha256: str | None = None,
                         on_progress: Progress | None = None) -> Any:
        """One file as a tus upload into an open checkpoint, or as a new head or dataset (resource="head"|"dataset")."""
        path = Path(path)
        metadata = tus_metadata(checkpoint=checkpoint, resource=resource, name=name, filename=file_name or path.name,
                                sha256=sha256 or sha256_of(path))
        created = self.create_upload(upload_metadata=metadata, upload_length=path.stat().st_size)
        return self.resume_upload(created.id, path, on_progress=on_progress)

    def resume_upload(self, upload_id: str, path: str | Path, *, on_progress: Progress | None = None) -> Any:
        """Sends what the server does not have yet, from its Upload-Offset; a cut connection resumes where it stopped."""
        path, failures = Path(path), 0
        length = path.stat().st_size
        offset = int(self.get_upload_offset(upload_id)["Upload-Offset"])
        with open(path, "rb") as f:
            while offset < length:
                f.seek(offset)
                chunk = f.read(self.chunk_bytes)
                try:
                    offset = int(self.append_upload(upload_id, upload_offset=offset, content=chunk)["Upload-Offset"])
                    failures = 0
                except (httpx.TransportError, ApiProblem) as e:
                    # 409: the server has another offset (it kept what arrived of a cut PATCH); 423: a cut PATCH
                    # still holds the upload. Both, and a dropped connection, resume from the server's offset.
                    if isinstance(e, ApiProblem) and e.status not in (409, 423) or failures >= self.retries:
                        raise
                    failures += 1
                    time.sleep(0.5 * failures)
                    offset = int(self.get_upload_offset(upload_id)["Upload-Offset"])
                if on_progress:
                    on_progress(path.name, offset, length)
        return self.get_upload(upload_id)

    # --- checkpoints, heads, datasets -----------------------------------------------------------------------------
    def upload_checkpoint_folder(self, path: str | Path, *, name: str | None = None, on_progress: Progress | None = None) -> Any:
        """A model folder (or one weights file) as a sealed checkpoint: small files PUT, large ones resumable."""
        files = model_files(path)
        digests = {f.name: sha256_of(f) for f in files}
        opened = self.open_checkpoint(name=name or Path(path).stem)
        try:
            for f in files:
                size = f.stat().st_size
                if size > self.resumable_above:
                    self.upload_resumable(f, checkpoint=opened.id, sha256=digests[f.name], on_progress=on_progress)
                else:
                    with open(f, "rb") as body:
                        self.put_checkpoint_file(opened.id, f.name, content=body)
                    if on_progress:
                        on_progress(f.name, size, size)
            self.seal_checkpoint(opened.id)
            return self.update_checkpoint_metadata(opened.id, {"metadata": {SOURCE_DIGEST: folder_digest(digests)}})
        except ApiProblem:
            self.delete_checkpoint(opened.id)   # refused: no half checkpoint is left behind
            raise

    def find_checkpoint(self, path: str | Path) -> Any:
        """A sealed checkpoint with exactly this folder's files (or uploaded from it), else None."""
        files = model_files(path)
        digests = {f.name: sha256_of(f) for f in files}
        weights = max(files, key=lambda f: f.stat().st_size)
        for candidate in self.iterate(self.list_checkpoints, sha256=digests[weights.name]):
            stored = {f.file_name: f.sha256 for f in candidate.files}
            if candidate.status == "sealed" and (stored == digests or candidate.metadata.get(SOURCE_DIGEST) == folder_digest(digests)):
                return candidate
        return None

    def upload_stored_blob(self, kind: str, path: str | Path, *, name: str | None = None, on_progress: Progress | None = None) -> Any:
        """A head or dataset file (kind "head" or "dataset")."""
        path = Path(path)
        if path.stat().st_size > self.resumable_above:
            done = self.upload_resumable(path, resource=kind, name=name, on_progress=on_progress)
            return (self.get_head if kind == "head" else self.get_dataset)(done.resource.rsplit("/", 1)[1])
        # Multipart, so the file's name (and so its format: .safetensors, .jsonl, .csv, …) travels with it.
        return (self.upload_head if kind == "head" else self.upload_dataset)(file=path, name=name or path.stem)

    def find_stored_blob(self, kind: str, path: str | Path) -> Any:
        listing = self.list_heads if kind == "head" else self.list_datasets
        return next(iter(listing(sha256=sha256_of(Path(path)), limit=1).data), None)

    def ensure(self, kind: str, path: str | Path, *, name: str | None = None, on_progress: Progress | None = None) -> tuple[Any, bool]:
        """(the stored resource, whether it was uploaded now): what is stored already (by SHA-256) is not sent again."""
        found = self.find_checkpoint(path) if kind == "checkpoint" else self.find_stored_blob(kind, path)
        if found is not None:
            return found, False
        if kind == "checkpoint":
            return self.upload_checkpoint_folder(path, name=name, on_progress=on_progress), True
        return self.upload_stored_blob(kind, path, name=name, on_progress=on_progress), True

    def iterate(self, list_call: Callable[..., Any], **query: Any):
        """Every item of a list, page by page (cursor paging: ?after= the last page's lastId)."""
        after = None
        while True:
            page = list_call(after=after, **query)
            yield from page.data
            if not page.has_more:
                return
            after = page.last_id
