// Experiments (POST /experiments): the owner's list, and one experiment's comparison table with its plot and its CSV
// and Markdown, refreshed while a merge of it is unfinished.
import { api } from "./api.js";
import { age, h } from "./dom.js";

const UNFINISHED = ["queued", "running"];

export async function experimentsView(root) {
  const page = await api("/experiments?limit=100");
  root.replaceChildren(
    h("h1", {}, "Experiments"),
    h("p", {}, "Several methods on one set of inputs, compared (POST /experiments; see the API)."),
    page.data.length === 0 ? h("p", { role: "status" }, "No experiments yet.") : h("table", { id: "experiments" },
      h("thead", {}, h("tr", {}, ...["Experiment", "Status", "Methods", "Created"].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.data.map(e => h("tr", { dataset: { id: e.id, status: e.status } },
        h("td", {}, h("a", { href: `#/experiments/${e.id}` }, e.name)),
        h("td", {}, h("span", { class: `status ${e.status}` }, e.status.replace("_", " "))),
        h("td", {}, e.runs.map(r => r.label).join(", ")),
        h("td", { title: e.createdAt }, age(e.createdAt)))))));
}

function cell(value, metric) {
  if (value === null || value === undefined) return "";
  return metric === "accuracy" ? (100 * value).toFixed(1) : value.toFixed(2);
}

function table(experiment) {
  const c = experiment.comparison;
  const runs = new Map(experiment.runs.map(r => [r.label, r]));
  return h("table", { id: "comparison" },
    h("caption", {}, c.metric === "accuracy" ? "Top-1 accuracy (%) per task" : "Completion perplexity per task (lower is better)"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Row"), c.tasks.map(t => h("th", { scope: "col" }, t)),
      ["Average", "Merge (s)", "Evaluate (s)"].map(t => h("th", { scope: "col" }, t)))),
    h("tbody", {}, c.rows.map(r => h("tr", { class: r.mergeId ? "" : "baseline" },
      h("th", { scope: "row" }, r.mergeId ? h("a", { href: `#/merges/${r.mergeId}` }, r.label) : r.label,
        r.status && r.status !== "succeeded" ? h("span", { class: `status ${r.status}` }, ` ${runs.get(r.label)?.status ?? r.status}`) : null),
      r.tasks.map(v => h("td", { class: "number" }, cell(v, c.metric))),
      h("td", { class: "number" }, cell(r.average, c.metric)),
      h("td", { class: "number" }, r.mergeSeconds?.toFixed(1) ?? ""),
      h("td", { class: "number" }, r.evaluateSeconds?.toFixed(1) ?? "")))));
}

// A file of the experiment fetched with the key and offered as a download (no signed links for experiments).
function download(path, file, label) {
  const button = h("button", { type: "button", dataset: { file } }, label);
  button.addEventListener("click", async () => {
    const blob = await (await api(path, { raw: true })).blob();
    const anchor = h("a", { href: URL.createObjectURL(blob), download: file, hidden: true });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  });
  return button;
}

export async function experimentView(root, id) {
  let timer = null;
  const render = async () => {
    const e = await api(`/experiments/${id}`);
    const plot = h("img", { id: "comparison-plot", alt: "each row's average, as bars" });
    api(e.links.plot, { raw: true }).then(r => r.blob()).then(b => { plot.src = URL.createObjectURL(b); });
    root.replaceChildren(
      h("h1", {}, e.name),
      h("p", { role: "status" }, h("span", { class: `status ${e.status}`, id: "experiment-status" }, e.status.replace("_", " ")),
        ` · ${e.runs.filter(r => r.status === "succeeded").length} of ${e.runs.length} merges succeeded`),
      e.comparison.rows.length ? table(e) : h("p", {}, "The table appears when the first merge has succeeded."),
      h("figure", {}, plot),
      h("p", {}, download(e.links.csv, `experiment-${id}.csv`, "Table as CSV"), " ", download(e.links.markdown, `experiment-${id}.md`, "Table as Markdown")));
    if (e.runs.some(r => UNFINISHED.includes(r.status)) && root.isConnected) timer = setTimeout(render, 3000);
  };
  await render();
  return () => clearTimeout(timer);
}
