// Blending: pick images in the timeline (or drop several at once), then Send.

import { $, api } from "./dom.js";

const DEFAULT_PLACEHOLDER = "/speak Hello there  ·  /imagine a lighthouse --aspect 16:9";

/** The picked set and what changes with it; ``redraw(id)`` draws that card again (its Blend button). */
export function blender({ redraw, upsert }) {
  const picked = new Set(); // entry ids, in the order they were chosen

  function showBar() {
    $("blend-bar").hidden = picked.size === 0;
    $("blend-count").textContent = picked.size === 1 ? "1 image picked; pick at least one more."
      : `${picked.size} images picked, blended in that order.`;
    $("input").placeholder = picked.size
      ? "Optional: how to blend them, e.g. the cat from the first in the style of the second" : DEFAULT_PLACEHOLDER;
  }

  function toggle(id) {
    if (picked.has(id)) picked.delete(id); else picked.add(id);
    redraw(id);
    showBar();
  }

  function clear() {
    const ids = [...picked];
    picked.clear();
    ids.forEach(redraw);
    showBar();
  }

  function forget(id) {
    if (picked.delete(id)) showBar();
  }

  async function send(text) {
    const res = await api("/api/blend", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sources: [...picked], text }) });
    clear();
    if (res.entry) upsert(res.entry);
  }

  return { picked, toggle, clear, forget, send, showBar };
}
