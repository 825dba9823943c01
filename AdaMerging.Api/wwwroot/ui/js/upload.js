// Uploads that survive a dropped connection: every file goes as a tus resumable upload (docs/api.md, "Resumable
// uploads"), a checkpoint's files into the open checkpoint, a head or dataset as itself. Each is hashed first (the
// server checks the digest), sent in 16 MB PATCHes, and after a failure the server's offset (HEAD) says where to go
// on; the upload's address is remembered in this browser, so even a reload of the page resumes it.
import { ApiError, api, headers, problemOf } from "./api.js";
import { sha256OfFile } from "./sha256.js";

const TUS = "1.0.0";
const CHUNK = 16 << 20;
const MAX_FAILURES = 30;

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); reject(new DOMException("cancelled", "AbortError")); });
});

const base64 = text => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

// Each attempt after a failure waits longer, up to 15 s; a refusal (4xx but a stale offset) is not retried.
function retryable(e) {
  return !(e instanceof ApiError) || e.status >= 500 || e.status === 409 || e.status === 423 || e.status === 429;
}

// One request through XMLHttpRequest, whose upload progress fetch does not report; resolves with the xhr.
function send(method, url, requestHeaders, body, onSent, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(requestHeaders)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = e => onSent?.(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr);
      let problem;
      try { problem = JSON.parse(xhr.responseText); } catch { problem = { title: `HTTP ${xhr.status}` }; }
      if (xhr.status === 401) problem.detail = "the API key was not accepted";
      reject(new ApiError(xhr.status, problem));
    };
    xhr.onerror = () => reject(new Error("the connection dropped"));
    xhr.onabort = () => reject(new DOMException("cancelled", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}

async function serverOffset(location, signal) {
  const response = await fetch(location, { method: "HEAD", headers: headers({ "Tus-Resumable": TUS }), signal });
  if (!response.ok) throw await problemOf(response);
  return Number(response.headers.get("Upload-Offset"));
}

async function createUpload(metadata, file, signal) {
  const response = await fetch("/uploads", {
    method: "POST", signal,
    headers: headers({
      "Tus-Resumable": TUS, "Upload-Length": String(file.size),
      "Upload-Metadata": Object.entries(metadata).map(([k, v]) => `${k} ${base64(v)}`).join(","),
    }),
  });
  if (!response.ok) throw await problemOf(response);
  return response.headers.get("Location");
}

// One file as a tus upload whose metadata says where it goes (checkpoint, or resource and name); resolves with the
// upload's address once the last byte is in. onProgress({ phase: hashing|uploading|reconnecting|uploaded, done, total }).
async function uploadResumable(target, file, onProgress, signal) {
  const total = file.size;
  const sha256 = await sha256OfFile(file, done => onProgress({ phase: "hashing", done, total }), signal);
  const remembered = `adamerging.upload:${JSON.stringify(target)}:${file.name}:${sha256}`;
  let location = localStorage.getItem(remembered);
  let offset = 0;
  if (location) offset = await serverOffset(location, signal).catch(() => (location = null, 0)); // expired or gone: start again
  if (!location) {
    location = await createUpload({ ...target, filename: file.name, sha256 }, file, signal);
    localStorage.setItem(remembered, location);
  }
  let failures = 0;
  do {
    try {
      const end = Math.min(total, offset + CHUNK);
      const xhr = await send("PATCH", location,
        headers({ "Tus-Resumable": TUS, "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }),
        file.slice(offset, end), sent => onProgress({ phase: "uploading", done: offset + sent, total }), signal);
      offset = Number(xhr.getResponseHeader("Upload-Offset") ?? end);
      failures = 0;
    } catch (e) {
      if (signal?.aborted || !retryable(e) || ++failures > MAX_FAILURES) { localStorage.removeItem(remembered); throw e; }
      onProgress({ phase: "reconnecting", done: offset, total, attempt: failures, reason: e.message });
      await sleep(Math.min(15000, 250 * 2 ** Math.min(failures, 6)), signal);
      offset = await serverOffset(location, signal).catch(() => offset);
    }
  } while (offset < total);
  localStorage.removeItem(remembered);
  onProgress({ phase: "uploaded", done: total, total });
  return location;
}

// A checkpoint from a model folder's files: open, each file resumable, seal (which checks them as a whole).
export async function uploadCheckpoint(name, files, onProgress, signal) {
  const checkpoint = await api(`/checkpoints/open?name=${encodeURIComponent(name)}`, { method: "POST", signal });
  try {
    const total = files.reduce((sum, f) => sum + f.size, 0);
    let before = 0;
    for (const file of files) {
      await uploadResumable({ checkpoint: checkpoint.id }, file, p => onProgress({ ...p, file: file.name, done: before + p.done, total }), signal);
      before += file.size;
    }
    onProgress({ phase: "checking", done: total, total });
    return await api(`/checkpoints/${checkpoint.id}/seal`, { method: "POST", signal });
  } catch (e) {
    // Nothing half-made stays behind: the open checkpoint and its partial uploads go.
    await api(`/checkpoints/${checkpoint.id}`, { method: "DELETE" }).catch(() => {});
    throw e;
  }
}

// A head or a dataset ("head" or "dataset"), resumable like a checkpoint's files; resolves with the new resource.
export async function uploadResource(resource, name, file, onProgress, signal) {
  const location = await uploadResumable({ resource, name: name || file.name }, file, onProgress, signal);
  const upload = await api(location, { signal });
  return api(upload.resource, { signal });
}
