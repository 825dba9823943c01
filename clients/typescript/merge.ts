// A whole merge from TypeScript, typed by openapi-typescript from docs/openapi.json and called through openapi-fetch:
// the base file by file, the tasks in one request each, submit, follow, list by cursor, download and check, and a
// problem read by its code. Usage: node dist/merge.js URL KEY BASE_CONFIG BASE_MODEL TASK_MODEL...
import createClient from "openapi-fetch";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { components, paths } from "./schema.js";

type Merge = components["schemas"]["MergeResponse"];

const [url, key, baseConfig, baseModel, ...taskModels] = process.argv.slice(2);
if (!url || !key || !baseConfig || !baseModel || taskModels.length === 0) throw new Error("usage: URL KEY BASE_CONFIG BASE_MODEL TASK_MODEL...");
const api = createClient<paths>({ baseUrl: url, headers: { "X-Api-Key": key } });

// A file goes as the raw body (the document types binary bodies as strings; the bytes are sent as they are).
const file = async (path: string) => ({
  body: (await readFile(path)) as unknown as string,
  bodySerializer: (body: unknown) => body as BodyInit,
  headers: { "Content-Type": "application/octet-stream" },
});

function must<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) throw new Error(`${what}: ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

const opened = must(await api.POST("/checkpoints/open", { params: { query: { name: "base" } } }), "open the base");
must(await api.PUT("/checkpoints/{id}/files/{fileName}", { params: { path: { id: opened.id, fileName: "config.json" } }, ...(await file(baseConfig)) }), "config.json");
must(await api.PUT("/checkpoints/{id}/files/{fileName}", { params: { path: { id: opened.id, fileName: "model.safetensors" } }, ...(await file(baseModel)) }), "model");
const base = must(await api.POST("/checkpoints/{id}/seal", { params: { path: { id: opened.id } } }), "seal");

const tasks: components["schemas"]["MergeTask"][] = [];
for (const [k, path] of taskModels.entries()) {
  const checkpoint = must(await api.POST("/checkpoints", { params: { query: { name: `task${k}` } }, ...(await file(path)) }), `task ${k}`);
  tasks.push({ name: `task${k}`, checkpoint: checkpoint.id });
}

const submitted = must(await api.POST("/merges", { body: { method: "task_arithmetic", base: base.id, tasks, options: { lambda: 0.3 } } }), "submit");
let merge: Merge = submitted;
const deadline = Date.now() + 180_000;
while (merge.status === "queued" || merge.status === "running") {
  if (Date.now() > deadline) throw new Error(`merge ${merge.id} did not finish`);
  await new Promise(resolve => setTimeout(resolve, 200));
  merge = must(await api.GET("/merges/{id}", { params: { path: { id: merge.id } } }), "poll");
}

const listed = must(await api.GET("/merges", { params: { query: { limit: 1 } } }), "list");
const events = must(await api.GET("/merges/{id}/events", { params: { path: { id: merge.id } } }), "events");
const model = must(await api.GET("/merges/{id}/model", { params: { path: { id: merge.id } }, parseAs: "arrayBuffer" }), "download") as unknown as ArrayBuffer;
const sha256 = createHash("sha256").update(new Uint8Array(model)).digest("hex");
const missing = await api.GET("/merges/{id}", { params: { path: { id: "00000000-0000-4000-8000-000000000000" } } });

console.log(JSON.stringify({
  merge: merge.id,
  status: merge.status,
  listedFirst: listed.data[0]?.id,
  lastEvent: events.data.at(-1)?.type,
  modelMatches: merge.files.find(f => f.fileName === "model.safetensors")?.sha256 === sha256,
  problemCode: missing.error?.code,
}));
