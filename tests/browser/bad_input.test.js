// Bad input on the HTTP port — an oversized body, malformed JSON, 500 connections opened at once
// — while a logged-in browser session goes on working.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Ledgerd, launchBrowser, loggedInPage } from "./harness.js";

const apiHeaders = { "X-Ledger-Request": "1", "Content-Type": "application/json", Authorization: "Bearer x" };

async function post(ledgerd, body) {
  const reply = await fetch(`${ledgerd.url}api/v1/requests`, { method: "POST", headers: apiHeaders, body });
  return { status: reply.status, body: await reply.json() };
}

// Opens `count` sockets to the port and waits until each is connected (or refused, answered and
// closed by the server: beyond its connection limit).
async function openSockets(port, count) {
  return Promise.all(
    Array.from({ length: count }, () =>
      new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        socket.received = "";
        socket.on("data", (chunk) => (socket.received += chunk));
        socket.on("error", () => resolve(socket));
        socket.on("connect", () => resolve(socket));
      }),
    ),
  );
}

// Polls `condition` every 50 ms for up to 10 s.
async function until(condition, what) {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function createInPage(page, name) {
  await page.getByRole("link", { name: "New customer" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create customer" }).click();
  await page.locator("tbody tr", { hasText: name }).waitFor();
}

test("oversized and malformed bodies and 500 sockets do not disturb a browser session", async () => {
  const ledgerd = await Ledgerd.start();
  const browser = await launchBrowser();
  let sockets = [];
  try {
    const page = await loggedInPage(browser, ledgerd);
    await createInPage(page, "Before");

    const oversized = await post(ledgerd, JSON.stringify({ id: "1", create: { fields: { notes: "x".repeat(2 << 20) } } }));
    assert.equal(oversized.status, 413);
    assert.equal(oversized.body.error.code, "tooLarge");
    const malformed = await post(ledgerd, '{"id": "2", "create": {"fields": ');
    assert.equal(malformed.status, 400);
    const deep = await post(ledgerd, "[".repeat(100) + "]".repeat(100));
    assert.equal(deep.status, 400);

    sockets = await openSockets(ledgerd.port, 500);
    // Half of them send half a request and stop: the server holds them to its deadline.
    sockets.slice(0, 250).forEach((socket) => socket.write("POST /api/v1/requests HTTP/1.1\r\nHost: x\r\n"));
    // Beyond its limit (256) the server answers 503 and closes.
    await until(() => sockets.some((socket) => socket.received.startsWith("HTTP/1.1 503")), "a 503 to a socket beyond the limit");
    await createInPage(page, "During");
    // The browser's kept-alive connection goes on; a fresh one may be refused while the limit is
    // reached: the page is still served once the sockets go.
    for (const socket of sockets) socket.destroy();
    sockets = [];
    const second = await loggedInPage(browser, ledgerd);
    await second.locator("tbody tr", { hasText: "During" }).waitFor();
    await createInPage(page, "After");
    assert.deepEqual(page.errors, []);
  } finally {
    for (const socket of sockets) socket.destroy();
    await browser.close();
    await ledgerd.stop();
  }
});
