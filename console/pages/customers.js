// Customers: the active list, paged, with a search box; new, edit, and delete with an undo.
import { call, can } from "../api.js";
import { confirmDialog, el, notice, showPage, toast } from "../ui.js";
import { customerTable, describeNumbers, refusalText } from "./customer_list.js";

const kPageSize = 50;

export function renderCustomers(session) {
  const writer = can.write(session.role);
  const search = el("input", { id: "search", type: "search", autocomplete: "off" });
  const deleteButton = el("button", { type: "button", class: "danger", disabled: true }, "Delete selected");
  const status = el("div", { class: "status", "aria-live": "polite" });
  const listArea = el("div", {});
  const previous = el("button", { type: "button", disabled: true }, "Previous page");
  const next = el("button", { type: "button", disabled: true }, "Next page");
  const toolbar = el(
    "div",
    { class: "toolbar" },
    el("label", { for: "search" }, "Search name, email or phone"),
    search,
    writer ? el("a", { class: "button", href: "#/new" }, "New customer") : null,
    writer ? deleteButton : null,
  );
  showPage("Customers", toolbar, status, listArea, el("div", { class: "pager" }, previous, next));

  // The `after` of each page shown so far: the last is the current page's.
  let cursors = ["0"];
  let table = null;
  let generation = 0;

  async function load() {
    const mine = ++generation;
    const after = cursors[cursors.length - 1];
    const { response } = await call({ list: { deleted: false, after, limit: kPageSize, search: search.value.trim() } });
    if (mine !== generation) return;  // a later keystroke's answer wins
    if (response.error) {
      listArea.replaceChildren(notice(response.error.message, "error"));
      return;
    }
    const customers = response.page.customers ?? [];
    table = customerTable(customers, { selectable: writer, editable: writer, caption: "Active customers" });
    listArea.replaceChildren(customers.length ? table.table : notice(search.value ? "No customer matches." : "No customers yet."));
    table.table.addEventListener("change", () => (deleteButton.disabled = table.selected().length === 0));
    deleteButton.disabled = true;
    previous.disabled = cursors.length === 1;
    next.disabled = !response.page.next || response.page.next === "0";
    next.onclick = () => {
      cursors.push(response.page.next);
      load();
    };
  }
  previous.addEventListener("click", () => {
    cursors.pop();
    load();
  });

  let debounce = null;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      cursors = ["0"];
      load();
    }, 250);
  });

  deleteButton.addEventListener("click", async () => {
    const numbers = table.selected();
    if (!numbers.length) return;
    const confirmed = await confirmDialog({
      title: "Delete customers",
      message: `Delete ${describeNumbers(numbers)}?`,
      confirmLabel: "Delete",
    });
    if (!confirmed) return;
    const { response } = await call({ delete: { numbers } });
    if (response.error) {
      status.replaceChildren(notice(refusalText(response.error), "error"));
      return;
    }
    const deleted = response.changed.numbers ?? numbers;
    status.replaceChildren();
    toast(`Deleted ${describeNumbers(deleted)}.`, {
      label: "Undo",
      run: async () => {
        const undo = await call({ undelete: { numbers: deleted } });
        if (undo.response.error) toast(`Undo refused: ${refusalText(undo.response.error)}`);
        else toast(`Undeleted ${describeNumbers(deleted)}.`);
        if (location.hash === "#/customers" || location.hash === "") load();
      },
    });
    await load();
  });

  load();
}
