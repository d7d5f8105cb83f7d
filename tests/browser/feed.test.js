// The audit page's live feed against the feed's contract (docs/console.md), played by Playwright
// in place of the server's WebSocket, so that the entries are the test's own (help_page.test.js
// reads ledgerd's real feed): the subscribe request, entries newest first, the chain head, a
// purge's receipt button, pause and resume.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ledgerd, launchBrowser, loggedInPage } from "./harness.js";

function entry(seq, eventKind, number) {
  return { seq: String(seq), at: "1765000000000000", actor: "clerk:anna", number: String(number), eventKind, kind: 1, chain: [seq, 255] };
}

test("the live feed view follows the feed's contract, and resumes after the last entry", async () => {
  const ledgerd = await Ledgerd.start();
  const browser = await launchBrowser();
  try {
    const page = await loggedInPage(browser, ledgerd);
    const subscriptions = [];
    await page.context().routeWebSocket(/\/api\/v1\/feed$/, (socket) => {
      socket.onMessage((message) => {
        const request = JSON.parse(message);
        subscriptions.push(request.subscribe.fromSeq);
        socket.send(JSON.stringify({ id: request.id, subscribed: request.subscribe.fromSeq }));
        const from = Number(request.subscribe.fromSeq);
        socket.send(JSON.stringify({ id: request.id, entry: entry(from, "created", 7) }));
        socket.send(JSON.stringify({ id: request.id, entry: entry(from + 1, "purged", 0) }));
      });
    });
    // The route takes effect in documents loaded from now on (Playwright wraps WebSocket in them).
    await page.reload();
    await page.getByRole("link", { name: "Audit" }).click();
    await page.locator(".indicator", { hasText: /^live$/ }).waitFor();
    const feed = page.getByRole("list", { name: "Log entries, newest first" });
    await feed.getByRole("listitem").nth(1).waitFor();
    assert.match(await feed.getByRole("listitem").first().textContent(), /^seq 2: purged by clerk:anna/);
    assert.match(await feed.getByRole("listitem").nth(1).textContent(), /^seq 1: created customer 7 by clerk:anna/);
    assert.equal(await page.locator(".chain").textContent(), "Chain head: seq 2, 02ff");
    await page.getByRole("button", { name: "Receipt of purge 2" }).waitFor();

    await page.getByRole("button", { name: "Pause" }).click();
    await page.locator(".indicator", { hasText: "paused" }).waitFor();
    await page.getByRole("button", { name: "Resume" }).click();
    await feed.getByRole("listitem").nth(3).waitFor();
    assert.deepEqual(subscriptions, ["1", "3"]);
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
    await ledgerd.stop();
  }
});
