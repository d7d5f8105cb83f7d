// Keyboard only: log in, create a customer, delete it through the dialog and undo, all with Tab,
// Space, Enter and typing; no click.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ledgerd, launchBrowser } from "./harness.js";

// Presses Tab (Shift+Tab when `back`) until the focused element's accessible text matches
// `wanted`; fails after 60 presses.
async function tabTo(page, wanted, back = false) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const focused = await page.evaluate(() => {
      const e = document.activeElement;
      return e.getAttribute("aria-label") ?? e.labels?.[0]?.textContent ?? e.textContent;
    });
    if (wanted.test(focused)) return;
  }
  assert.fail(`nothing matching ${wanted} is reachable with Tab`);
}

test("the console works from the keyboard alone", async () => {
  const ledgerd = await Ledgerd.start();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(ledgerd.url);
    await page.getByLabel("Access token").waitFor();
    // The token field has the focus when the page opens.
    await page.keyboard.type("any");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Customers" }).waitFor();

    await tabTo(page, /^New customer$/);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "New customer" }).waitFor();
    await tabTo(page, /^Name$/);
    await page.keyboard.type("Ada");
    await page.keyboard.press("Enter");
    await page.locator('tbody tr[data-number="1"]').waitFor();

    await tabTo(page, /^Select customer 1$/);
    await page.keyboard.press("Space");
    await tabTo(page, /^Delete selected$/, true);
    await page.keyboard.press("Enter");
    await page.getByRole("alertdialog").waitFor();
    await page.keyboard.press("Tab");  // from Cancel to Delete
    await page.keyboard.press("Enter");
    await page.getByRole("alertdialog").waitFor({ state: "detached" });
    await page.getByText("No customers yet.").waitFor();

    await tabTo(page, /^Undo$/);
    await page.keyboard.press("Enter");
    await page.locator('tbody tr[data-number="1"]').waitFor();
  } finally {
    await browser.close();
    await ledgerd.stop();
  }
});
