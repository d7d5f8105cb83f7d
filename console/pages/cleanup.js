// Cleanup old customers (admin): erase every deleted customer for good. The button is enabled
// only once the admin has typed "erase N"; the purge carries expectCount N, so a list that changed
// meanwhile is refused. Then the erasure pass's progress (polled), and its receipt.
import { call, listAll } from "../api.js";
import { el, field, notice, showPage } from "../ui.js";
import { erasureReceipt } from "./erasure_receipt.js";

const kPollMs = 300;
const kPollDeadlineMs = 10 * 60 * 1000;

export async function renderCleanup() {
  const customers = await listAll(true);
  const numbers = customers.map((c) => c.number);
  const n = numbers.length;
  if (n === 0) {
    showPage("Cleanup old customers", notice("There are no deleted customers: nothing to clean up."));
    return;
  }
  const phrase = `erase ${n}`;
  const typed = field("cleanup-confirm", `Type "${phrase}" to confirm`, { autocomplete: "off", spellcheck: "false" });
  const count = `${n} ${n === 1 ? "customer" : "customers"}`;
  const button = el("button", { type: "submit", class: "danger", disabled: true }, `Erase ${count}`);
  const progress = el("div", { role: "status", "aria-live": "polite" });
  const form = el("form", { class: "card" }, typed.wrapper, button);
  showPage(
    "Cleanup old customers",
    el("p", {}, `This erases the ${count} deleted now, for good, and frees every one of their numbers:`),
    el("ul", { class: "numbers", "aria-label": "Numbers that will be freed" }, numbers.map((x) => el("li", {}, x))),
    notice("This cannot be undone: their data and history are erased from the ledger and its files.", "warning"),
    form,
    progress,
  );
  typed.input.addEventListener("input", () => (button.disabled = typed.input.value.trim() !== phrase));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (typed.input.value.trim() !== phrase) return;
    button.disabled = true;
    typed.input.disabled = true;
    progress.replaceChildren(el("p", {}, "Purging…"));
    const { response } = await call({ purge: { confirm: true, expectCount: String(n), wait: false } });
    if (response.error) {
      progress.replaceChildren(notice(response.error.message, "error"));
      typed.input.disabled = false;
      return;
    }
    const purged = response.purged;
    await followErasure(purged, progress);
  });
}

// Polls the purge's erasure report until its pass has reported, showing how long it has run.
async function followErasure(purged, progress) {
  const started = Date.now();
  let erasure = purged.erasure;
  while (erasure.erasureState === "pending" && Date.now() - started < kPollDeadlineMs) {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    progress.replaceChildren(
      el("p", {}, `Erased ${purged.purged} from the ledger; the erasure pass is removing their bytes from disk (${seconds} s)…`),
      el("progress", { "aria-label": "Erasure pass" }),
    );
    await new Promise((resolve) => setTimeout(resolve, kPollMs));
    const { response } = await call({ erasureReport: purged.seq });
    if (response.error) {
      progress.replaceChildren(notice(response.error.message, "error"));
      return;
    }
    erasure = response.erasure;
  }
  progress.replaceChildren(el("h2", {}, "Receipt"), erasureReceipt(purged.seq, purged, erasure));
}
