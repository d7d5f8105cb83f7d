// Roles: each sees only what the server would accept from it, and the API refuses the rest —
// a clerk's purge by hand, a request without the custom header, a request from another Origin,
// a feed (WebSocket) upgrade without the session cookie.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { Ledgerd, launchBrowser, loggedInPage, screenshot } from "./harness.js";

const tokens = [
  { name: "clerk:anna", role: "clerk", token: "anna-token" },
  { name: "audit:omar", role: "auditor", token: "omar-token" },
  { name: "ops:kim", role: "admin", token: "kim-token" },
];
let ledgerd;
let browser;

before(async () => {
  ledgerd = await Ledgerd.start({ tokens });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await ledgerd?.stop();
});

const navLinks = (page) => page.locator("#nav a").allTextContents();

test("an unknown token is refused on the login form, in the server's words", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(ledgerd.url);
  await page.getByLabel("Access token").fill("wrong");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("#token-problem", { hasText: "unknown token" }).waitFor();
  await context.close();
});

test("a clerk sees no Cleanup and no Audit, and the API refuses the clerk's purge with 403", async () => {
  const page = await loggedInPage(browser, ledgerd, "anna-token");
  assert.equal(await page.locator("#who-name").textContent(), "clerk:anna (clerk)");
  assert.deepEqual(await navLinks(page), ["Customers", "Deleted customers", "History"]);
  await page.getByRole("link", { name: "New customer" }).waitFor();
  // Typed by hand, the page is not served either.
  await page.goto(`${ledgerd.url}#/cleanup`);
  await page.getByRole("heading", { name: "Not allowed" }).waitFor();

  // By hand with the clerk's cookie: the server's own refusal.
  const purge = { id: "1", purge: { confirm: true, expectCount: "-1" } };
  const refused = await page.request.post(`${ledgerd.url}api/v1/requests`, {
    headers: { "X-Ledger-Request": "1", "Content-Type": "application/json" },
    data: JSON.stringify(purge),
  });
  assert.equal(refused.status(), 403);
  assert.equal((await refused.json()).error.code, "forbidden");

  // From the page's own script: without the custom header, 403 before anything else.
  const withoutHeader = await page.evaluate(async (body) => {
    const reply = await fetch("/api/v1/requests", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    return { status: reply.status, body: await reply.json() };
  }, JSON.stringify({ id: "2", create: { fields: { name: "Mallory" } } }));
  assert.equal(withoutHeader.status, 403);
  assert.match(withoutHeader.body.error.message, /X-Ledger-Request/);

  // Another Origin: refused even with the header and the cookie.
  const foreign = await page.request.post(`${ledgerd.url}api/v1/requests`, {
    headers: { "X-Ledger-Request": "1", "Content-Type": "application/json", Origin: "http://evil.example" },
    data: JSON.stringify({ id: "3", create: { fields: { name: "Mallory" } } }),
  });
  assert.equal(foreign.status(), 403);
  const list = await page.request.post(`${ledgerd.url}api/v1/requests`, {
    headers: { "X-Ledger-Request": "1", "Content-Type": "application/json" },
    data: JSON.stringify({ id: "4", list: { search: "Mallory" } }),
  });
  assert.deepEqual((await list.json()).page.customers ?? [], []);
  assert.deepEqual(page.errors, []);
});

test("an auditor reads without a button to change anything, and sees the audit page", async () => {
  const clerk = await loggedInPage(browser, ledgerd, "anna-token");
  await clerk.getByRole("link", { name: "New customer" }).click();
  await clerk.getByLabel("Name", { exact: true }).fill("Ada");
  await clerk.getByRole("button", { name: "Create customer" }).click();
  await clerk.locator('tbody tr[data-number="1"]').waitFor();

  const page = await loggedInPage(browser, ledgerd, "omar-token");
  assert.deepEqual(await navLinks(page), ["Customers", "Deleted customers", "History", "Audit"]);
  await page.locator('tbody tr[data-number="1"]').waitFor();
  assert.equal(await page.getByRole("link", { name: "New customer" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: "Delete selected" }).count(), 0);
  assert.equal(await page.getByRole("checkbox").count(), 0);
  assert.equal(await page.getByRole("link", { name: /^Edit/ }).count(), 0);
  await page.getByRole("link", { name: "Audit" }).click();
  await page.getByText("active customers").waitFor();
  await page.locator(".indicator", { hasText: /^live$/ }).waitFor();
  assert.deepEqual(page.errors, []);
});

test("an admin sees every page, and logging out ends the session", async () => {
  const page = await loggedInPage(browser, ledgerd, "kim-token");
  assert.deepEqual(await navLinks(page), ["Customers", "Deleted customers", "History", "Cleanup old customers", "Audit"]);
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByLabel("Access token").waitFor();
  const session = await page.request.get(`${ledgerd.url}api/v1/session`);
  assert.equal(session.status(), 401);
});

// From the page's own script: opens the feed and says "open" or, when the upgrade is refused
// (the browser sees no status, only a close before any open), "refused".
const openFeedFromPage = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const socket = new WebSocket(new URL("/api/v1/feed", location.href).href.replace(/^http/, "ws"));
        socket.onopen = () => {
          socket.close();
          resolve("open");
        };
        socket.onclose = () => resolve("refused");
      }),
  );

// The upgrade request sent by hand, as a script would: its HTTP status and JSON error code.
function upgradeByHand(ledgerd, headers) {
  return new Promise((resolve, reject) => {
    const request = httpRequest(new URL("api/v1/feed", ledgerd.url), {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode });
    });
    request.on("response", (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode, code: JSON.parse(body).error?.code }));
    });
    request.on("error", reject);
    request.end();
  });
}

test("a feed upgrade without the session cookie is refused, in the browser and by hand", async () => {
  // A page of the console's own origin with no session: the browser's upgrade is refused.
  const context = await browser.newContext();
  const anonymous = await context.newPage();
  await anonymous.goto(ledgerd.url);
  await anonymous.getByLabel("Access token").waitFor();
  assert.equal(await openFeedFromPage(anonymous), "refused");
  await context.close();

  // Logged in, the same script opens it; logged out, the old page cannot any more.
  const page = await loggedInPage(browser, ledgerd, "omar-token");
  assert.equal(await openFeedFromPage(page), "open");
  const [cookie] = await page.context().cookies();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByLabel("Access token").waitFor();
  assert.equal(await openFeedFromPage(page), "refused");

  // By hand: no cookie is 401; the ended session's cookie is 401; a live session's cookie from
  // another Origin is 403; a bearer token with this Origin is let through (101).
  const origin = new URL(ledgerd.url).origin;
  assert.deepEqual(await upgradeByHand(ledgerd, { Origin: origin }), { status: 401, code: "unauthenticated" });
  assert.deepEqual(await upgradeByHand(ledgerd, { Origin: origin, Cookie: `${cookie.name}=${cookie.value}` }), {
    status: 401,
    code: "unauthenticated",
  });
  const live = await loggedInPage(browser, ledgerd, "omar-token");
  const [liveCookie] = await live.context().cookies();
  assert.deepEqual(
    await upgradeByHand(ledgerd, { Origin: "http://evil.example", Cookie: `${liveCookie.name}=${liveCookie.value}` }),
    { status: 403, code: "forbidden" },
  );
  assert.deepEqual(await upgradeByHand(ledgerd, { Origin: origin, Authorization: "Bearer omar-token" }), { status: 101 });
});
