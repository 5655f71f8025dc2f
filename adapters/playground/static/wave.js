// A speech clip as a studio shows it: the waveform drawn from the clip's own samples, a playhead, and speed.

import { h } from "./dom.js";

const SPEEDS = [0.75, 1, 1.25, 1.5, 2];
const peaksCache = new Map(); // url -> Float32Array of peaks (0..1)

async function peaksOf(url, buckets) {
  const key = `${url}#${buckets}`;
  if (peaksCache.has(key)) return peaksCache.get(key);
  const bytes = await (await fetch(url, { credentials: "same-origin" })).arrayBuffer();
  const decoded = await new OfflineAudioContext(1, 1, 48000).decodeAudioData(bytes);
  const data = decoded.getChannelData(0);
  const peaks = new Float32Array(buckets);
  const step = Math.max(1, Math.floor(data.length / buckets));
  let loudest = 0;
  for (let b = 0; b < buckets; b++) {
    let peak = 0;
    const end = Math.min(data.length, (b + 1) * step);
    for (let i = b * step; i < end; i++) peak = Math.max(peak, Math.abs(data[i]));
    peaks[b] = peak;
    loudest = Math.max(loudest, peak);
  }
  if (loudest > 0) for (let b = 0; b < buckets; b++) peaks[b] /= loudest;
  peaksCache.set(key, peaks);
  return peaks;
}

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function draw(canvas, peaks, progress) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const bar = width / peaks.length;
  const played = colour("--accent");
  const rest = colour("--muted");
  for (let i = 0; i < peaks.length; i++) {
    const amp = Math.max(1, peaks[i] * (height - 4));
    ctx.fillStyle = (i + 0.5) / peaks.length <= progress ? played : rest;
    ctx.fillRect(i * bar + 0.5, (height - amp) / 2, Math.max(1, bar - 1), amp);
  }
  const x = Math.round(progress * width);
  ctx.fillStyle = colour("--text");
  ctx.fillRect(Math.min(width - 2, x), 0, 2, height);
}

/** The audio element, its waveform canvas and a speed picker, wired together. */
export function speechPlayer(url, { label }) {
  const audio = h("audio", { controls: true, preload: "metadata", src: url, "aria-label": label });
  const canvas = h("canvas", { class: "wave", height: 56, role: "img",
    "aria-label": `Waveform of ${label}; click to seek` });
  const speed = h("select", { class: "speed", "aria-label": "Playback speed" },
    SPEEDS.map((s) => h("option", { value: String(s), text: `${s}×`, selected: s === 1 })));
  speed.addEventListener("change", () => { audio.playbackRate = Number(speed.value); });
  let peaks = null;
  const redraw = () => {
    if (!peaks) return;
    const progress = audio.duration ? audio.currentTime / audio.duration : 0;
    draw(canvas, peaks, progress);
    canvas.dataset.progress = progress.toFixed(3);
  };
  const tick = () => { redraw(); if (!audio.paused) requestAnimationFrame(tick); };
  audio.addEventListener("play", () => requestAnimationFrame(tick));
  audio.addEventListener("timeupdate", redraw);
  audio.addEventListener("seeked", redraw);
  canvas.addEventListener("click", (ev) => {
    const r = canvas.getBoundingClientRect();
    if (audio.duration) audio.currentTime = ((ev.clientX - r.left) / r.width) * audio.duration;
  });
  const sizeAndDraw = async () => {
    const width = Math.max(120, Math.round(canvas.getBoundingClientRect().width || 480));
    canvas.width = width;
    try {
      peaks = await peaksOf(url, Math.floor(width / 3));
      canvas.dataset.drawn = "true";
      redraw();
    } catch {
      canvas.dataset.drawn = "failed"; // the player still works without its picture
    }
  };
  requestAnimationFrame(sizeAndDraw);
  return h("div", { class: "player" }, canvas,
    h("div", { class: "player-row" }, audio, h("label", { class: "field small" }, "Speed", speed)));
}
