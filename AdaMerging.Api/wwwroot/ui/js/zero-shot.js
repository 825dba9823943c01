// A zero-shot head built by the service from class names (POST /heads/zero-shot) with the base checkpoint's text
// tower, offered beside each task's head list; the new head is added to every list and chosen for this task.
import { api } from "./api.js";
import { busy, h, say } from "./dom.js";

let templateSets = null;

export function zeroShotButton(lists, headSelect, baseId) {
  const box = h("div", { class: "zero-shot", hidden: true });
  const open = h("button", { type: "button", class: "zero-shot-open", "aria-expanded": "false" }, "Build a zero-shot head…");
  open.addEventListener("click", async () => {
    box.hidden = !box.hidden;
    open.setAttribute("aria-expanded", String(!box.hidden));
    if (!box.hidden && box.childElementCount === 0) box.append(await form(lists, headSelect, baseId));
  });
  return h("span", {}, open, box);
}

async function form(lists, headSelect, baseId) {
  templateSets ??= await api("/heads/templates");
  const id = `${headSelect.id}-zs`;
  const classes = h("textarea", { id: `${id}-classes`, rows: 3, placeholder: "one class name per line, in label order" });
  const set = h("select", { id: `${id}-templates` }, templateSets.map(s => h("option", { value: s.name }, `${s.name} (${s.templates.length} prompts)`)));
  set.value = "generic";
  const message = h("p", { class: "message", role: "status", hidden: true });
  const build = h("button", { type: "button", id: `${id}-build` }, "Build head");
  build.addEventListener("click", () => busy(build, message, async () => {
    const names = classes.value.split("\n").map(s => s.trim()).filter(Boolean);
    const head = await api("/heads/zero-shot", { method: "POST", json: { checkpoint: baseId() || undefined, classNames: names, templateSet: set.value } });
    lists.heads.push(head);
    for (const select of document.querySelectorAll("select[id$='-head']"))
      select.append(h("option", { value: head.id }, `${head.name} (${head.id.slice(0, 8)})`));
    headSelect.value = head.id;
    say(message, `built ${head.name}: ${head.classes} classes`, "success");
  }));
  return h("div", {},
    h("label", { for: classes.id }, "Class names"), classes,
    h("label", { for: set.id }, "Prompt templates"), set,
    build, message,
    h("p", { class: "hint" }, "Uses the base checkpoint chosen above; it needs a CLIP text tower and its tokenizer files."));
}
