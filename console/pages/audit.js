// Audit (auditor, admin): the ledger's counters, a purge's receipt by its seq, and the live feed
// of log entries with the chain head it last saw.
import { call, formatTime } from "../api.js";
import { openFeed } from "../feed.js";
import { el, field, notice, showPage } from "../ui.js";
import { erasureReceipt, hex } from "./erasure_receipt.js";

const kKinds = { created: "created", edited: "edited", deleted: "deleted", undeleted: "undeleted", purged: "purged" };
const kShownEntries = 200;

export async function renderAudit() {
  const cards = el("div", { class: "cards" });
  const receiptSeq = field("receipt-seq", "Purge seq", { inputmode: "numeric" });
  const receiptArea = el("div", { "aria-live": "polite" });
  const receiptForm = el("form", { class: "toolbar" }, receiptSeq.wrapper, el("button", { type: "submit" }, "Show receipt"));
  const purgesSeen = el("ul", { class: "purges", "aria-label": "Purges seen on the live feed" });
  const indicator = el("span", { class: "indicator", role: "status" }, "connecting");
  const pause = el("button", { type: "button", "aria-pressed": "false" }, "Pause");
  const chainHead = el("p", { class: "chain" }, "Chain head: loading.");
  const entries = el("ol", { class: "feed", "aria-label": "Log entries, newest first" });
  showPage(
    "Audit",
    el("h2", {}, "Ledger"),
    cards,
    el("h2", {}, "Purge receipts"),
    el("p", {}, "A purge's seq is in its answer and on the live feed; its receipt holds its erasure pass's report."),
    receiptForm,
    purgesSeen,
    receiptArea,
    el("h2", {}, "Live feed"),
    el("div", { class: "toolbar" }, el("span", {}, "Connection: "), indicator, pause),
    chainHead,
    entries,
  );

  const { response } = await call({ stats: null });
  if (response.error) cards.replaceChildren(notice(response.error.message, "error"));
  else {
    const s = response.stats;
    const card = (label, value) => el("div", { class: "card stat" }, el("div", { class: "value" }, value), el("div", {}, label));
    cards.replaceChildren(
      card("active customers", s.active),
      card("deleted customers", s.deleted),
      card("log entries", String(BigInt(s.nextSeq) - 1n)),
      card("commands answered", s.commands),
      card("group commits", s.batches),
      card("open connections", s.connections),
    );
    const last = BigInt(s.nextSeq) - 1n;
    chainHead.textContent = last > 0n ? `Chain head: seq ${last}, ${hex(s.chainHead)}` : "Chain head: the log is empty.";
  }

  async function showReceipt(seq) {
    const { response: answer } = await call({ erasureReport: seq });
    if (answer.error) receiptArea.replaceChildren(notice(answer.error.message, "error"));
    else receiptArea.replaceChildren(erasureReceipt(seq, null, answer.erasure));
  }
  receiptForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const seq = receiptSeq.input.value.trim();
    if (seq) showReceipt(seq);
  });

  // The feed: paused means closed; resuming subscribes again after the last entry shown.
  let lastSeq = 0n;
  let close = null;
  const states = {
    connecting: "connecting…",
    live: "live",
    closed: "disconnected",
    unavailable: "live feed unavailable",
    error: "stopped by the server",
  };
  function start() {
    close = openFeed(lastSeq + 1n, {
      onState: (state, detail) => {
        indicator.textContent = states[state] + (detail ? ` (${detail})` : "");
        indicator.dataset.state = state;
        if (state === "unavailable") pause.disabled = true;
      },
      onEntry: (entry) => {
        lastSeq = BigInt(entry.seq);
        const kind = kKinds[entry.eventKind] ?? `kind ${entry.kind}`;
        const who = entry.number && entry.number !== "0" ? ` customer ${entry.number}` : "";
        entries.prepend(el("li", {}, `seq ${entry.seq}: ${kind}${who} by ${entry.actor}, ${formatTime(entry.at)}`));
        while (entries.children.length > kShownEntries) entries.lastChild.remove();
        chainHead.textContent = `Chain head: seq ${entry.seq}, ${hex(entry.chain)}`;
        if (entry.eventKind === "purged") {
          purgesSeen.append(el("li", {}, el("button", { type: "button", onclick: () => showReceipt(entry.seq) }, `Receipt of purge ${entry.seq}`)));
        }
      },
    });
  }
  pause.addEventListener("click", () => {
    const paused = pause.getAttribute("aria-pressed") === "true";
    if (paused) {
      pause.setAttribute("aria-pressed", "false");
      pause.textContent = "Pause";
      start();
    } else {
      pause.setAttribute("aria-pressed", "true");
      pause.textContent = "Resume";
      close?.();
      close = null;
      indicator.textContent = "paused";
      indicator.dataset.state = "paused";
    }
  });
  start();
  return () => close?.();
}
