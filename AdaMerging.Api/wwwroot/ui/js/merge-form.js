// New merge: method and its options (from the OpenAPI document), base and tasks from the owner's lists, zero-shot
// heads from class names; the service's pre-flight refusals shown beside the field each concerns.
import { all, api, ApiError } from "./api.js";
import { busy, h, say } from "./dom.js";
import { mergeSchema, optionFields } from "./options.js";
import { zeroShotButton } from "./zero-shot.js";

// A dataset's choice says its modality (images, text), so a text model's tasks are offered its texts at a glance.
const choices = (items, empty) => [h("option", { value: "" }, empty),
  ...items.map(x => h("option", { value: x.id }, `${x.name} (${x.modality ? `${x.modality}, ` : ""}${x.id.slice(0, 8)})`))];

function taskRow(index, lists, onRemove) {
  const prefix = `task-${index}`;
  const select = (role, items, empty) => h("select", { id: `${prefix}-${role}`, "aria-label": `task ${index + 1} ${role}` }, choices(items, empty));
  const name = h("input", { type: "text", id: `${prefix}-name`, value: `task${index + 1}`, "aria-label": `task ${index + 1} name`, required: true });
  const checkpoint = select("checkpoint", lists.checkpoints, "choose a checkpoint");
  const head = select("head", lists.heads, "none");
  const adaptation = select("adaptation", lists.datasets, "none");
  const evaluation = select("evaluation", lists.datasets, "none");
  const error = h("p", { class: "field-error", id: `${prefix}-error`, role: "alert", hidden: true });
  for (const control of [name, checkpoint, head, adaptation, evaluation]) control.setAttribute("aria-describedby", error.id);
  const remove = h("button", { type: "button", "aria-label": `remove task ${index + 1}`, onclick: onRemove }, "Remove");
  const row = h("fieldset", { class: "task", dataset: { task: index } },
    h("legend", {}, `Task ${index + 1}`),
    h("label", { for: name.id }, "Name"), name,
    h("label", { for: checkpoint.id }, "Fine-tuned checkpoint"), checkpoint,
    h("label", { for: head.id }, "Head"), head, zeroShotButton(lists, head, () => lists.base()),
    h("label", { for: adaptation.id }, "Adaptation data (unlabeled)"), adaptation,
    h("label", { for: evaluation.id }, "Evaluation data (labeled)"), evaluation,
    remove, error);
  const id = s => s.value || undefined;
  return {
    row, error, name: () => name.value.trim(),
    read: () => ({ name: name.value.trim(), checkpoint: id(checkpoint), head: id(head), adaptationData: id(adaptation), evaluationData: id(evaluation) }),
  };
}

// Which field a problem concerns, from its JSON Pointer into the request (RFC 6901): /options/X, /tasks/i[/field],
// /base; null: the form as a whole. The detail's words are only shown, never read.
export function placeOf(pointer) {
  if (typeof pointer !== "string") return null;
  const tokens = pointer.split("/").slice(1).map(t => t.replaceAll("~1", "/").replaceAll("~0", "~"));
  const field = word => ({ adaptationData: "adaptation", evaluationData: "evaluation" })[word] ?? word;
  if (tokens[0] === "options" && tokens[1]) return { option: tokens[1] };
  if (tokens[0] === "tasks" && /^\d+$/.test(tokens[1] ?? "")) return { task: Number(tokens[1]), field: tokens[2] && field(tokens[2]) };
  if (tokens[0] === "base") return { base: true };
  return null;
}

export async function mergeFormView(root, navigate) {
  const [schema, checkpoints, heads, datasets] = await Promise.all([mergeSchema(), all("/checkpoints"), all("/heads"), all("/datasets")]);
  const sealed = checkpoints.filter(c => c.status === "sealed");
  const method = h("select", { id: "method" }, schema.methods.map(m => h("option", { value: m.name }, m.name)));
  const summary = h("p", { class: "hint", id: "method-help" });
  method.setAttribute("aria-describedby", "method-help");
  const base = h("select", { id: "base" }, choices(sealed, "choose the pre-trained checkpoint"));
  const baseError = h("p", { class: "field-error", id: "base-error", role: "alert", hidden: true });
  const lists = { checkpoints: sealed, heads, datasets, base: () => base.value };
  const optionsBox = h("div", { class: "options" });
  const tasksBox = h("div", { class: "tasks" });
  const message = h("div", { class: "message", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Submit merge");
  let options = null;
  let tasks = [];
  let created = 0; // task rows' ids stay unique when one is removed

  const showMethod = () => {
    const chosen = schema.methods.find(m => m.name === method.value);
    summary.textContent = chosen.summary + (chosen.needsAdaptationData
      ? ` Every task needs adaptation data${chosen.needsHeads ? " and a head" : ""}.` : "");
    options = optionFields(schema, chosen);
    optionsBox.replaceChildren(h("h2", {}, "Options"), ...(options.rows.length ? options.rows : [h("p", {}, "This method has no options.")]));
  };
  const redrawTasks = () => tasksBox.replaceChildren(...tasks.map(t => t.row));
  const addTask = () => {
    const task = taskRow(created++, lists, () => { tasks = tasks.filter(t => t !== task); redrawTasks(); });
    tasks.push(task);
    redrawTasks();
  };
  method.addEventListener("change", showMethod);
  const initial = schema.methods.find(m => m.name === "adamerging") ?? schema.methods[0];
  method.value = initial.name;
  showMethod();
  addTask();
  addTask();

  const clearErrors = () => {
    for (const e of root.querySelectorAll(".field-error")) { e.hidden = true; e.textContent = ""; }
    for (const e of root.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
  };
  const showProblems = error => {
    const general = [];
    for (const { pointer, detail: problem } of error.errors.length ? error.errors : [{ detail: error.message }]) {
      const place = placeOf(pointer);
      const target = place?.option ? options.error(place.option) : place?.task !== undefined ? tasks[place.task]?.error : place?.base ? baseError : null;
      if (!target) { general.push(problem); continue; }
      target.hidden = false;
      target.textContent = target.textContent ? `${target.textContent}\n${problem}` : problem;
      const box = target.closest(".option, .task, .base");
      const control = (place.field && box?.querySelector(`[id$='-${place.field}']`)) || box?.querySelector("input, select, textarea");
      control?.setAttribute("aria-invalid", "true");
    }
    say(message, [error.message, ...general.filter(g => g !== error.message)].join("\n"), "error");
  };

  const form = h("form", { id: "merge-form", novalidate: true },
    h("h1", {}, "New merge"),
    h("div", { class: "method" }, h("label", { for: "method" }, "Method"), method, summary),
    h("div", { class: "base" }, h("label", { for: "base" }, "Pre-trained (base) checkpoint"), base, baseError),
    h("h2", {}, "Tasks"), tasksBox,
    h("button", { type: "button", onclick: addTask }, "Add a task"),
    optionsBox, message, submit);
  form.addEventListener("submit", event => {
    event.preventDefault();
    clearErrors();
    const request = { method: method.value, base: base.value || undefined, tasks: tasks.map(t => t.read()), options: options.read() };
    busy(submit, message, async () => {
      try {
        const merge = await api("/merges", { method: "POST", json: request });
        navigate(`#/merges/${merge.id}`);
      } catch (e) {
        if (!(e instanceof ApiError) || e.status >= 500) throw e;
        showProblems(e);
      }
    });
  });
  root.replaceChildren(form);
}
