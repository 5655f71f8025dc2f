// Painting where an edit may change the image (white = change), at the image's own size.

import { $, h } from "./dom.js";

let dirty = false;

export const maskIsDirty = () => dirty && !$("mask-editor").hidden;

export function startMask(url) {
  $("mask-image").src = url;
}

export function stopMask() {
  $("mask-editor").hidden = true;
  $("mask-toggle").textContent = "Vary (region)";
  clearMask();
}

export function toggleMask() {
  const editor = $("mask-editor");
  editor.hidden = !editor.hidden;
  $("mask-toggle").textContent = editor.hidden ? "Vary (region)" : "No mask";
  if (!editor.hidden) sizeMask();
}

function sizeMask() {
  const img = $("mask-image");
  const canvas = $("mask-canvas");
  const ready = () => {
    if (canvas.width !== img.naturalWidth || canvas.height !== img.naturalHeight) {
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      dirty = false;
    }
  };
  if (img.complete && img.naturalWidth) ready(); else img.addEventListener("load", ready, { once: true });
}

function clearMask() {
  const canvas = $("mask-canvas");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  dirty = false;
}

export function exportMask() {
  const src = $("mask-canvas");
  const out = h("canvas", { width: src.width, height: src.height });
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  return out.toDataURL("image/png");
}

export function setupMask() {
  const canvas = $("mask-canvas");
  let last = null;
  const point = (ev) => {
    const r = canvas.getBoundingClientRect();
    return { x: (ev.clientX - r.left) * (canvas.width / r.width), y: (ev.clientY - r.top) * (canvas.height / r.height),
      scale: canvas.width / r.width };
  };
  const stroke = (a, b) => {
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = "#fff";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = Number($("brush").value) * b.scale;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x + 0.01, b.y);
    ctx.stroke();
    dirty = true;
  };
  canvas.addEventListener("pointerdown", (ev) => {
    canvas.setPointerCapture(ev.pointerId);
    last = point(ev);
    stroke(last, last);
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!last) return;
    const p = point(ev);
    stroke(last, p);
    last = p;
  });
  const end = () => { last = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("mask-clear").addEventListener("click", clearMask);
}
