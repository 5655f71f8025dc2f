// One result card per job: prompt, parameters (once), status, the media and the actions on it.

import { clock, h, seconds } from "./dom.js";
import { handOver, livePlayer } from "./live.js";
import { speechPlayer } from "./wave.js";

const KIND_LABEL = { speak: "Speech", imagine: "Image", edit: "Edit", upload: "Upload", pick: "Picked",
  vary: "Variation", upscale: "Upscale", blend: "Blend" };
const EDITS = new Set(["edit", "vary", "upscale", "pick"]); // made from one earlier image: compare with it
const MAX_FRAME_HEIGHT = 420;

function character(info, name) {
  const v = (info.voices || []).find((x) => x.name === name);
  return v ? `${name} · ${v.character}` : name;
}

function statusLine(e, act) {
  if (e.state === "done") return null;
  if (e.state === "failed" || e.state === "cancelled") {
    return h("div", { class: "status error", role: "alert", text: e.error || "That did not work." });
  }
  const part = e.message && e.message.startsWith("part ") ? ` ${e.message}` : "";
  const label = e.state === "queued" ? (e.position ? `Queued, #${e.position} in line` : "Queued") : `Generating…${part}`;
  return h("div", { class: "status" }, h("span", { class: "spin", "aria-hidden": "true" }),
    h("span", { class: "state-text", text: label }),
    e.job_id ? h("button", { class: "ghost small cancel", type: "button", text: "Cancel",
      onclick: () => act.cancel(e.job_id) }) : null);
}

function chips(e, info) {
  const list = [];
  if (e.kind === "speak") {
    if (e.speakers && e.speakers.length) list.push(...e.speakers.map((s) => `${s.name}: ${character(info, s.voice)}`));
    else if (e.voice) list.push(`voice ${character(info, e.voice)}`);
    if (e.style) list.push(`style “${e.style}”`);
    if (e.language) list.push(e.language);
  }
  if (e.aspect) list.push(`aspect ${e.aspect}`);
  if (e.size) list.push(`size ${e.size}`);
  if (e.masked) list.push("masked · Vary (region)");
  const r = e.result;
  if (r && r.candidates) {
    const made = r.candidates.split(",").length;
    list.push(r.failed ? `${made} images (${r.failed} of ${made + r.failed} failed)` : `${made} images`);
  }
  return list.length ? h("div", { class: "chips" }, list.map((t) => h("span", { class: "chip", text: t }))) : null;
}

function prompt(e) {
  const p = h("p", { class: "prompt", text: e.text || "" });
  const more = h("button", { class: "link more", type: "button", text: "Show more", hidden: true,
    "aria-expanded": "false" });
  more.addEventListener("click", () => {
    const open = p.classList.toggle("open");
    more.textContent = open ? "Show less" : "Show more";
    more.setAttribute("aria-expanded", String(open));
  });
  // Collapsed to three lines by CSS; offer the toggle only when something is actually hidden.
  requestAnimationFrame(() => { more.hidden = p.scrollHeight <= p.clientHeight + 1; });
  return [p, more];
}

/** The image at its own aspect ratio, never stretched: the frame is sized from the file's width and height. */
function frame(r, alt) {
  const w = Number(r.width) || 1;
  const hgt = Number(r.height) || 1;
  const box = h("div", { class: "frame", style: {
    aspectRatio: `${w} / ${hgt}`,
    width: `min(100%, ${Math.round((MAX_FRAME_HEIGHT * w) / hgt)}px, ${w}px)`,
  } });
  box.append(h("img", { class: "result", src: r.url, alt: alt || "image", width: w, height: hgt, draggable: "false" }));
  return box;
}

function lineage(e, entries, act) {
  const chain = [];
  for (let cur = e; cur && chain.length < 12; cur = cur.parent ? entries.get(cur.parent) : null) chain.unshift(cur);
  if (chain.length < 2) return null;
  return h("ol", { class: "lineage", "aria-label": "Edit chain" }, chain.map((step, i) => h("li", {},
    h("button", { type: "button", class: i === chain.length - 1 ? "step current" : "step",
      title: step.text || "", "aria-label": `Step ${i + 1}: ${step.text || step.kind}`,
      "aria-current": i === chain.length - 1 ? "step" : null, onclick: () => act.jump(step.id) },
    step.result ? h("img", { src: step.result.url, alt: "" }) : h("span", { text: String(i + 1) })))));
}

function compare(box, before) {
  // The "before" image over the result, clipped by a slider: drag left for after, right for before.
  const old = h("img", { class: "before", src: before.url, alt: "Before the edit", draggable: "false" });
  box.append(old);
  const slider = h("input", { type: "range", class: "compare", min: 0, max: 100, value: 50,
    "aria-label": "Compare before and after: before on the left" });
  const apply = () => { old.style.clipPath = `inset(0 ${100 - Number(slider.value)}% 0 0)`; };
  slider.addEventListener("input", apply);
  apply();
  return h("label", { class: "field small compare-row" }, "Before", slider, "After");
}

