// The help page's flow, end to end in the browser: create five customers, delete three (the
// dialog names them), a held number refused with a link to its holder, undelete two at once,
// edit a deleted one (it stays deleted), clean up with the typed confirmation, read the receipt,
// see the freed number taken by the next new customer, and an edit's old → new in the history.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ledgerd, launchBrowser, loggedInPage, screenshot } from "./harness.js";

// The row of customer `number` in the page's table.
const row = (page, number) => page.locator(`tbody tr[data-number="${number}"]`);

// A toast with this text (the newest, since an older one may still show).
const toastSays = (page, text) => page.locator(".toast", { hasText: text }).last().waitFor();

async function createCustomer(page, fields, number = "") {
  await page.getByRole("link", { name: "New customer" }).click();
  if (number) await page.getByLabel("Number (empty: the lowest free one)").fill(number);
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole("button", { name: "Create customer" }).click();
}

test("the help page's flow in the console", async () => {
  const ledgerd = await Ledgerd.start();
  const browser = await launchBrowser();
  try {
    const page = await loggedInPage(browser, ledgerd);

    // Five customers through the form; a bad email is refused beside its field first.
    await createCustomer(page, { Name: "Ada", Email: "not an email" });
    const emailProblem = page.locator("#customer-email-problem");
    await emailProblem.waitFor();
    assert.match(await emailProblem.textContent(), /\S/);
    assert.equal(await page.getByLabel("Email", { exact: true }).getAttribute("aria-invalid"), "true");
    await screenshot(page, "new-customer-refused");
    await page.getByLabel("Email", { exact: true }).fill("ada@example.com");
    await page.getByRole("button", { name: "Create customer" }).click();
    await toastSays(page, "Created customer 1.");
    const people = [
      { Name: "Bob", Company: "Bobcat Ltd", Phone: "+44 20 7946 0002" },
      { Name: "Cy", Email: "cy@example.com" },
      { Name: "Dee", Company: "Dee & Co" },
      { Name: "Eve", Phone: "555-0105" },
    ];
    for (const fields of people) {
      await createCustomer(page, fields);
      await row(page, String(people.indexOf(fields) + 2)).waitFor();
    }
    assert.equal(await page.locator("tbody tr").count(), 5);

    // Search narrows the list (debounced).
    await page.getByLabel("Search name, email or phone").fill("bob");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
    await page.getByLabel("Search name, email or phone").fill("");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 5);
    await screenshot(page, "customers");

    // An edit, for the history's old → new.
    await page.getByRole("link", { name: "Edit customer 2" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Robert");
    await page.getByRole("button", { name: "Save" }).click();
    await toastSays(page, "Saved customer 2.");

    // Delete 2, 3, 4: the dialog names them, starts on Cancel, and Escape cancels.
    for (const number of ["2", "3", "4"]) await page.getByLabel(`Select customer ${number}`).check();
    await page.getByRole("button", { name: "Delete selected" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    assert.equal(await dialog.locator("#dialog-message").textContent(), "Delete 3 customers: 2, 3, 4?");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Cancel");
    await screenshot(page, "delete-dialog");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal(await page.locator("tbody tr").count(), 5);
    await page.getByRole("button", { name: "Delete selected" }).click();
    await dialog.getByRole("button", { name: "Delete" }).click();
    await toastSays(page, "Deleted 3 customers: 2, 3, 4.");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 2);

    // Undo from the toast brings exactly those back; delete them again.
    await page.locator(".toast").filter({ hasText: "Deleted 3 customers" }).getByRole("button", { name: "Undo" }).click();
    await toastSays(page, "Undeleted 3 customers: 2, 3, 4.");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 5);
    for (const number of ["2", "3", "4"]) await page.getByLabel(`Select customer ${number}`).check();
    await page.getByRole("button", { name: "Delete selected" }).click();
    await dialog.getByRole("button", { name: "Delete" }).click();
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 2);

    // The deleted list says who deleted each.
    await page.getByRole("link", { name: "Deleted customers" }).click();
    await row(page, "4").waitFor();
    assert.equal(await page.locator("tbody tr").count(), 3);
    assert.match(await row(page, "3").textContent(), /Cy.*local/);

    // A number a deleted customer holds: the refusal beside Number, with a link to it.
    await page.getByRole("link", { name: "Customers", exact: true }).click();
    await createCustomer(page, { Name: "Zed" }, "3");
    const numberProblem = page.locator("#customer-number-problem");
    await numberProblem.getByRole("link", { name: "Open the deleted customer 3" }).waitFor();
    assert.doesNotMatch(await page.locator("main").textContent(), /\b(null|undefined|NaN)\b/);
    await screenshot(page, "number-held");
    await numberProblem.getByRole("link", { name: "Open the deleted customer 3" }).click();

    // Edit the deleted customer 3: the page says it stays deleted, and it does.
    await page.getByRole("heading", { name: "Edit customer 3" }).waitFor();
    await page.getByText("Customer 3 is deleted. Saving keeps it deleted").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Cyrus");
    await screenshot(page, "edit-deleted");
    await page.getByRole("button", { name: "Save" }).click();
    await toastSays(page, "Saved customer 3.");
    await page.getByRole("heading", { name: "Manage deleted customers" }).waitFor();
    await row(page, "3").waitFor();
    assert.match(await row(page, "3").textContent(), /Cyrus/);

    // Undelete 2 and 4 at once.
    await page.getByLabel("Select customer 2").check();
    await page.getByLabel("Select customer 4").check();
    await screenshot(page, "deleted");
    await page.getByRole("button", { name: "Undelete selected" }).click();
    await toastSays(page, "Undeleted 2 customers: 2, 4.");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);

    // Cleanup: the numbers listed, the button enabled only by "erase 1", then the receipt.
    await page.getByRole("link", { name: "Cleanup old customers" }).first().click();
    await page.getByRole("heading", { name: "Cleanup old customers" }).waitFor();
    assert.deepEqual(await page.getByRole("list", { name: "Numbers that will be freed" }).getByRole("listitem").allTextContents(), ["3"]);
    await page.getByText("This cannot be undone").waitFor();
    const erase = page.getByRole("button", { name: "Erase 1 customer" });
    assert.equal(await erase.isDisabled(), true);
    await page.getByLabel('Type "erase 1" to confirm').fill("erase 2");
    assert.equal(await erase.isDisabled(), true);
    await page.getByLabel('Type "erase 1" to confirm').fill("erase 1");
    assert.equal(await erase.isDisabled(), false);
    await screenshot(page, "cleanup");
    await erase.click();
    const receipt = page.getByRole("definition");
    await page.getByRole("heading", { name: "Receipt" }).waitFor({ timeout: 60_000 });
    const terms = await page.locator(".receipt dt").allTextContents();
    const values = await receipt.allTextContents();
    const said = Object.fromEntries(terms.map((term, i) => [term, values[i]]));
    assert.equal(said["Customers erased"], "1");
    assert.equal(said["Numbers freed"], "3");
    assert.equal(said["Residue"], "0");
    assert.match(said["State"], /^verified/);
    assert.ok(Number(said["Entries redacted"]) >= 3, said["Entries redacted"]);
    assert.ok(Number(said["Files scanned"]) > 0, said["Files scanned"]);
    assert.equal(said["Log entries replaced by stubs"], said["Entries redacted"]);
    assert.match(said["Merkle root"], /^[0-9a-f]{64}$/);
    assert.doesNotMatch(await page.locator("main").textContent(), /\b(null|undefined|NaN)\b/);
    await screenshot(page, "receipt");

    // The freed number goes to the next new customer.
    await page.getByRole("link", { name: "Customers", exact: true }).click();
    await createCustomer(page, { Name: "Fay" });
    await toastSays(page, "Created customer 3.");
    await row(page, "3").waitFor();
    assert.match(await row(page, "3").textContent(), /Fay/);

    // History of 2: created, edited Bob → Robert, deleted, undeleted, with who.
    await page.getByRole("link", { name: "History of customer 2" }).click();
    const timeline = page.getByRole("list", { name: "Events of customer 2" });
    await timeline.waitFor();
    const events = await timeline.locator(":scope > li .event strong").allTextContents();
    assert.deepEqual(events, ["Created", "Edited", "Deleted", "Undeleted", "Deleted", "Undeleted"]);
    const edited = timeline.locator(":scope > li").nth(1);
    assert.match(await edited.textContent(), /by local/);
    assert.equal(await edited.locator(".changes li").textContent(), "name: Bob → Robert");
    await screenshot(page, "history");

    // The audit page: the stats, and ledgerd's live feed (GET /api/v1/feed) delivering the log.
    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByText("active customers").waitFor();
    await page.locator('.indicator[data-state="live"]').waitFor();
    await page.locator(".feed li").first().waitFor();
    await page.locator(".chain").filter({ hasText: /^Chain head: seq \d+, [0-9a-f]{64}$/ }).waitFor();
    await screenshot(page, "audit");
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
    await ledgerd.stop();
  }
});
