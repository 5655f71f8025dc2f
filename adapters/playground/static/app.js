// Studiobot playground: one chat channel in the browser. All user text goes in via textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const timeline = $("timeline");
const scroller = document.scrollingElement || document.documentElement;
const input = $("input");
const entries = new Map(); // id -> entry (latest known)
const RANK = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };
const rendered = new Map(); // id -> { node, key }
const TERMINAL = new Set(["done", "failed", "cancelled"]);
const KIND_LABEL = { speak: "Speech", imagine: "Image", edit: "Edit", upload: "Upload", pick: "Picked",
  vary: "Variation", upscale: "Upscale", blend: "Blend" };
const picked = new Set(); // entry ids chosen for a blend, in the order they were chosen
let info = { help: {}, voices: [], default_voice: "Kore", offline: false };
let replyTo = null; // entry id of the image being replied to
let maskDirty = false;

// -- tiny DOM helper ---------------------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) {
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: "same-origin", ...options });
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(body.error || `The server answered ${res.status}.`);
  return body;
}

// -- rendering ---------------------------------------------------------------------------------------------------

function seconds(s) {
  const total = Math.round(Number(s) * 10) / 10;
  if (total < 60) return `${total.toFixed(1)} s`;
  return `${Math.floor(total / 60)}:${String(Math.round(total % 60)).padStart(2, "0")}`;
}

function clock(ts) {
  return ts ? new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function statusLine(e) {
  if (e.state === "done") return null;
  if (e.state === "failed" || e.state === "cancelled") {
    return h("div", { class: "status error", role: "alert", text: e.error || "That did not work." });
  }
  const label = e.state === "queued" ? (e.position ? `Queued, #${e.position} in line` : "Queued")
    : "Generating…";
  return h("div", { class: "status" }, h("span", { class: "spin", "aria-hidden": "true" }),
    h("span", { class: "state-text", text: label }),
    e.job_id ? h("button", { class: "ghost small cancel", type: "button", text: "Cancel",
      onclick: () => cancelJob(e.job_id) }) : null);
}

function chips(e) {
  const list = [];
  if (e.kind === "speak") {
    if (e.speakers && e.speakers.length) list.push(...e.speakers.map((s) => `${s.name}: ${s.voice}`));
    else if (e.voice) list.push(`voice ${e.voice}`);
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

function media(e) {
  const r = e.result;
  if (!r) return null;
  const download = h("a", { href: r.download, download: r.filename, class: "download", text: "Download" });
  if (r.kind === "audio") {
    const who = e.speakers && e.speakers.length ? e.speakers.map((s) => s.voice).join(" & ") : e.voice;
    return h("div", { class: "media" },
      h("audio", { controls: true, preload: "metadata", src: r.url }),
      h("div", { class: "meta" },
        h("span", { class: "duration", text: seconds(r.duration_s) }),
        who ? h("span", { text: who }) : null,
        e.style ? h("span", { text: e.style }) : null,
        h("span", { text: (r.container || "").toUpperCase() }),
        download));
  }
  return h("div", { class: "media" },
    h("img", { class: "result", src: r.url, alt: e.text || "image", loading: "lazy", width: r.width, height: r.height }),
    h("div", { class: "meta" },
      h("span", { text: `${r.width}×${r.height}` }),
      download,
      h("button", { class: "ghost small reply", type: "button", text: "↩ Reply", title: "Edit this image",
        onclick: () => startReply(e.id) }),
      h("button", { class: picked.has(e.id) ? "ghost small pick on" : "ghost small pick", type: "button",
        text: picked.has(e.id) ? "✓ Blend" : "＋ Blend", title: "Pick for a blend (2 or more)",
        "aria-pressed": String(picked.has(e.id)), onclick: () => togglePick(e.id) })),
    creativeButtons(e));
}

function creativeButtons(e) {
  const b = e.buttons;
  if (!b || e.state !== "done" || !e.job_id) return null;
  const act = (label, action, n, title) => h("button", { class: "ghost small act", type: "button", text: label,
    title, onclick: () => runAction(e.job_id, action, n) });
  const list = [];
  for (let n = 1; n <= b.cells; n++) list.push(act(`U${n}`, "u", n, `Image ${n} alone, full size`));
  for (let n = 1; n <= b.cells; n++) list.push(act(`V${n}`, "v", n, `A variation of image ${n}`));
  if (b.reroll) list.push(act("🎲 Re-roll", "reroll", null, "Same prompt, new images"));
  if (b.vary) list.push(act("🔀 Vary", "v", null, "Same composition and subject, new details"));
  if (b.upscale_to) list.push(act(`⬆ Upscale to ${b.upscale_to}`, "upscale", null, "Re-render it bigger"));
  return list.length ? h("div", { class: "actions" }, list) : null;
}

async function runAction(jobId, action, n) {
  try {
    const res = await api(`/api/jobs/${jobId}/actions`, { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action, n }) });
    if (res.entry) upsert(res.entry);
  } catch (err) {
    note(err.message, { error: true });
  }
}

// -- blending: pick images in the timeline (or drop several), then Send ---------------------------------------

function togglePick(id) {
  if (picked.has(id)) picked.delete(id); else picked.add(id);
  const e = entries.get(id);
  if (e) { rendered.get(id).key = null; upsert({ ...e }); }
  showBlendBar();
}

function showBlendBar() {
  $("blend-bar").hidden = picked.size === 0;
  $("blend-count").textContent = picked.size === 1 ? "1 image picked; pick at least one more."
    : `${picked.size} images picked, blended in that order.`;
  input.placeholder = picked.size ? "Optional: how to blend them, e.g. the cat from the first in the style of the second"
    : "/speak Hello there  ·  /imagine a lighthouse --aspect 16:9";
}

function clearPicks() {
  const ids = [...picked];
  picked.clear();
  for (const id of ids) { const e = entries.get(id); if (e) { rendered.get(id).key = null; upsert({ ...e }); } }
  showBlendBar();
}

async function sendBlend(text) {
  const res = await api("/api/blend", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sources: [...picked], text }) });
  clearPicks();
  if (res.entry) upsert(res.entry);
}

