// The voice picker (remembered), its preview, and the light/dark switch (remembered).

import { $, h, UNREACHABLE } from "./dom.js";

export async function previewVoice(onError) {
  const btn = $("preview-voice");
  btn.disabled = true;
  btn.textContent = "… Preparing";
  try {
    const res = await fetch(`/api/voices/${encodeURIComponent($("voice").value)}/preview`).catch(() => {
      throw new Error(UNREACHABLE);
    });
    if (!res.ok) throw new Error((await res.json()).error || "No preview available.");
    const audio = $("preview-audio");
    audio.src = URL.createObjectURL(await res.blob());
    await audio.play().catch(() => { /* autoplay may be refused; the clip is still loaded */ });
  } catch (err) {
    onError(err.message);
  } finally {
    btn.disabled = false;
    btn.textContent = "▶ Preview voice";
  }
}

export function setupVoices(info) {
  const picker = $("voice");
  const saved = localStorage.getItem("studiobot-voice");
  const chosen = info.voices.some((v) => v.name === saved) ? saved : info.default_voice;
  for (const v of info.voices) {
    picker.append(h("option", { value: v.name, text: `${v.name} · ${v.character}`, selected: v.name === chosen }));
  }
  picker.addEventListener("change", () => localStorage.setItem("studiobot-voice", picker.value));
}

export function setupTheme() {
  const saved = localStorage.getItem("studiobot-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  $("theme").addEventListener("click", () => {
    const dark = document.documentElement.dataset.theme
      ? document.documentElement.dataset.theme === "dark" : !matchMedia("(prefers-color-scheme: light)").matches;
    document.documentElement.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("studiobot-theme", document.documentElement.dataset.theme);
  });
}
