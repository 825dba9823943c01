// A merge method's options as form fields, built from the OpenAPI document's MergeOptions schema (types, defaults,
// ranges, allowed values, help), so that a method added to the service appears here without touching the page.
import { h } from "./dom.js";

let documentPromise = null;

// The parts of /swagger/v1/swagger.json the form needs: methods (name, summary, what tasks need) and options.
export function mergeSchema() {
  documentPromise ??= fetch("/swagger/v1/swagger.json").then(r => r.json()).then(doc => {
    const schemas = doc.components.schemas;
    const method = schemas.MergeRequest.properties.method;
    const options = schemas.MergeOptions;
    const info = method["x-merge-method-info"] || {};
    return {
      methods: method.enum.map(name => ({
        name, ...(info[name] || { summary: "" }), options: options["x-merge-methods"][name] || [],
        keyOptions: (options["x-merge-key-options"] || {})[name] || options["x-merge-methods"][name] || [],
      })),
      options: options.properties,
    };
  });
  return documentPromise;
}

// An option's help for one method: its own (x-method-help) where methods declare it differently, else the shared one.
const help = (schema, method) => schema["x-method-help"]?.[method] ?? (schema.description || "").replace(/ Used by: .*$/, "");

// The option's default for one method (x-default, or the method's entry of x-method-defaults).
const defaultOf = (schema, method) => schema["x-method-defaults"] ? schema["x-method-defaults"][method] : schema["x-default"];

function numberField(id, schema) {
  const attributes = { type: "number", id, step: schema.type === "integer" ? "1" : "any", placeholder: String(schema["x-default"] ?? "") };
  if (schema.minimum !== undefined) attributes.min = schema.minimum;
  if (schema.maximum !== undefined) attributes.max = schema.maximum;
  const input = h("input", attributes);
  return { input, read: () => input.value === "" ? undefined : Number(input.value) };
}

function choiceField(id, schema) {
  const select = h("select", { id },
    h("option", { value: "" }, `default (${schema["x-default"] ?? "none"})`),
    schema.enum.map(v => h("option", { value: v }, v)));
  return { input: select, read: () => select.value === "" ? undefined : select.value };
}

function booleanField(id, schema) {
  const select = h("select", { id },
    h("option", { value: "" }, `default (${schema["x-default"]})`), h("option", { value: "true" }, "true"), h("option", { value: "false" }, "false"));
  return { input: select, read: () => select.value === "" ? undefined : select.value === "true" };
}

function listField(id, schema) {
  const input = h("input", { type: "text", id, placeholder: (schema["x-default"] || []).join(", ") || "comma-separated patterns" });
  return { input, read: () => input.value.trim() === "" ? undefined : input.value.split(",").map(s => s.trim()).filter(Boolean) };
}

// A [low, high] range: two numbers, comma-separated (anything else goes as typed, and the service names what is wrong).
function numbersField(id, schema) {
  const input = h("input", { type: "text", id, placeholder: (schema["x-default"] || []).join(", ") || "low, high" });
  const read = () => {
    if (input.value.trim() === "") return undefined;
    const parts = input.value.split(",").map(s => s.trim());
    return parts.every(p => p !== "" && !Number.isNaN(Number(p))) ? parts.map(Number) : input.value;
  };
  return { input, read };
}

function jsonField(id) {
  const input = h("textarea", { id, rows: 2, placeholder: "JSON" });
  return {
    input,
    read: () => {
      if (input.value.trim() === "") return undefined;
      try { return JSON.parse(input.value); } catch { return input.value; } // the service names what is wrong with it
    },
  };
}

function textField(id) {
  const input = h("input", { type: "text", id });
  return { input, read: () => input.value.trim() === "" ? undefined : input.value.trim() };
}

function field(id, schema) {
  if (schema.enum) return choiceField(id, schema);
  if (schema.type === "number" || schema.type === "integer") return numberField(id, schema);
  if (schema.type === "boolean") return booleanField(id, schema);
  if (schema.type === "array" && schema.items?.type === "number") return numbersField(id, schema);
  if (schema.type === "array") return listField(id, schema);
  if (schema.format === "uuid") return textField(id);
  return jsonField(id);
}

function range(schema) {
  const low = schema.minimum !== undefined ? `${schema.exclusiveMinimum !== undefined ? ">" : "≥"} ${schema.minimum}` : null;
  const high = schema.maximum !== undefined ? `${schema.exclusiveMaximum !== undefined ? "<" : "≤"} ${schema.maximum}` : null;
  return [low, high].filter(Boolean).join(", ");
}

// The fields of one method's options, its key options first and the rest folded under "More options" (opened when
// one of them is refused); read() gives only those set (unset ones take the service's defaults).
export function optionFields(schema, method) {
  const fields = method.options.map(name => {
    const declared = schema.options[name];
    const option = { ...declared, "x-default": defaultOf(declared, method.name) };   // this method's default where methods differ
    const id = `option-${name}`;
    const { input, read } = field(id, option);
    const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
    input.setAttribute("aria-describedby", `${id}-help ${id}-error`);
    const limits = range(option);
    const row = h("div", { class: "option", dataset: { option: name } },
      h("label", { for: id }, name),
      input,
      h("p", { class: "hint", id: `${id}-help` }, help(declared, method.name), limits ? ` Range: ${limits}.` : ""),
      error);
    return { name, row, read, error };
  });
  const key = fields.filter(f => method.keyOptions.includes(f.name));
  const rest = fields.filter(f => !method.keyOptions.includes(f.name));
  const more = h("details", { class: "more-options" }, h("summary", {}, `More options (${rest.length})`), ...rest.map(f => f.row));
  return {
    rows: [...key.map(f => f.row), ...(rest.length ? [more] : [])],
    read: () => Object.fromEntries(fields.map(f => [f.name, f.read()]).filter(([, v]) => v !== undefined)),
    error: name => {
      if (rest.some(f => f.name === name)) more.open = true; // a refused option is never hidden
      return fields.find(f => f.name === name)?.error;
    },
  };
}