function renderKey(e) {
  return [e.state, e.position, e.error, e.result && e.result.url, picked.has(e.id)].join("|");
}

function buildEntry(e) {
  const label = KIND_LABEL[e.kind] || e.kind;
  return [
    h("div", { class: "head" }, h("span", { class: "kind", text: label }),
      h("span", { text: e.kind === "upload" ? "uploaded" : "you" }), h("span", { text: clock(e.created_at) })),
    h("p", { class: "prompt", text: e.text || "" }),
    chips(e),
    statusLine(e),
    media(e),
  ].filter(Boolean);
}

function upsert(e) {
  const known = entries.get(e.id);
  if (known && (known.updated_at || 0) > (e.updated_at || 0)) return; // an older snapshot
  // A live progress event may overtake the HTTP answer that created the entry: never step back.
  if (known && (known.updated_at || 0) >= (e.updated_at || 0) && (RANK[known.state] ?? 0) > (RANK[e.state] ?? 0)) return;
  entries.set(e.id, e);
  const key = renderKey(e);
  let slot = rendered.get(e.id);
  if (slot && slot.key === key) return;
  if (!slot) {
    const node = h("article", { class: "entry", "data-id": e.id });
    const thread = h("div", { class: "thread" });
    slot = { node, thread, body: h("div", { class: "body" }), key: null };
    node.append(slot.body, thread);
    rendered.set(e.id, slot);
    const parent = e.parent && rendered.get(e.parent);
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - window.innerHeight < 160;
    (parent ? parent.thread : timeline).append(node);
    if (nearBottom) requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });
  }
  slot.node.dataset.kind = e.kind;
  slot.node.dataset.state = e.state;
  slot.body.replaceChildren(...buildEntry(e));
  slot.key = key;
  $("welcome").hidden = rendered.size > 0;
}

function progress(p) {
  const e = entries.get(p.id);
  if (!e || TERMINAL.has(e.state)) return;
  if (TERMINAL.has(p.state)) { refresh(e.job_id); return; }
  upsert({ ...e, state: p.state, position: p.position });
}

async function refresh(jobId) {
  try { upsert((await api(`/api/jobs/${jobId}`)).entry); } catch { /* the entry event will follow */ }
}

function note(text, { error = false, said = null } = {}) {
  const n = h("div", { class: error ? "note error" : "note", role: error ? "alert" : "status" },
    said ? h("span", { class: "said", text: said }) : null, text);
  timeline.append(n);
  $("welcome").hidden = true;
  requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });
}

