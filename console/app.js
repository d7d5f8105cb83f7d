// The console's entry point: who is logged in, the navigation for that role, and the hash routes
// (#/customers, #/new, #/edit/12, #/deleted, #/cleanup, #/history/12, #/audit).
import { can, currentSession, logOut } from "./api.js";
import { showPage, notice } from "./ui.js";
import { renderLogin } from "./pages/login.js";
import { renderCustomers } from "./pages/customers.js";
import { renderCustomerForm } from "./pages/customer_form.js";
import { renderDeleted } from "./pages/deleted.js";
import { renderCleanup } from "./pages/cleanup.js";
import { renderHistory } from "./pages/history.js";
import { renderAudit } from "./pages/audit.js";

let session = null;
// Set by a page that holds something open (the live feed): called before the next page renders.
let leavePage = null;

// The pages, with the roles that see them; a page a role may not use is neither linked nor served.
const routes = [
  { path: "customers", label: "Customers", allowed: () => true, render: (s) => renderCustomers(s) },
  { path: "deleted", label: "Deleted customers", allowed: () => true, render: (s) => renderDeleted(s) },
  { path: "history", label: "History", allowed: () => true, render: (s, arg) => renderHistory(s, arg) },
  { path: "cleanup", label: "Cleanup old customers", allowed: can.purge, render: (s) => renderCleanup(s) },
  { path: "audit", label: "Audit", allowed: can.audit, render: (s) => renderAudit(s) },
  { path: "new", allowed: can.write, render: (s) => renderCustomerForm(s, null) },
  { path: "edit", allowed: can.write, render: (s, arg) => renderCustomerForm(s, arg) },
];

function renderNav() {
  const nav = document.getElementById("nav");
  const links = routes
    .filter((route) => route.label && route.allowed(session.role))
    .map((route) => {
      const link = document.createElement("a");
      link.href = `#/${route.path}`;
      link.textContent = route.label;
      link.dataset.path = route.path;
      return link;
    });
  nav.replaceChildren(...links);
  nav.hidden = false;
  document.getElementById("who-name").textContent = `${session.principal} (${session.role})`;
  document.getElementById("who").hidden = false;
}

function markCurrent(path) {
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.path === path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  if (leavePage) {
    leavePage();
    leavePage = null;
  }
  if (!session) {
    renderLogin(async (welcome) => {
      session = welcome;
      renderNav();
      if (location.hash === "" || location.hash === "#/login") location.hash = "#/customers";
      else await route();
    });
    return;
  }
  const [, path = "customers", arg] = location.hash.split("/");
  const found = routes.find((r) => r.path === path);
  markCurrent(found?.path);
  if (!found) {
    showPage("Not found", notice(`There is no page ${location.hash}.`, "error"));
    return;
  }
  if (!found.allowed(session.role)) {
    showPage("Not allowed", notice(`The role ${session.role} may not use this page.`, "error"));
    return;
  }
  try {
    leavePage = (await found.render(session, arg ? decodeURIComponent(arg) : undefined)) ?? null;
  } catch (error) {
    showPage("Something went wrong", notice(error.message, "error"));
  }
}

function loggedOut() {
  session = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  location.hash = "#/login";
  route();
}

document.getElementById("logout").addEventListener("click", async () => {
  await logOut();
  loggedOut();
});
window.addEventListener("ledger:logged-out", () => {
  if (session) loggedOut();
});
window.addEventListener("hashchange", route);

session = await currentSession();
if (session) renderNav();
route();
