// The browser starts, loads the console from ledgerd, and logs in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ledgerd, launchBrowser, loggedInPage, screenshot } from "./harness.js";

test("the browser loads the console from ledgerd and logs in as the open server's admin", async () => {
  const ledgerd = await Ledgerd.start();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const login = await context.newPage();
    await login.goto(ledgerd.url);
    await login.getByLabel("Access token").waitFor();
    await screenshot(login, "login");
    await context.close();
    const page = await loggedInPage(browser, ledgerd);
    // Without --tokens every caller is the admin "local" (server/tokens.cpp).
    assert.equal(await page.locator("#who-name").textContent(), "local (admin)");
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
    await ledgerd.stop();
  }
});
