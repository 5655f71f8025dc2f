// Every picture at a glance: generated, edited and uploaded, filtered by kind.

import { $, h } from "./dom.js";

export function renderGallery(entries, onOpen) {
  const filter = $("gallery-filter").value;
  const images = [...entries.values()]
    .filter((e) => e.result && e.result.kind === "image" && (filter === "all" || e.kind === filter))
    .sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
  const grid = $("gallery-grid");
  grid.replaceChildren(...images.map((e) => h("li", { class: "tile", "data-kind": e.kind },
    h("button", { type: "button", class: "tile-open", title: e.text || "", "aria-label": `Open: ${e.text || e.kind}`,
      onclick: () => onOpen(e.id) },
    h("img", { src: e.result.url, alt: "", loading: "lazy" }),
    h("span", { class: "tile-kind", text: e.kind === "imagine" ? "image" : e.kind })))));
  $("gallery-empty").hidden = images.length > 0;
}
