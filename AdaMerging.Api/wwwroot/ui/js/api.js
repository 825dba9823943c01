// Every call the page makes to the service: the key from this browser session in X-Api-Key, JSON in and out, and
// refusals as ApiError carrying the ProblemDetails (title, detail, every problem in errors as {pointer, code, detail}).
const KEY = "adamerging.key";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }

  // The whole refusal in words: the detail, then each problem's.
  describe() {
    return [this.message, ...this.errors.map(e => e.detail).filter(d => d !== this.message)].join("\n");
  }
}

export const key = {
  get: () => sessionStorage.getItem(KEY),
  set: value => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export function headers(extra = {}) {
  return { "X-Api-Key": key.get() || "", ...extra };
}

// A problem from a response that is not ok; a body that is not ProblemDetails becomes its status line.
export async function problemOf(response) {
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    problem = { title: `${response.status} ${response.statusText}` };
  }
  if (response.status === 401) problem.detail = "the API key was not accepted: check it, or ask for a new one";
  if (response.status === 429) problem.detail = (problem.detail || "too many requests") + `; retry after ${response.headers.get("Retry-After") || "a few"} s`;
  return new ApiError(response.status, problem);
}

export async function api(path, { method = "GET", body, json, signal, raw = false } = {}) {
  const init = { method, headers: headers(), signal };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await problemOf(response);
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

// Every page of a cursor-paged list (checkpoints, heads, datasets).
export async function all(path) {
  const items = [];
  let after = null;
  for (;;) {
    const page = await api(`${path}?limit=100${after ? `&after=${after}` : ""}`);
    items.push(...page.data);
    if (!page.hasMore || !page.lastId) return items;
    after = page.lastId;
  }
}

// A link to one result of a merge that a browser can follow without the key (POST /merges/{id}/links).
export async function downloadLink(mergeId, file) {
  const link = await api(`/merges/${mergeId}/links`, { method: "POST", json: { file } });
  return link.url;
}

// Server-sent events read with fetch (EventSource cannot send the key): calls onEvent(type, data) until the stream
// ends, resuming after the last id when the connection drops, until the signal aborts.
export async function follow(path, onEvent, signal) {
  let last = 0;
  while (!signal.aborted) {
    try {
      const response = await fetch(`${path}?after=${last}`, { headers: headers({ Accept: "text/event-stream" }), signal });
      if (!response.ok) throw await problemOf(response);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (message.id) last = message.id;
          if (message.data) onEvent(message.event, JSON.parse(message.data));
        }
      }
    } catch (e) {
      if (signal.aborted || e instanceof ApiError) throw e;
      await new Promise(r => setTimeout(r, 1000)); // the connection dropped: resume after the last event
    }
  }
}

function parseEvent(text) {
  const message = {};
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) message[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
  }
  return message;
}
