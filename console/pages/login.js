// The login form: a token for POST /api/v1/session, which sets the session cookie.
import { logIn } from "../api.js";
import { el, field, showPage } from "../ui.js";

export function renderLogin(onLoggedIn) {
  const token = field("token", "Access token", { type: "password", autocomplete: "current-password", required: true });
  const submit = el("button", { type: "submit" }, "Log in");
  const form = el("form", { class: "card narrow" }, token.wrapper, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    token.problem.textContent = "";
    submit.disabled = true;
    try {
      const welcome = await logIn(token.input.value);
      await onLoggedIn(welcome);
    } catch (error) {
      token.problem.textContent = error.message;
      token.input.focus();
    } finally {
      submit.disabled = false;
    }
  });
  showPage("Log in", el("p", {}, "Log in with the token an admin gave you."), form);
  token.input.focus();
}