function maskToggle(box, e) {
  const overlay = h("img", { class: "mask-overlay", src: `/api/jobs/${e.job_id}/mask`, alt: "", hidden: true });
  box.append(overlay);
  const btn = h("button", { class: "ghost small mask-show", type: "button", text: "Show mask",
    "aria-pressed": "false" });
  btn.addEventListener("click", () => {
    overlay.hidden = !overlay.hidden;
    btn.setAttribute("aria-pressed", String(!overlay.hidden));
    btn.textContent = overlay.hidden ? "Show mask" : "Hide mask";
  });
  return btn;
}

function media(e, ctx) {
  const r = e.result;
  if (!r) return livePlayer(e);
  if (r.kind === "audio") {
    const voices = e.speakers && e.speakers.length ? e.speakers.map((s) => s.voice).join(" & ") : e.voice;
    const player = speechPlayer(r.url, { label: `speech by ${voices || "the voice"}` });
    if (e.job_id) handOver(e.job_id, player.querySelector("audio"));
    return h("div", { class: "media" },
      player,
      h("div", { class: "meta" },
        h("span", { class: "duration", text: seconds(r.duration_s) }),
        h("span", { text: (r.container || "").toUpperCase() }),
        ctx.info.offline && e.style ? h("span", { class: "offline-note",
          text: "Offline preview: styles are not applied offline." }) : null));
  }
  const box = frame(r, e.text);
  const parent = e.parent ? ctx.entries.get(e.parent) : null;
  const extras = [];
  if (EDITS.has(e.kind) && parent && parent.result && parent.result.kind === "image") {
    extras.push(compare(box, parent.result));
  }
  if (e.masked && e.job_id) extras.push(maskToggle(box, e));
  return h("div", { class: "media" }, box,
    h("div", { class: "meta" }, h("span", { class: "size", text: `${r.width}×${r.height}` }), ...extras),
    EDITS.has(e.kind) ? lineage(e, ctx.entries, ctx.act) : null);
}

function creativeButtons(e, act) {
  const b = e.buttons;
  if (!b || e.state !== "done" || !e.job_id) return null;
  const button = (label, action, n, title) => h("button", { class: "ghost small act", type: "button", text: label,
    title, onclick: () => act.creative(e.job_id, action, n) });
  const list = [];
  for (let n = 1; n <= b.cells; n++) list.push(button(`U${n}`, "u", n, `Image ${n} alone, full size`));
  for (let n = 1; n <= b.cells; n++) list.push(button(`V${n}`, "v", n, `A variation of image ${n}`));
  if (b.reroll) list.push(button("🎲 Re-roll", "reroll", null, "Same prompt, new images"));
  if (b.vary) list.push(button("🔀 Vary", "v", null, "Same composition and subject, new details"));
  if (b.upscale_to) list.push(button(`⬆ Upscale to ${b.upscale_to}`, "upscale", null, "Re-render it bigger"));
  return list.length ? h("div", { class: "actions" }, list) : null;
}

function actions(e, act, picked) {
  const list = [];
  const done = e.state === "done" || e.state === "failed" || e.state === "cancelled";
  if (e.job_id && done) list.push(h("button", { class: "ghost small retry", type: "button", text: "↻ Retry",
    onclick: () => act.retry(e) }));
  if (e.result && e.result.kind === "image") list.push(h("button", { class: "ghost small reply", type: "button",
    text: "↩ Edit (Reply)", title: "Edit this image", onclick: () => act.reply(e.id) }));
  if (e.result && e.result.kind === "image") {
    const on = picked.has(e.id);
    list.push(h("button", { class: on ? "ghost small pick on" : "ghost small pick", type: "button",
      text: on ? "✓ Blend" : "＋ Blend", title: "Pick for a blend (2 or more)", "aria-pressed": String(on),
      onclick: () => act.pick(e.id) }));
  }
  if (e.result) list.push(h("a", { href: e.result.download, download: e.result.filename, class: "button ghost small download",
    text: "⤓ Download" }));
  if (e.text && e.kind !== "upload") list.push(h("button", { class: "ghost small copy", type: "button", text: "Copy prompt",
    onclick: (ev) => act.copy(e, ev.currentTarget) }));
  if (done || e.kind === "upload") list.push(h("button", { class: "ghost small delete", type: "button", text: "Delete",
    onclick: () => act.remove(e) }));
  return list.length ? h("div", { class: "card-actions" }, list) : null;
}

export function buildCard(e, ctx) {
  const label = KIND_LABEL[e.kind] || e.kind;
  return [
    h("div", { class: "head" }, h("span", { class: "kind", text: label }),
      h("span", { text: e.kind === "upload" ? "uploaded" : "you" }), h("span", { text: clock(e.created_at) })),
    ...prompt(e),
    chips(e, ctx.info),
    statusLine(e, ctx.act),
    media(e, ctx),
    creativeButtons(e, ctx.act),
    actions(e, ctx.act, ctx.picked),
  ].filter(Boolean);
}

/** What decides whether a card must be drawn again. */
export function renderKey(e, entries, picked) {
  const parent = e.parent ? entries.get(e.parent) : null;
  return [e.state, e.position, e.message, e.error, e.result && e.result.url,
    parent && parent.result && parent.result.url,
    picked.has(e.id)].join("|");
}
