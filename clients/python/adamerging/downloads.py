"""Following a merge to its end and downloading what it made, resuming cut downloads by Range and checking every
file's SHA-256 (docs/api.md, "Conditional and partial downloads")."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .problems import ApiProblem, MergeFailed
from .uploads import Progress, sha256_of


class Downloads:
    """Mixed into Client: needs the generated operations and the client's HTTP connection."""

    def wait(self, merge_id: str, *, on_event: Callable[[Any], None] | None = None, timeout: float | None = None) -> Any:
        """Follows the merge's events until it ends; its final state, or MergeFailed when it failed or was cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        failure = None
        for event in self.stream_merge_events(merge_id):
            if on_event:
                on_event(event)
            if event.error is not None:
                failure = event.error.code
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"merge {merge_id} had not ended after {timeout} s")
        merge = self.get_merge(merge_id)
        if merge.status != "succeeded":
            raise MergeFailed(merge, failure)
        return merge

    def download_merge(self, merge_id: str, directory: str | Path, *, on_progress: Progress | None = None) -> list[Path]:
        """Every file of the merged model folder (report.json included) into `directory`; files already there with
        the right SHA-256 are kept, a cut download resumes from its .part file."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        merge = self.get_merge(merge_id)
        return [self._download_file(merge_id, f.file_name, f.sha256, f.bytes, directory, on_progress) for f in merge.files]

    def _download_file(self, merge_id: str, name: str, sha256: str, size: int, directory: Path, on_progress: Progress | None) -> Path:
        target = directory / name
        if target.exists() and target.stat().st_size == size and sha256_of(target) == sha256:
            return target
        partial = target.with_name(name + ".part")
        for attempt in range(self.retries + 1):
            have = partial.stat().st_size if partial.exists() else 0
            headers = {"Range": f"bytes={have}-", "If-Range": f'"{sha256}"'} if 0 < have < size else {}
            try:
                with self._http.stream("GET", f"/merges/{merge_id}/files/{quote(name, safe='')}", headers=headers) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise ApiProblem.from_response(response)
                    mode = "ab" if response.status_code == 206 else "wb"   # 200: the whole file again
                    with open(partial, mode) as out:
                        done = have if mode == "ab" else 0
                        for chunk in response.iter_bytes(1 << 20):
                            out.write(chunk)
                            done += len(chunk)
                            if on_progress:
                                on_progress(name, done, size)
                break
            except Exception as e:  # a dropped connection: resume from what arrived
                if isinstance(e, ApiProblem) or attempt == self.retries:
                    raise
                time.sleep(0.5 * (attempt + 1))
        if sha256_of(partial) != sha256:
            partial.unlink()
            raise IOError(f"{name}: the downloaded bytes' SHA-256 is not the merge's ({sha256}); removed, download again")
        partial.replace(target)
        return target
