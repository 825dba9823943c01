"""The library against a real service (run by AdaMerging.Tests/Client/PythonClientTests.cs): a tus upload cut half
way and resumed from the server's offset, lists paged by cursor and looked up by SHA-256, refusals as ApiProblem
with their codes and pointers, a download resumed from a .part file. Prints one JSON object of what it saw.
Usage: check_client.py URL KEY MODEL_FILE CONFIG_JSON WORK_DIR MERGE_ID"""
import hashlib
import json
import sys
from pathlib import Path

from adamerging import ApiProblem, Client, MergeResponse
from adamerging.uploads import sha256_of, tus_metadata

url, key, model, config, work, merge_id = sys.argv[1:7]
model, config, work = Path(model), Path(config), Path(work)
seen = {}

with Client(url, key) as client:
    # A resumable upload that stops after its first chunk (a cut connection), then resumes from HEAD's offset.
    client.chunk_bytes = 16 << 10
    opened = client.open_checkpoint(name="resumed")
    client.put_checkpoint_file(opened.id, "config.json", content=config.read_bytes())
    created = client.create_upload(upload_metadata=tus_metadata(checkpoint=opened.id, filename="model.safetensors",
                                                                sha256=sha256_of(model)), upload_length=model.stat().st_size)
    first = model.read_bytes()[:client.chunk_bytes]
    client.append_upload(created.id, upload_offset=0, content=first)
    seen["offsetAfterCut"] = int(client.get_upload_offset(created.id)["Upload-Offset"])
    progress = []
    done = client.resume_upload(created.id, model, on_progress=lambda name, d, t: progress.append(d))
    seen["firstResumedOffset"] = progress[0] if progress else None   # the first chunk after the cut starts at the server's offset
    seen["uploadComplete"] = done.complete
    sealed = client.seal_checkpoint(opened.id)
    seen["sealedStatus"] = sealed.status
    seen["storedSha256Matches"] = any(f.sha256 == hashlib.sha256(model.read_bytes()).hexdigest() for f in sealed.files)

    # Lists: one page at a time by cursor, every item once; ?sha256= finds what is stored.
    ids = [c.id for c in client.iterate(client.list_checkpoints, limit=1)]
    seen["pagedCheckpoints"] = len(ids)
    seen["pagedDistinct"] = len(set(ids)) == len(ids)
    seen["foundBySha256"] = [c.id for c in client.list_checkpoints(sha256=sha256_of(model)).data].count(opened.id) == 1
    seen["mergeIsTyped"] = isinstance(client.get_merge(merge_id), MergeResponse)

    # Refusals: a missing merge, and a request with several problems named at once.
    try:
        client.get_merge("00000000-0000-4000-8000-000000000000")
    except ApiProblem as e:
        seen["missingCode"], seen["missingStatus"] = e.code, e.status
    try:
        client.submit_merge({"method": "task_arithmetic", "base": opened.id, "tasks": [], "options": {"lambda": 99}})
    except ApiProblem as e:
        seen["invalidCode"] = e.code
        seen["invalidPointers"] = sorted(p.pointer for p in e.errors if p.pointer is not None)

    # A download cut part way resumes from its .part file (Range, If-Range) and is checked by SHA-256.
    merged = client.get_merge(merge_id)
    weights = max(merged.files, key=lambda f: f.bytes)
    whole = client.download_merge_file(merge_id, weights.file_name)
    target = work / "resumed"
    target.mkdir(exist_ok=True)
    (target / (weights.file_name + ".part")).write_bytes(whole[: len(whole) // 3])
    fetched = []
    client.download_merge(merge_id, target, on_progress=lambda name, d, t: fetched.append((name, d)))
    first_of_weights = next(d for name, d in fetched if name == weights.file_name)
    seen["downloadResumedPastCut"] = first_of_weights > len(whole) // 3
    seen["downloadMatches"] = (target / weights.file_name).read_bytes() == whole
    seen["noPartFileLeft"] = not any(p.suffix == ".part" for p in target.iterdir())

print(json.dumps(seen))
