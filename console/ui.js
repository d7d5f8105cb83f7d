// Small DOM helpers shared by the pages: element creation, toasts, the confirmation dialog.

// Creates an element: el("button", {type: "button", onclick: f}, "Save").
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A labelled input: returns {wrapper, input, problem}; `problem` shows the server's refusal.
export function field(id, label, attributes = {}) {
  const input = el("input", { id, name: id, ...attributes });
  const problem = el("span", { id: `${id}-problem`, class: "problem", role: "alert" });
  input.setAttribute("aria-describedby", problem.id);
  const wrapper = el("div", { class: "field" }, el("label", { for: id }, label), input, problem);
  return { wrapper, input, problem };
}

// At most this many toasts show at once; a new one pushes out the oldest.
const kMaxToasts = 3;

// Shows a short message; `action` ({label, run}) adds a button (Undo). Stays `ms` milliseconds:
// by default 5 s, 15 s with an action (time to reach it by keyboard).
export function toast(message, action, ms = action ? 15000 : 5000) {
  const box = el("div", { class: "toast" }, el("span", {}, message));
  if (action) {
    box.append(
      el("button", {
        type: "button",
        onclick: async () => {
          box.remove();
          await action.run();
        },
      }, action.label),
    );
  }
  const toasts = document.getElementById("toasts");
  toasts.append(box);
  while (toasts.children.length > kMaxToasts) toasts.firstChild.remove();
  setTimeout(() => box.remove(), ms);
  return box;
}

// A modal confirmation (role="alertdialog"): resolves true for the confirm button, false for
// Cancel or Escape. Focus starts on Cancel, stays inside, and returns where it was.
export function confirmDialog({ title, message, confirmLabel }) {
  return new Promise((resolve) => {
    const before = document.activeElement;
    const cancel = el("button", { type: "button", class: "cancel" }, "Cancel");
    const confirm = el("button", { type: "button", class: "danger" }, confirmLabel);
    const dialog = el(
      "div",
      { class: "dialog", role: "alertdialog", "aria-modal": "true", "aria-labelledby": "dialog-title", "aria-describedby": "dialog-message" },
      el("h2", { id: "dialog-title" }, title),
      el("p", { id: "dialog-message" }, message),
      el("div", { class: "actions" }, cancel, confirm),
    );
    const backdrop = el("div", { class: "backdrop" }, dialog);
    const close = (answer) => {
      backdrop.remove();
      before?.focus?.();
      resolve(answer);
    };
    cancel.addEventListener("click", () => close(false));
    confirm.addEventListener("click", () => close(true));
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close(false);
      } else if (event.key === "Tab") {
        // Two buttons: Tab moves between them and never leaves the dialog.
        event.preventDefault();
        (document.activeElement === cancel ? confirm : cancel).focus();
      }
    });
    document.body.append(backdrop);
    cancel.focus();
  });
}

// Replaces the main area's content and moves focus to its heading, so that a keyboard or screen
// reader user starts on the new page.
export function showPage(title, ...content) {
  const main = document.getElementById("main");
  const heading = el("h1", { tabindex: "-1" }, title);
  main.replaceChildren(heading, ...content.filter((part) => part !== null && part !== undefined && part !== false));
  document.title = `${title} · Customer Ledger`;
  heading.focus();
  return main;
}

// A one-line message in the page (errors, "nothing here").
export function notice(text, kind = "info") {
  return el("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : undefined }, text);
}
