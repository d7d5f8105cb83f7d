// The JSON API (docs/http.md): one protocol Request as JSON per POST, its Response as JSON.
// 64-bit integers travel as strings; a refusal is a Response whose `error` says why.

let nextId = 1;

// The headers every state-changing request carries: the server refuses a POST without the custom
// header (CSRF), and the body is JSON.
const kPostHeaders = { "Content-Type": "application/json", "X-Ledger-Request": "1" };

// Thrown when the server cannot be reached or answers something that is not a Response.
export class TransportError extends Error {}

// Sends one request (an object with one member: {create: {...}}) and resolves with
// {status, response}; `response.error` is set for a refusal.
export async function call(request) {
  const body = JSON.stringify({ id: String(nextId++), ...request });
  let reply;
  try {
    reply = await fetch("/api/v1/requests", { method: "POST", headers: kPostHeaders, body, credentials: "same-origin" });
  } catch (error) {
    throw new TransportError(`the server cannot be reached (${error.message})`);
  }
  let response;
  try {
    response = await reply.json();
  } catch {
    throw new TransportError(`the server answered ${reply.status} without a JSON body`);
  }
  if (reply.status === 401) window.dispatchEvent(new CustomEvent("ledger:logged-out"));
  return { status: reply.status, response };
}

// The logged-in principal ({principal, role}) or null.
export async function currentSession() {
  const reply = await fetch("/api/v1/session", { credentials: "same-origin" });
  if (reply.status !== 200) return null;
  return reply.json();
}

// Logs in with a token; resolves with {principal, role} or throws an Error with the server's words.
export async function logIn(token) {
  const reply = await fetch("/api/v1/session", {
    method: "POST",
    headers: kPostHeaders,
    body: JSON.stringify({ token }),
    credentials: "same-origin",
  });
  const body = await reply.json().catch(() => ({}));
  if (reply.status !== 200) throw new Error(body.error?.message ?? `login failed (${reply.status})`);
  return body;
}

export async function logOut() {
  await fetch("/api/v1/session", { method: "DELETE", headers: { "X-Ledger-Request": "1" }, credentials: "same-origin" });
}

// Every customer of a list (active or deleted), following `next` page by page.
export async function listAll(deleted) {
  const customers = [];
  let after = "0";
  for (;;) {
    const { response } = await call({ list: { deleted, after, limit: 1000 } });
    if (response.error) throw new Error(response.error.message);
    customers.push(...(response.page.customers ?? []));
    if (!response.page.next || response.page.next === "0") return customers;
    after = response.page.next;
  }
}

// What each role may send (server/tokens.cpp, role_allows): the console shows only what passes.
export const can = {
  write: (role) => role === "clerk" || role === "admin",
  purge: (role) => role === "admin",
  audit: (role) => role === "auditor" || role === "admin",
};

export const kFields = ["name", "company", "email", "phone", "address", "notes"];

// A protocol time (microseconds since the Unix epoch, as a string) in the reader's locale.
export function formatTime(atUs) {
  const ms = Number(BigInt(atUs) / 1000n);
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}
