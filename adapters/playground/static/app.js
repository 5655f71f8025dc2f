// Studiobot playground: a small studio in the browser. All user text goes in via textContent, never as HTML.

import { buildCard, renderKey } from "./cards.js";
import { $, api, copyText, excerpt, h, UNREACHABLE } from "./dom.js";
import { blender } from "./blend.js";
import { previewVoice, setupTheme, setupVoices } from "./prefs.js";
import { renderGallery } from "./gallery.js";
import { showUsage } from "./usage.js";
import { exportMask, maskIsDirty, setupMask, startMask, stopMask, toggleMask } from "./mask.js";

const timeline = $("timeline");
const scroller = document.scrollingElement || document.documentElement;
const input = $("input");
const entries = new Map(); // id -> entry (latest known)
const rendered = new Map(); // id -> { node, thread, body, key }
const RANK = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };
const TERMINAL = new Set(["done", "failed", "cancelled"]);
const NEAR_BOTTOM_PX = 160;
let info = { help: {}, voices: [], default_voice: "Kore", offline: false };
let replyTo = null; // entry id of the image being replied to
let lastSent = localStorage.getItem("studiobot-last") || "";
let socket = null;

// -- scrolling: follow new results unless the user scrolled up to read -----------------------------------------

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - window.innerHeight < NEAR_BOTTOM_PX;

function follow(wasNear) {
  if (!$("gallery").hidden) return;
  if (wasNear) {
    requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });
  } else {
    const pill = $("new-result");
    pill.style.bottom = `${document.querySelector(".composer").offsetHeight + 12}px`;
    pill.hidden = false;
  }
}

// -- rendering -------------------------------------------------------------------------------------------------------

const act = {
  cancel: (jobId) => api(`/api/jobs/${jobId}/cancel`, { method: "POST" }).catch((err) => note(err.message, { error: true })),
  retry: async (e) => {
    try { upsert((await api(`/api/jobs/${e.job_id}/retry`, { method: "POST" })).entry); } catch (err) { note(err.message, { error: true }); }
  },
  reply: (id) => startReply(id),
  remove: async (e) => {
    try { await api(`/api/entries/${encodeURIComponent(e.id)}`, { method: "DELETE" }); removeEntry(e.id); } catch (err) { note(err.message, { error: true }); }
  },
  copy: async (e, button) => {
    const ok = await copyText(e.text || "");
    button.textContent = ok ? "Copied ✓" : "Copy failed";
    setTimeout(() => { button.textContent = "Copy prompt"; }, 1500);
  },
  jump: (id) => showEntry(id),
  pick: (id) => blend.toggle(id),
  creative: async (jobId, action, n) => {
    try {
      const res = await api(`/api/jobs/${jobId}/actions`, { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action, n }) });
      if (res.entry) upsert(res.entry);
    } catch (err) {
      note(err.message, { error: true });
    }
  },
};

const blend = blender({ redraw: (id) => { const e = entries.get(id); if (e) render(e); }, upsert: (e) => upsert(e) });

function render(e) {
  const key = renderKey(e, entries, blend.picked);
  let slot = rendered.get(e.id);
  if (slot && slot.key === key) return;
  const wasNear = nearBottom(); // measured before the page grows
  const isNew = !slot;
  const gotResult = slot && !slot.key.split("|")[3] && e.result;
  if (!slot) {
    const node = h("article", { class: "entry", "data-id": e.id });
    slot = { node, thread: h("div", { class: "thread" }), body: h("div", { class: "body" }), key: null };
    node.append(slot.body, slot.thread);
    rendered.set(e.id, slot);
    const parent = e.parent && rendered.get(e.parent);
    (parent ? parent.thread : timeline).append(node);
  }
  slot.node.dataset.kind = e.kind;
  slot.node.dataset.state = e.state;
  slot.body.replaceChildren(...buildCard(e, { entries, info, act, picked: blend.picked }));
  slot.key = key;
  $("welcome").hidden = rendered.size > 0;
  if (isNew || gotResult) follow(wasNear);
  for (const child of entries.values()) if (child.parent === e.id && rendered.has(child.id)) render(child);
  if (!$("gallery").hidden && e.result) renderGallery(entries, showEntry);
}

function upsert(e) {
  const known = entries.get(e.id);
  if (known && (known.updated_at || 0) > (e.updated_at || 0)) return; // an older snapshot
  // A live progress event may overtake the HTTP answer that created the entry: never step back.
  if (known && (known.updated_at || 0) >= (e.updated_at || 0) && (RANK[known.state] ?? 0) > (RANK[e.state] ?? 0)) return;
  entries.set(e.id, e);
  render(e);
}

