// New customer (#/new) and Edit (#/edit/N, active or deleted): each field's refusal is shown
// beside it, in the server's words.
import { call, kFields } from "../api.js";
import { el, field, notice, showPage, toast } from "../ui.js";

const kLabels = { name: "Name", company: "Company", email: "Email", phone: "Phone", address: "Address", notes: "Notes" };

export async function renderCustomerForm(session, number) {
  let customer = null;
  if (number) {
    const { response } = await call({ get: { number } });
    if (response.error) {
      showPage(`Customer ${number}`, notice(response.error.message, "error"));
      return;
    }
    customer = response.customer;
  }
  const deleted = customer?.status === "deleted";
  const inputs = {};
  const numberField = customer ? null : field("customer-number", "Number (empty: the lowest free one)", { inputmode: "numeric" });
  if (numberField) inputs.number = numberField;
  for (const name of kFields) {
    inputs[name] = field(`customer-${name}`, kLabels[name], { value: customer?.fields?.[name] ?? "" });
  }
  const general = el("div", { "aria-live": "polite" });
  const submit = el("button", { type: "submit" }, customer ? "Save" : "Create customer");
  const back = deleted ? "#/deleted" : "#/customers";
  const form = el(
    "form",
    { class: "card", novalidate: true },
    Object.values(inputs).map((f) => f.wrapper),
    general,
    el("div", { class: "actions" }, submit, el("a", { href: back }, "Cancel")),
  );
  const intro = deleted
    ? notice(`Customer ${number} is deleted. Saving keeps it deleted; undelete it from the deleted customers' page.`, "warning")
    : null;
  showPage(customer ? `Edit customer ${number}` : "New customer", intro, form);
  (numberField ?? inputs.name).input.focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of Object.values(inputs)) {
      f.problem.replaceChildren();
      f.input.removeAttribute("aria-invalid");
    }
    general.replaceChildren();
    submit.disabled = true;
    try {
      const { response } = await call(customer ? editRequest(customer, inputs) : createRequest(inputs));
      if (!response.error) {
        const written = response.written;
        toast(customer ? `Saved customer ${written.number}.` : `Created customer ${written.number}.`);
        location.hash = back;
        return;
      }
      showRefusal(response.error, inputs, general);
    } finally {
      submit.disabled = false;
    }
  });
}

function createRequest(inputs) {
  const fields = {};
  for (const name of kFields) {
    const value = inputs[name].input.value;
    if (value !== "") fields[name] = value;
  }
  const number = inputs.number.input.value.trim();
  return { create: { fields, number: number === "" ? "0" : number } };
}

function editRequest(customer, inputs) {
  const changes = [];
  for (const name of kFields) {
    const value = inputs[name].input.value;
    if (value !== (customer.fields?.[name] ?? "")) changes.push({ field: name, value });
  }
  return { edit: { number: customer.number, changes, expectRevision: customer.revision } };
}

// The refusal beside its field (invalidField names it; a held number is the number field's), with
// a link to the customer that holds the number; anything else under the form.
function showRefusal(error, inputs, general) {
  const held = error.code === "numberHeldByDeleted" || error.code === "numberHeldByActive";
  const target = held ? inputs.number : inputs[error.field];
  const where = target ? target.problem : general;
  where.append(error.message);
  if (held) {
    const number = inputs.number.input.value.trim();
    const which = error.code === "numberHeldByDeleted" ? "deleted " : "";
    where.append(" ", el("a", { href: `#/edit/${number}` }, `Open the ${which}customer ${number}`));
  }
  if (target) {
    target.input.setAttribute("aria-invalid", "true");
    target.input.focus();
  }
}
