// The usage panel: what generating here cost, today and over 30 days (GET /api/usage).

import { $, api, h } from "./dom.js";

function table(lines) {
  if (!lines.length) return h("p", { class: "muted", text: "Nothing generated yet." });
  const head = h("tr", {}, ["kind", "requests", "images/clips", "tokens in", "tokens out", "est. cost"]
    .map((t) => h("th", { text: t })));
  const rows = lines.map((l) => h("tr", {}, [l.kind, l.requests, l.generations, l.tokens_in, l.tokens_out, l.cost]
    .map((v) => h("td", { text: String(v) }))));
  return h("table", { class: "usage" }, h("thead", {}, head), h("tbody", {}, rows));
}

export async function showUsage() {
  const body = $("usage-body");
  body.replaceChildren(h("p", { class: "muted", text: "Loading…" }));
  $("usage-dialog").showModal();
  try {
    const u = await api("/api/usage");
    body.replaceChildren(
      h("p", { text: `Today: about ${u.today_cost}${u.offline ? " (offline previews cost nothing)" : ""}.` }),
      h("h3", { text: "Today (UTC)" }), table(u.today),
      h("h3", { text: "Last 30 days" }), table(u.last_30_days));
  } catch (err) {
    body.replaceChildren(h("p", { class: "error", text: err.message }));
  }
}