// -- sending ----------------------------------------------------------------------------------------------------

function withPickedVoice(text) {
  const voice = $("voice").value;
  const isSpeak = /^\s*\/speak\b/i.test(text);
  const hasVoice = /(^|\s)(--|—|–)(voice|v)(=|\s|$)/i.test(text);
  const isHelp = /^\s*\/speak\s+(help|--help|-h)\s*$/i.test(text);
  if (!isSpeak || hasVoice || isHelp || !voice || voice === info.default_voice) return text;
  return text.replace(/^(\s*\/speak)\b/i, `$1 --voice ${voice}`);
}

async function send(event) {
  event.preventDefault();
  const raw = input.value;
  if (!raw.trim()) return;
  if (picked.size && !raw.trim().startsWith("/")) {
    $("send").disabled = true;
    try { await sendBlend(raw.trim()); input.value = ""; autosize(); }
    catch (err) { note(err.message, { error: true, said: raw || "blend" }); }
    finally { $("send").disabled = false; input.focus(); }
    return;
  }
  const text = withPickedVoice(raw);
  const body = { text };
  const editing = replyTo && !raw.trim().startsWith("/");
  if (editing) {
    body.reply_to = replyTo;
    if (maskDirty && !$("mask-editor").hidden) body.mask = exportMask();
  }
  $("send").disabled = true;
  try {
    const res = await api("/api/messages", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    input.value = "";
    autosize();
    if (res.help) note(res.help.text, { said: raw });
    if (res.entry) { upsert(res.entry); if (editing) stopReply(); }
  } catch (err) {
    note(err.message, { error: true, said: raw });
  } finally {
    $("send").disabled = false;
    input.focus();
  }
}

async function cancelJob(jobId) {
  try { await api(`/api/jobs/${jobId}/cancel`, { method: "POST" }); } catch (err) { note(err.message, { error: true }); }
}

async function upload(file) {
  if (!file || !file.type.startsWith("image/")) { note("Only images can be uploaded.", { error: true }); return; }
  try {
    const res = await api(`/api/uploads?name=${encodeURIComponent(file.name || "pasted.png")}`,
      { method: "POST", headers: { "Content-Type": file.type }, body: file });
    upsert(res.entry);
    return res.entry;
  } catch (err) {
    note(err.message, { error: true, said: file.name || "upload" });
    return null;
  }
}

async function uploadMany(files) {
  // Several images at once (drop or the file picker): upload them all and pick them for a blend.
  const list = [...files];
  const done = await Promise.all(list.map(upload));
  if (list.length < 2) return;
  for (const e of done) if (e && !picked.has(e.id)) togglePick(e.id);
}

// -- replying and masks ----------------------------------------------------------------------------------------

function startReply(id) {
  const e = entries.get(id);
  if (!e || !e.result) return;
  stopReply();
  replyTo = id;
  rendered.get(id).node.classList.add("replying");
  $("reply-thumb").src = e.result.url;
  $("mask-image").src = e.result.url;
  $("reply-bar").hidden = false;
  input.placeholder = "What should change? e.g. make it night";
  input.focus();
}

function stopReply() {
  if (replyTo && rendered.get(replyTo)) rendered.get(replyTo).node.classList.remove("replying");
  replyTo = null;
  $("reply-bar").hidden = true;
  $("mask-editor").hidden = true;
  $("mask-toggle").textContent = "Vary (region)";
  clearMask();
  input.placeholder = "/speak Hello there  ·  /imagine a lighthouse --aspect 16:9";
}

function toggleMask() {
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
      maskDirty = false;
    }
  };
  if (img.complete && img.naturalWidth) ready(); else img.addEventListener("load", ready, { once: true });
}

function clearMask() {
  const canvas = $("mask-canvas");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  maskDirty = false;
}

function exportMask() {
  // The service wants white = change on black = keep, at the image's own size.
  const src = $("mask-canvas");
  const out = h("canvas", { width: src.width, height: src.height });
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  return out.toDataURL("image/png");
}

function setupMaskPainter() {
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
    ctx.fillStyle = "#fff";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = Number($("brush").value) * b.scale;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x + 0.01, b.y);
    ctx.stroke();
    maskDirty = true;
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
}

// -- help, voices, theme -------------------------------------------------------------------------------------------

