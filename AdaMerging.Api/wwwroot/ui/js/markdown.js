// The model card (README.md of the merged folder) as elements: headings, paragraphs, lists, tables, code and the
// plots it links, which are fetched through download links. Text only ever becomes text nodes, never HTML.
import { h } from "./dom.js";

function inline(text, images) {
  const parts = [];
  const pattern = /!\[([^\]]*)\]\(([^)]+)\)|`([^`]+)`|\*\*([^*]+)\*\*/g;
  let at = 0, m;
  while ((m = pattern.exec(text))) {
    parts.push(text.slice(at, m.index));
    if (m[1] !== undefined) parts.push(images(m[2], m[1]));
    else if (m[3] !== undefined) parts.push(h("code", {}, m[3]));
    else parts.push(h("strong", {}, m[4]));
    at = pattern.lastIndex;
  }
  parts.push(text.slice(at));
  return parts;
}

const cells = line => line.trim().replace(/^\||\|$/g, "").split("|").map(c => c.trim());

export function markdown(text, images) {
  const out = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    if (i === 0 && line === "---") { // front matter (the Hugging Face card's YAML): shown as it is
      const yaml = [];
      while (++i < lines.length && lines[i] !== "---") yaml.push(lines[i]);
      out.push(h("pre", { class: "front-matter" }, yaml.join("\n")));
      continue;
    }
    let m;
    if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) { out.push(h(`h${Math.min(6, m[1].length + 2)}`, {}, inline(m[2], images))); continue; }
    if (line.startsWith("```")) {
      const code = [];
      while (++i < lines.length && !lines[i].startsWith("```")) code.push(lines[i]);
      out.push(h("pre", {}, h("code", {}, code.join("\n"))));
      continue;
    }
    if (line.trim().startsWith("|") && i + 1 < lines.length && /^\s*\|?\s*:?-+/.test(lines[i + 1])) {
      const header = cells(line);
      const rows = [];
      for (i += 2; i < lines.length && lines[i].trim().startsWith("|"); i++) rows.push(cells(lines[i]));
      i--;
      out.push(h("table", {}, h("thead", {}, h("tr", {}, header.map(c => h("th", { scope: "col" }, inline(c, images))))),
        h("tbody", {}, rows.map(r => h("tr", {}, r.map(c => h("td", {}, inline(c, images))))))));
      continue;
    }
    if (/^\s*[-*]\s+/.test(line)) {
      const items = [];
      for (; i < lines.length && /^\s*[-*]\s+/.test(lines[i]); i++) items.push(h("li", {}, inline(lines[i].replace(/^\s*[-*]\s+/, ""), images)));
      i--;
      out.push(h("ul", {}, items));
      continue;
    }
    const paragraph = [line];
    while (i + 1 < lines.length && lines[i + 1].trim() !== "" && !/^(#|```|\s*[-*]\s|\s*\|)/.test(lines[i + 1])) paragraph.push(lines[++i]);
    out.push(h("p", {}, inline(paragraph.join(" "), images)));
  }
  return out;
}
