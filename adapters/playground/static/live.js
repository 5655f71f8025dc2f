// Speech that plays from its first chunk: the job's audio feed arrives as WebM/Opus over a chunked
// response and goes into Media Source Extensions, so the card plays while the job runs; when the file
// is ready the normal player takes over where the live one was.

import { h } from "./dom.js";

const LIVE_TYPE = 'audio/webm; codecs="opus"';
const TERMINAL = new Set(["done", "failed", "cancelled"]);
const live = new Map(); // job_id -> { audio }

function startLive(jobId) {
  const audio = h("audio", { class: "live", controls: true, "aria-label": "speech, playing as it is made" });
  const source = new MediaSource();
  audio.src = URL.createObjectURL(source);
  source.addEventListener("sourceopen", async () => {
    const buffer = source.addSourceBuffer(LIVE_TYPE);
    const appended = () => new Promise((ok) => buffer.addEventListener("updateend", ok, { once: true }));
    try {
      const res = await fetch(`/api/jobs/${jobId}/live`);
      if (res.status !== 200 || !res.body) return;
      const reader = res.body.getReader();
      for (let first = true; ; first = false) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer.appendBuffer(value);
        await appended();
        if (first) audio.play().catch(() => { /* autoplay refused: the controls still work */ });
      }
      if (source.readyState === "open") source.endOfStream();
    } catch { /* the file's player takes over when the job ends */ }
  }, { once: true });
  return { audio };
}

/** The live player of a speech job that is still queued or running (the same element across redraws). */
export function livePlayer(e) {
  if (e.kind !== "speak" || !e.job_id || TERMINAL.has(e.state)) return null;
  if (!window.MediaSource || !MediaSource.isTypeSupported(LIVE_TYPE)) return null;
  let slot = live.get(e.job_id);
  if (!slot) {
    slot = startLive(e.job_id);
    live.set(e.job_id, slot);
  }
  return h("div", { class: "media live-media" }, slot.audio);
}

/** The file is ready: drop the live player; if it was playing, the file's player goes on from there. */
export function handOver(jobId, player) {
  const slot = live.get(jobId);
  if (!slot || !player) return;
  live.delete(jobId);
  const at = slot.audio.currentTime;
  const playing = !slot.audio.paused && !slot.audio.ended;
  slot.audio.pause();
  URL.revokeObjectURL(slot.audio.src);
  if (!playing) return;
  player.preload = "auto";
  player.addEventListener("loadedmetadata", () => {
    player.currentTime = Math.min(at, player.duration || at);
    player.play().catch(() => {});
  }, { once: true });
}
