// A succeeded merge's results: accuracy beside the baselines, λ heatmap, objective curve, downloads, model card.
import { api, downloadLink } from "./api.js";
import { bytes, h, percent } from "./dom.js";
import { heatmap, lineChart } from "./charts.js";
import { markdown } from "./markdown.js";

function accuracyTable(report) {
  const columns = [["merged", "Merged"], ["base", "Pre-trained"], ["individual", "Individual (fine-tuned)"], ["taskArithmetic", "Task arithmetic"]];
  const row = (label, a, cls) => h("tr", { class: cls }, h("th", { scope: "row" }, label), columns.map(([key]) => h("td", { class: "number" }, percent(a?.[key]))));
  return h("table", { id: "accuracy" },
    h("caption", {}, "Top-1 accuracy (%) on each task's evaluation data"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Task"), columns.map(([, title]) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, report.accuracy.map(a => row(a.task, a)), report.average ? row("Average", report.average, "average") : null));
}

// Each file by a signed link: the browser's own download (straight to disk, resumable), no key in the URL's holder's hands for long.
function downloads(merge) {
  const list = h("ul", { id: "downloads" });
  const entries = [...(merge.links.model ? [["model.safetensors", "Merged model (model.safetensors)"]] : []), ["archive", "Everything as one zip"],
    ...merge.files.filter(f => f.fileName !== "model.safetensors").map(f => [f.fileName, `${f.fileName} (${bytes(f.bytes)})`])];
  for (const [file, label] of entries) {
    const sha = merge.files.find(f => f.fileName === file)?.sha256;
    const button = h("button", { type: "button", dataset: { file } }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const anchor = h("a", { href: await downloadLink(merge.id, file), download: file === "archive" ? `merged-${merge.id}.zip` : file, hidden: true });
        document.body.append(anchor);
        anchor.click();
        anchor.remove();
      } finally {
        button.disabled = false;
      }
    });
    list.append(h("li", {}, button, sha ? h("code", { class: "sha", title: "SHA-256" }, ` ${sha}`) : null));
  }
  return list;
}

export async function results(merge) {
  const report = await api(`/merges/${merge.id}/report`);
  const section = h("section", { id: "results", "aria-labelledby": "results-title" }, h("h2", { id: "results-title" }, "Results"));
  if (report.accuracy?.length) section.append(accuracyTable(report));
  else section.append(h("p", {}, "No evaluation data was given, so no accuracy was measured."));
  if (report.coefficients?.length) section.append(h("h3", {}, "Coefficients"), heatmap(report.coefficients, report.taskNames));
  if (report.objectivePerStep?.length) {
    const curve = lineChart(report.objectivePerStep.map((v, i) => [i + 1, v]));
    section.append(h("h3", {}, "Objective"), h("figure", { id: "objective-curve" }, curve.element, h("figcaption", {}, "Mean entropy per step")));
  }
  section.append(h("h3", {}, "Downloads"), downloads(merge));
  if (merge.files.some(f => f.fileName === "README.md")) {
    const card = await api(`/merges/${merge.id}/files/README.md`, { raw: true }).then(r => r.text());
    const images = (file, alt) => {
      const image = h("img", { alt, class: "card-plot" });
      if (merge.files.some(f => f.fileName === file)) downloadLink(merge.id, file).then(url => { image.src = url; });
      return image;
    };
    section.append(h("h3", {}, "Model card"), h("article", { class: "model-card", id: "model-card" }, markdown(card, images)));
  }
  return section;
}