function showHint() {
  const m = /^\s*\/(\w*)/.exec(input.value);
  const hint = $("hint");
  if (replyTo && !input.value.trim().startsWith("/")) hint.textContent = (info.help.edit || "").split("\n")[0];
  else if (m) {
    const name = ["speak", "imagine", "help"].find((c) => c.startsWith(m[1].toLowerCase()));
    hint.textContent = name ? (info.help[name] || "").split("\n")[0] : "Commands: /speak, /imagine, /help";
  } else hint.textContent = "Enter sends · Shift+Enter for a new line (dialogue: `Ana: hi` lines)";
}

function autosize() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 180)}px`;
}

async function previewVoice() {
  const btn = $("preview-voice");
  const audio = $("preview-audio");
  btn.disabled = true;
  btn.textContent = "… Preparing";
  try {
    const res = await fetch(`/api/voices/${encodeURIComponent($("voice").value)}/preview`);
    if (!res.ok) throw new Error((await res.json()).error || "No preview available.");
    audio.src = URL.createObjectURL(await res.blob());
    await audio.play().catch(() => { /* autoplay may be refused; the clip is still loaded */ });
  } catch (err) {
    note(err.message, { error: true });
  } finally {
    btn.disabled = false;
    btn.textContent = "▶ Preview voice";
  }
}

function setupTheme() {
  const saved = localStorage.getItem("studiobot-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  $("theme").addEventListener("click", () => {
    const dark = document.documentElement.dataset.theme
      ? document.documentElement.dataset.theme === "dark" : !matchMedia("(prefers-color-scheme: light)").matches;
    document.documentElement.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("studiobot-theme", document.documentElement.dataset.theme);
  });
}

// -- live updates --------------------------------------------------------------------------------------------------

function connect(delay = 500) {
  const conn = $("conn");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/events`);
  ws.addEventListener("open", () => {
    conn.dataset.state = "live";
    conn.textContent = "live";
    loadHistory(); // catch up on anything missed while disconnected
    delay = 500;
  });
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "entry") upsert(msg.entry);
    else if (msg.type === "progress") progress(msg);
  });
  ws.addEventListener("close", () => {
    conn.dataset.state = "down";
    conn.textContent = "reconnecting…";
    setTimeout(() => connect(Math.min(delay * 2, 8000)), delay);
  });
}

async function loadHistory() {
  try {
    const res = await api("/api/history");
    for (const e of res.entries) upsert(e);
  } catch (err) {
    note(`Could not load the history: ${err.message}`, { error: true });
  }
}

async function init() {
  setupTheme();
  setupMaskPainter();
  info = await api("/api/info");
  $("offline-badge").hidden = !info.offline;
  const picker = $("voice");
  for (const v of info.voices) {
    picker.append(h("option", { value: v.name, text: `${v.name} · ${v.character}`, selected: v.name === info.default_voice }));
  }
  $("help").textContent = info.help.help || "";
  $("form").addEventListener("submit", send);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("form").requestSubmit(); }
    if (ev.key === "Escape" && replyTo) stopReply();
  });
  input.addEventListener("input", () => { autosize(); showHint(); });
  $("help-toggle").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
  $("preview-voice").addEventListener("click", previewVoice);
  $("file").addEventListener("change", (ev) => { uploadMany(ev.target.files); ev.target.value = ""; });
  $("blend-send").addEventListener("click", () => $("form").requestSubmit());
  $("blend-clear").addEventListener("click", clearPicks);
  $("reply-cancel").addEventListener("click", stopReply);
  $("mask-toggle").addEventListener("click", toggleMask);
  $("mask-clear").addEventListener("click", clearMask);
  document.addEventListener("paste", (ev) => {
    const files = [...(ev.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (files.length) { ev.preventDefault(); files.forEach(upload); }
  });
  let depth = 0;
  window.addEventListener("dragenter", (ev) => { if (ev.dataTransfer?.types.includes("Files")) { depth++; $("drop").hidden = false; } });
  window.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) $("drop").hidden = true; });
  window.addEventListener("dragover", (ev) => ev.preventDefault());
  window.addEventListener("drop", (ev) => {
    ev.preventDefault();
    depth = 0;
    $("drop").hidden = true;
    uploadMany(ev.dataTransfer?.files || []);
  });
  await loadHistory();
  connect();
  document.body.dataset.ready = "true";
  input.focus();
}

init().catch((err) => note(`The playground could not start: ${err.message}`, { error: true }));
