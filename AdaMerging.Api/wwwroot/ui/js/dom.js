// Building the page's elements without markup strings (nothing from the service is ever parsed as HTML).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter(c => c !== null && c !== undefined && c !== false));
  return element;
}

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children.flat().filter(Boolean));
  return element;
}

export function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "";
  seconds = Math.round(seconds);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function age(iso) {
  return iso ? `${duration((Date.now() - Date.parse(iso)) / 1000)} ago` : "";
}

export function percent(value) {
  return value === null || value === undefined ? "–" : (100 * value).toFixed(1);
}

// A status line under a control: role=status so screen readers hear it; "error" styles a refusal.
export function say(element, text, kind = "info") {
  element.textContent = text;
  element.className = `message ${kind}`;
  element.hidden = !text;
}

// Runs an action from a button: disables it meanwhile, reports a refusal in words in the given element.
export async function busy(button, message, action) {
  button.disabled = true;
  say(message, "");
  try {
    return await action();
  } catch (e) {
    say(message, e.describe ? e.describe() : String(e.message || e), "error");
    return undefined;
  } finally {
    button.disabled = false;
  }
}
