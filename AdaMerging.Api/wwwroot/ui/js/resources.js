// The owner's checkpoints, heads and datasets: listed, uploaded with progress, deleted (a refusal shown in words).
import { all, api } from "./api.js";
import { age, busy, bytes, h, say } from "./dom.js";
import { uploadCheckpoint, uploadResource } from "./upload.js";

const count = n => n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} K` : String(n);

const KINDS = [
  { path: "/checkpoints", title: "Checkpoints", one: "checkpoint", multiple: true,
    hint: "A model folder's files: model.safetensors (or shards with their index, or a PyTorch .bin/.pt) and config.json; a text model's tokenizer (vocab.txt, tokenizer.json, tokenizer_config.json).",
    accept: ".safetensors,.json,.bin,.pt,.pth,.txt", describe: c => `${c.status}${c.parameterCount ? `, ${count(c.parameterCount)} parameters` : ""}` },
  { path: "/heads", title: "Heads", one: "head", hint: "A classification head: a .safetensors with weight (classes × features).",
    accept: ".safetensors", describe: x => `${x.classes} classes × ${x.featureSize}` },
  { path: "/datasets", title: "Datasets", one: "dataset",
    hint: "Images: a .safetensors (pixel_values, labels) or a .zip of class folders. Text: .jsonl ({\"text\": …, \"label\": …} per line) or .csv (text,label).",
    accept: ".safetensors,.zip,.jsonl,.csv", describe: x => `${x.count} ${examples[x.modality] ?? "examples"}${x.hasLabels === false ? ", unlabeled" : ""}` },
];

// What a dataset's examples are called, by its modality (the API's enum).
const examples = { images: "images", text: "texts", features: "feature vectors" };

// The digest a person compares: a head's or dataset's file, a checkpoint's weights file.
function digest(item) {
  if (item.sha256) return item.sha256;
  const files = item.files || [];
  return (files.find(f => /\.(safetensors|bin|pt|pth)$/.test(f.fileName)) || files[0] || {}).sha256 || "";
}

function table(kind, items, refresh) {
  if (items.length === 0) return h("p", { class: "empty" }, `No ${kind.one}s yet.`);
  const rows = items.map(item => {
    const message = h("span", { class: "message", role: "status", hidden: true });
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete ${kind.one} ${item.name}` }, "Delete");
    remove.addEventListener("click", () => busy(remove, message, async () => {
      if (!confirm(`Delete ${kind.one} "${item.name}"?`)) return;
      await api(`${kind.path}/${item.id}`, { method: "DELETE" });
      await refresh();
    }));
    const sha = digest(item);
    return h("tr", { dataset: { id: item.id } },
      h("td", {}, h("span", { class: "name" }, item.name), h("div", { class: "id" }, item.id)),
      h("td", { class: "number" }, bytes(item.bytes)),
      h("td", {}, kind.describe(item)),
      h("td", { class: "sha", title: sha }, h("code", {}, sha.slice(0, 12)), sha ? "…" : ""),
      h("td", { title: item.createdAt }, age(item.createdAt)),
      h("td", {}, remove, message));
  });
  return h("table", {},
    h("caption", { class: "visually-hidden" }, kind.title),
    h("thead", {}, h("tr", {}, ...["Name", "Size", "Holds", "SHA-256", "Created", ""].map(t => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows));
}

function uploader(kind, refresh) {
  const id = `upload-${kind.one}`;
  const files = h("input", { type: "file", id, accept: kind.accept, multiple: kind.multiple, required: true });
  const name = h("input", { type: "text", id: `${id}-name`, placeholder: "the file's name" });
  const bar = h("progress", { max: 1, value: 0, hidden: true, "aria-label": `${kind.one} upload progress` });
  const status = h("span", { class: "message", role: "status", hidden: true });
  const button = h("button", { type: "submit" }, `Upload ${kind.one}`);
  const cancel = h("button", { type: "button", hidden: true }, "Stop");
  let controller = null;
  cancel.addEventListener("click", () => controller?.abort());
  const form = h("form", { class: "upload" },
    h("label", { for: id }, `Upload ${kind.multiple ? "files" : "a file"}`), files,
    h("label", { for: `${id}-name` }, "Name"), name,
    button, cancel, bar, status,
    h("p", { class: "hint" }, kind.hint));
  form.addEventListener("submit", event => {
    event.preventDefault();
    const chosen = [...files.files];
    if (chosen.length === 0) return;
    controller = new AbortController();
    bar.hidden = false;
    cancel.hidden = false;
    const progress = p => {
      bar.max = p.total || 1;
      bar.value = p.done;
      say(status, p.phase === "reconnecting"
        ? `connection lost (${p.reason}); resuming from ${bytes(p.done)}, attempt ${p.attempt}…`
        : `${p.phase}${p.file ? ` ${p.file}` : ""}: ${bytes(p.done)} of ${bytes(p.total)}`);
    };
    busy(button, status, async () => {
      const label = name.value.trim() || chosen[0].name;
      const made = kind.multiple
        ? await uploadCheckpoint(label, chosen, progress, controller.signal)
        : await uploadResource(kind.one, label, chosen[0], progress, controller.signal);
      form.reset();
      await refresh();
      say(status, `uploaded ${made.name} (${made.id})`, "success");
    }).finally(() => { cancel.hidden = true; });
  });
  return form;
}

export async function resourcesView(root) {
  const sections = KINDS.map(kind => {
    const list = h("div", { class: "list" }, h("p", {}, "Loading…"));
    const section = h("section", { id: kind.path.slice(1), "aria-labelledby": `${kind.one}-title` },
      h("h2", { id: `${kind.one}-title` }, kind.title), list);
    const refresh = async () => {
      const items = await all(kind.path);
      list.replaceChildren(table(kind, items, refresh));
    };
    section.append(uploader(kind, refresh));
    return { section, refresh };
  });
  root.replaceChildren(h("h1", {}, "Resources"), ...sections.map(s => s.section));
  await Promise.all(sections.map(s => s.refresh()));
}