function removeEntry(id) {
  const slot = rendered.get(id);
  entries.delete(id);
  rendered.delete(id);
  blend.forget(id);
  if (slot) slot.node.replaceWith(...slot.thread.children); // its edits stay, one level up
  if (replyTo === id) stopReply();
  $("welcome").hidden = rendered.size > 0;
  if (!$("gallery").hidden) renderGallery(entries, showEntry);
}

function clearAll() {
  entries.clear();
  rendered.clear();
  blend.clear();
  timeline.replaceChildren();
  stopReply();
  $("welcome").hidden = false;
  $("new-result").hidden = true;
  renderGallery(entries, showEntry);
}

function progress(p) {
  const e = entries.get(p.id);
  if (!e || TERMINAL.has(e.state)) return;
  if (TERMINAL.has(p.state)) { refresh(e.job_id); return; }
  upsert({ ...e, state: p.state, position: p.position, message: p.message });
}

async function refresh(jobId) {
  try { upsert((await api(`/api/jobs/${jobId}`)).entry); } catch { /* the entry event will follow */ }
}

function note(text, { error = false, said = null } = {}) {
  const n = h("div", { class: error ? "note error" : "note", role: error ? "alert" : "status" },
    said ? h("span", { class: "said", text: `You sent: ${excerpt(said)}` }) : null, text);
  const wasNear = nearBottom();
  timeline.append(n);
  $("welcome").hidden = true;
  follow(wasNear);
  if (text === UNREACHABLE) reconnectSoon();
}

function showEntry(id) {
  setView("timeline");
  const slot = rendered.get(id);
  if (!slot) return;
  slot.node.scrollIntoView({ block: "center" });
  slot.node.classList.add("flash");
  setTimeout(() => slot.node.classList.remove("flash"), 1200);
}

function setView(view) {
  const gallery = view === "gallery";
  $("gallery").hidden = !gallery;
  $("timeline").hidden = gallery;
  $("view-gallery").setAttribute("aria-pressed", String(gallery));
  $("view-timeline").setAttribute("aria-pressed", String(!gallery));
  if (gallery) renderGallery(entries, showEntry);
}

// -- sending ---------------------------------------------------------------------------------------------------------

function withPickedVoice(text) {
  const voice = $("voice").value;
  const isSpeak = /^\s*\/speak\b/i.test(text);
  const hasVoice = /(^|\s)(--|—|–|-)(voice|v)(=|\s|$)/i.test(text);
  const isHelp = /^\s*\/speak\s+(help|--help|-h)\s*$/i.test(text);
  if (!isSpeak || hasVoice || isHelp || !voice || voice === info.default_voice) return text;
  return text.replace(/^(\s*\/speak)\b/i, `$1 --voice ${voice}`);
}

