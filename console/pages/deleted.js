// Manage deleted customers: who deleted each and when (from its history), undelete selected,
// edit (the customer stays deleted).
import { call, can, formatTime, listAll } from "../api.js";
import { el, notice, showPage, toast } from "../ui.js";
import { customerTable, describeNumbers, refusalText } from "./customer_list.js";

export async function renderDeleted(session) {
  const writer = can.write(session.role);
  const undelete = el("button", { type: "button", disabled: true }, "Undelete selected");
  const status = el("div", { class: "status", "aria-live": "polite" });
  const listArea = el("div", {});
  showPage(
    "Manage deleted customers",
    el("p", {}, "Deleted customers keep their numbers until a cleanup erases them. Undelete brings one back as it was."),
    el(
      "div",
      { class: "toolbar" },
      writer ? undelete : null,
      can.purge(session.role) ? el("a", { class: "button", href: "#/cleanup" }, "Cleanup old customers") : null,
    ),
    status,
    listArea,
  );

  let table = null;
  async function load() {
    const customers = await listAll(true);
    // Who deleted each and when: the last CustomerDeleted event of its history.
    const deletions = await Promise.all(
      customers.map(async (customer) => {
        const { response } = await call({ history: { number: customer.number } });
        const events = response.history?.events ?? [];
        return events.filter((e) => e.eventKind === "deleted").pop();
      }),
    );
    const byNumber = new Map(customers.map((c, i) => [c.number, deletions[i]]));
    table = customerTable(customers, {
      selectable: writer,
      editable: writer,
      caption: "Deleted customers",
      extraColumns: [
        { header: "Deleted by", cell: (c) => byNumber.get(c.number)?.actor ?? "" },
        { header: "Deleted at", cell: (c) => (byNumber.get(c.number) ? formatTime(byNumber.get(c.number).at) : "") },
      ],
    });
    listArea.replaceChildren(customers.length ? table.table : notice("No deleted customers."));
    table.table.addEventListener("change", () => (undelete.disabled = table.selected().length === 0));
    undelete.disabled = true;
  }

  undelete.addEventListener("click", async () => {
    const numbers = table.selected();
    const { response } = await call({ undelete: { numbers } });
    if (response.error) {
      status.replaceChildren(notice(refusalText(response.error), "error"));
      return;
    }
    status.replaceChildren();
    toast(`Undeleted ${describeNumbers(response.changed.numbers ?? numbers)}.`);
    await load();
  });

  await load();
}
