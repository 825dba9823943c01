// The owner's merges, newest first, filtered like GET /merges (status, method, created since), refreshed while any is
// unfinished.
import { api } from "./api.js";
import { age, h } from "./dom.js";
import { mergeSchema } from "./options.js";

const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"];

export function progressCell(merge) {
  const p = merge.progress;
  if (merge.status === "running" && p.totalSteps > 0)
    return h("span", {}, h("progress", { max: p.totalSteps, value: p.step, "aria-label": "steps done" }), ` ${p.step}/${p.totalSteps}`);
  return h("span", {}, p.phase && merge.status === "running" ? p.phase : "");
}

export async function mergesView(root, navigate, query) {
  const schema = await mergeSchema();
  const status = h("select", { id: "filter-status" }, h("option", { value: "" }, "any"), STATUSES.map(s => h("option", { value: s }, s)));
  const method = h("select", { id: "filter-method" }, h("option", { value: "" }, "any"), schema.methods.map(m => h("option", { value: m.name }, m.name)));
  const since = h("input", { type: "date", id: "filter-since" });
  status.value = query.get("status") || "";
  method.value = query.get("method") || "";
  since.value = query.get("since") || "";
  const body = h("tbody");
  const summary = h("p", { role: "status" });
  let timer = null;
  const load = async () => {
    clearTimeout(timer);
    const params = new URLSearchParams({ limit: "100" });
    if (status.value) params.set("status", status.value);
    if (method.value) params.set("method", method.value);
    if (since.value) params.set("createdAfter", new Date(`${since.value}T00:00:00`).toISOString()); // from that day's start, here
    const page = await api(`/merges?${params}`);
    summary.textContent = `${page.total} merge${page.total === 1 ? "" : "s"}${page.total > page.data.length ? `, the newest ${page.data.length} shown` : ""}`;
    body.replaceChildren(...page.data.map(m => h("tr", { dataset: { id: m.id, status: m.status } },
      h("td", {}, h("a", { href: `#/merges/${m.id}` }, m.metadata?.name || m.id.slice(0, 8))),
      h("td", {}, h("span", { class: `status ${m.status}` }, m.status)),
      h("td", {}, m.method, m.request?.options?.granularity ? ` (${m.request.options.granularity})` : ""),
      h("td", {}, `${m.request?.tasks?.length ?? "?"}`),
      h("td", {}, progressCell(m)),
      h("td", { title: m.createdAt }, age(m.createdAt)))));
    if (page.data.some(m => m.status === "queued" || m.status === "running") && root.isConnected) timer = setTimeout(load, 3000);
  };
  const filter = () => navigate(`#/merges?${new URLSearchParams([["status", status.value], ["method", method.value], ["since", since.value]].filter(([, v]) => v))}`);
  for (const control of [status, method, since]) control.addEventListener("change", filter);
  root.replaceChildren(
    h("h1", {}, "Merges"),
    h("div", { class: "filters" }, h("label", { for: "filter-status" }, "Status"), status, h("label", { for: "filter-method" }, "Method"), method,
      h("label", { for: "filter-since" }, "Created since"), since,
      h("a", { href: "#/new", class: "button" }, "New merge")),
    summary,
    h("table", { id: "merges" },
      h("thead", {}, h("tr", {}, ...["Merge", "Status", "Method", "Tasks", "Progress", "Created"].map(t => h("th", { scope: "col" }, t)))),
      body));
  await load();
  return () => clearTimeout(timer);
}
