// The table both customer lists share: a checkbox per row (for those who may act on the rows),
// the customer's fields, and links to its edit form and history.
import { el } from "../ui.js";

// `extraColumns`: [{header, cell(customer)}] after the fields. Returns {table, selected()}.
export function customerTable(customers, { selectable, editable, extraColumns = [], caption }) {
  const boxes = [];
  const head = el(
    "tr",
    {},
    selectable ? el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Select")) : null,
    ["Number", "Name", "Company", "Phone", "Email"].map((name) => el("th", { scope: "col" }, name)),
    extraColumns.map((column) => el("th", { scope: "col" }, column.header)),
    el("th", { scope: "col" }, "Actions"),
  );
  const rows = customers.map((customer) => {
    const fields = customer.fields ?? {};
    let box = null;
    if (selectable) {
      box = el("input", { type: "checkbox", "aria-label": `Select customer ${customer.number}`, value: customer.number });
      boxes.push(box);
    }
    return el(
      "tr",
      { dataset: { number: customer.number } },
      selectable ? el("td", {}, box) : null,
      el("td", { class: "number" }, customer.number),
      el("td", {}, fields.name ?? ""),
      el("td", {}, fields.company ?? ""),
      el("td", {}, fields.phone ?? ""),
      el("td", {}, fields.email ?? ""),
      extraColumns.map((column) => el("td", {}, column.cell(customer))),
      el(
        "td",
        { class: "row-actions" },
        editable ? el("a", { href: `#/edit/${customer.number}`, "aria-label": `Edit customer ${customer.number}` }, "Edit") : null,
        el("a", { href: `#/history/${customer.number}`, "aria-label": `History of customer ${customer.number}` }, "History"),
      ),
    );
  });
  const table = el("table", {}, caption ? el("caption", {}, caption) : null, el("thead", {}, head), el("tbody", {}, rows));
  return { table, selected: () => boxes.filter((box) => box.checked).map((box) => box.value) };
}

// "3 customers: 12, 13, 14" / "1 customer: 12"
export function describeNumbers(numbers) {
  return `${numbers.length} ${numbers.length === 1 ? "customer" : "customers"}: ${numbers.join(", ")}`;
}

// The refusal of a delete or undelete in words: the message and each offending number.
export function refusalText(error) {
  const problems = (error.numbers ?? []).map((problem) => `${problem.number} (${problem.code})`);
  return problems.length ? `${error.message} — ${problems.join(", ")}` : error.message;
}
