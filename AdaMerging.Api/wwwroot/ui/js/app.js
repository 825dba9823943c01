// The page's entry: sign in with an API key (kept for this browser session only), then one view per address:
// #/resources, #/new, #/merges, #/merges/{id}, #/experiments, #/experiments/{id}.
import { api, ApiError, key } from "./api.js";
import { h, say } from "./dom.js";
import { mergeFormView } from "./merge-form.js";
import { mergePageView } from "./merge-page.js";
import { mergesView } from "./merges.js";
import { experimentView, experimentsView } from "./experiments.js";
import { resourcesView } from "./resources.js";

const main = document.getElementById("view");
const nav = document.getElementById("nav");
let cleanup = null;

const navigate = address => {
  if (location.hash === address) route();
  else location.hash = address;
};

function signIn(reason) {
  nav.hidden = true;
  const input = h("input", { type: "password", id: "api-key", autocomplete: "off", required: true, "aria-describedby": "sign-in-message" });
  const message = h("p", { class: "message", id: "sign-in-message", role: "alert", hidden: true });
  const form = h("form", { id: "sign-in" },
    h("h1", {}, "Sign in"),
    h("p", {}, "Paste your API key. It is kept in this tab only and sent with each request as X-Api-Key."),
    h("label", { for: "api-key" }, "API key"), input,
    h("button", { type: "submit", class: "primary" }, "Sign in"), message);
  if (reason) say(message, reason, "error");
  form.addEventListener("submit", async event => {
    event.preventDefault();
    key.set(input.value.trim());
    try {
      await api("/checkpoints?limit=1");
      route();
    } catch (e) {
      key.clear();
      say(message, e instanceof ApiError && e.status === 401 ? "That API key was not accepted: check it, or ask for a new one." : e.message, "error");
    }
  });
  main.replaceChildren(form);
  input.focus();
}

async function route() {
  cleanup?.();
  cleanup = null;
  if (!key.get()) return signIn();
  nav.hidden = false;
  const [path, query] = (location.hash.slice(1) || "/merges").split("?");
  const params = new URLSearchParams(query || "");
  for (const link of nav.querySelectorAll("a")) link.toggleAttribute("aria-current", path.startsWith(link.getAttribute("href").slice(1)));
  main.replaceChildren(h("p", { role: "status" }, "Loading…"));
  try {
    const merge = /^\/merges\/([0-9a-f-]{36})$/.exec(path);
    const experiment = /^\/experiments\/([0-9a-f-]{36})$/.exec(path);
    if (merge) cleanup = await mergePageView(main, navigate, merge[1]);
    else if (experiment) cleanup = await experimentView(main, experiment[1]);
    else if (path === "/experiments") await experimentsView(main);
    else if (path === "/resources") await resourcesView(main);
    else if (path === "/new") await mergeFormView(main, navigate);
    else cleanup = await mergesView(main, navigate, params);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { key.clear(); return signIn("Your API key is no longer accepted; sign in again."); }
    main.replaceChildren(h("p", { class: "message error", role: "alert" }, e.describe ? e.describe() : String(e)));
  }
}

document.getElementById("sign-out").addEventListener("click", () => { key.clear(); navigate("#/merges"); route(); });
window.addEventListener("hashchange", route);
route();