async function send(event) {
  event.preventDefault();
  const raw = input.value;
  if (!raw.trim() && !blend.picked.size) return;
  if (blend.picked.size && !raw.trim().startsWith("/")) {
    $("send").disabled = true;
    try { await blend.send(raw.trim()); if (input.value === raw) { input.value = ""; autosize(); } }
    catch (err) { note(err.message, { error: true, said: raw || "blend" }); }
    finally { $("send").disabled = false; input.focus(); }
    return;
  }
  const body = { text: withPickedVoice(raw) };
  const editing = replyTo && !raw.trim().startsWith("/");
  if (editing) {
    body.reply_to = replyTo;
    if (maskIsDirty()) body.mask = exportMask();
  }
  $("send").disabled = true;
  try {
    const res = await api("/api/messages", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    lastSent = raw;
    localStorage.setItem("studiobot-last", raw);
    if (input.value === raw) { input.value = ""; autosize(); } // never wipe what was typed meanwhile
    if (res.help) note(res.help.text, { said: raw });
    if (res.entry) { upsert(res.entry); if (editing) stopReply(); }
  } catch (err) {
    note(err.message, { error: true, said: raw });
  } finally {
    $("send").disabled = false;
    showHint();
    input.focus();
  }
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
  for (const e of done) if (e && !blend.picked.has(e.id)) blend.toggle(e.id);
}

// -- replying ----------------------------------------------------------------------------------------------------------

function startReply(id) {
  const e = entries.get(id);
  if (!e || !e.result) return;
  stopReply();
  replyTo = id;
  rendered.get(id)?.node.classList.add("replying");
  $("reply-thumb").src = e.result.url;
  startMask(e.result.url);
  $("reply-bar").hidden = false;
  input.placeholder = "What should change? e.g. make it night";
  showHint();
  input.focus();
}

function stopReply() {
  if (replyTo && rendered.get(replyTo)) rendered.get(replyTo).node.classList.remove("replying");
  replyTo = null;
  $("reply-bar").hidden = true;
  stopMask();
  input.placeholder = "/speak Hello there  ·  /imagine a lighthouse --aspect 16:9";
  showHint();
}

// -- the hint under the composer: always about what Enter would do now ---------------------------------------------

function showHint() {
  const text = input.value;
  const m = /^\s*\/(\w*)/.exec(text);
  let parts;
  if (replyTo && !text.trim().startsWith("/")) {
    parts = ["Editing the image: type what to change, e.g. ", h("code", { text: "make it night" }),
      " (add ", h("code", { text: "--aspect 16:9" }), " to reshape) · Escape stops replying"];
  } else if (m) {
    const name = ["speak", "imagine", "help"].find((c) => c.startsWith(m[1].toLowerCase()));
    parts = [name ? (info.help[name] || "").split("\n")[0] : "Commands: /speak, /imagine, /help"];
  } else {
    parts = ["Enter sends · Shift+Enter for a new line (dialogue: ", h("code", { text: "Ana: hi" }),
      " lines) · ↑ recalls the last command"];
  }
  $("hint").replaceChildren(...parts);
}

function autosize() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 180)}px`;
}

function onKey(ev) {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("form").requestSubmit(); }
  else if (ev.key === "ArrowUp" && !input.value && lastSent) {
    ev.preventDefault();
    input.value = lastSent;
    autosize();
    showHint();
  } else if (ev.key === "Escape" && replyTo) { ev.preventDefault(); stopReply(); }
}

// -- live updates: reconnect forever, with a capped backoff ---------------------------------------------------------

let retryDelay = 500;
let retryTimer = null;

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  const conn = $("conn");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/events`);
  socket = ws;
  ws.addEventListener("open", () => {
    conn.dataset.state = "live";
    conn.textContent = "live";
    retryDelay = 500;
    loadHistory(); // catch up on anything missed while disconnected
  });
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "entry") upsert(msg.entry);
    else if (msg.type === "progress") progress(msg);
    else if (msg.type === "removed") removeEntry(msg.id);
    else if (msg.type === "cleared") clearAll();
  });
  ws.addEventListener("close", () => {
    if (socket !== ws) return;
    socket = null;
    conn.dataset.state = "down";
    conn.textContent = "studio not reachable · retrying…";
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 8000);
  });
}

function reconnectSoon() {
  if (socket && socket.readyState === WebSocket.OPEN) return;
  retryDelay = 500;
  if (!socket) { clearTimeout(retryTimer); retryTimer = setTimeout(connect, 200); }
}

async function loadHistory() {
  try {
    const res = await api("/api/history");
    for (const e of res.entries) upsert(e);
  } catch (err) {
    note(`Could not load the history: ${err.message}`, { error: true });
  }
}

function setupDrop() {
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
}

async function init() {
  setupTheme();
  setupMask();
  info = await api("/api/info");
  $("offline-badge").hidden = !info.offline;
  setupVoices(info);
  $("help").textContent = info.help.help || "";
  $("form").addEventListener("submit", send);
  input.addEventListener("keydown", onKey);
  input.addEventListener("input", () => { autosize(); showHint(); });
  $("help-toggle").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
  $("preview-voice").addEventListener("click", () => previewVoice((text) => note(text, { error: true })));
  $("file").addEventListener("change", (ev) => { uploadMany(ev.target.files); ev.target.value = ""; });
  $("blend-send").addEventListener("click", () => $("form").requestSubmit());
  $("blend-clear").addEventListener("click", blend.clear);
  $("reply-cancel").addEventListener("click", stopReply);
  $("mask-toggle").addEventListener("click", toggleMask);
  $("view-timeline").addEventListener("click", () => setView("timeline"));
  $("view-gallery").addEventListener("click", () => setView("gallery"));
  $("gallery-filter").addEventListener("change", () => renderGallery(entries, showEntry));
  $("clear-history").addEventListener("click", () => $("confirm-clear").showModal());
  $("show-usage").addEventListener("click", showUsage);
  $("confirm-clear").addEventListener("close", async () => {
    if ($("confirm-clear").returnValue !== "clear") return;
    try { await api("/api/history/clear", { method: "POST" }); clearAll(); } catch (err) { note(err.message, { error: true }); }
  });
  $("new-result").addEventListener("click", () => {
    $("new-result").hidden = true;
    scroller.scrollTop = scroller.scrollHeight;
  });
  window.addEventListener("scroll", () => { if (nearBottom()) $("new-result").hidden = true; }, { passive: true });
  setupDrop();
  showHint();
  await loadHistory();
  connect();
  document.body.dataset.ready = "true";
  input.focus();
}

init().catch((err) => note(`The playground could not start: ${err.message}`, { error: true }));
