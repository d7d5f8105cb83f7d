// A purge's receipt in words, from its Purged answer and its erasure pass's typed report
// (docs/erasure.md): what was erased, and what the pass found left.
import { formatTime } from "../api.js";
import { el } from "../ui.js";

// `purged`: {purged, numbersFreed, seq} or null (only the report is known); `erasure`: an Erasure.
export function erasureReceipt(seq, purged, erasure) {
  const report = erasure.erasureReport ?? {};
  const rows = [];
  const row = (term, value) => rows.push(el("dt", {}, term), el("dd", {}, String(value)));
  row("Purge", `seq ${seq}`);
  if (purged) {
    row("Customers erased", purged.purged);
    row("Numbers freed", (purged.numbersFreed ?? []).join(", ") || "none");
  }
  row("State", stateInWords(erasure.erasureState));
  if (erasure.erasureReport) {
    row("Entries redacted", report.purgedEntries);
    row("Residue", report.residue);
    row("Files scanned", report.filesScanned);
    row("Bytes scanned", report.bytesScanned);
    row("Keys destroyed", report.unreadable ? `${report.unreadable.keysDeleted} of ${report.unreadable.customers}` : "not reported");
    row("Pass started", formatTime(report.startedAtUs));
    row("Pass took", `${report.durationMs} ms`);
    row("Purges the pass covered", (report.purgeSeqs ?? []).join(", "));
    if (report.error) row("Error", report.error);
  }
  // The purge's receipt, as its log entry records it; ledger-audit proves the root against an
  // export (docs/tools.md).
  const receipt = erasure.receipt;
  if (receipt) {
    if (!purged) {
      row("Customers erased", receipt.purged);
      row("Numbers freed", (receipt.numbersFreed ?? []).join(", ") || "none");
    }
    row("Log entries replaced by stubs", receipt.entriesRedacted);
    row("Merkle root", hex(receipt.merkleRoot));
  }
  return el("dl", { class: "receipt", "aria-label": `Receipt of purge ${seq}` }, rows);
}

export function stateInWords(state) {
  switch (state) {
    case "verified": return "verified: nothing of the erased customers is left on disk";
    case "notVerified": return "not verified: the next erasure pass tries again (see the report)";
    case "pending": return "pending: the erasure pass has not reported yet";
    default: return `not verified (${state})`;
  }
}

// Data arrives from the JSON API as an array of byte values.
export function hex(bytes) {
  return (bytes ?? []).map((b) => Number(b).toString(16).padStart(2, "0")).join("");
}
