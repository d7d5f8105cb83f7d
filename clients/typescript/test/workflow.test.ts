// The customer module's help page, through the client against a real ledgerd: create, delete
// several at once, Manage Deleted Customers (undelete, edit a deleted one), Cleanup old
// customers (purge) freeing the numbers; refusals as LedgerError; the list's pages; history.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { connect, LedgerError, type Customer, type LedgerClient } from "../src/index.js";
import { Ledgerd } from "./ledgerd.js";

async function numbersOf(client: LedgerClient, options: { deleted?: boolean; search?: string } = {}): Promise<number[]> {
  const numbers: number[] = [];
  for await (const page of client.list({ ...options, pageSize: 1000 })) numbers.push(...page.map((c) => c.number));
  return numbers;
}

// Runs `call` and returns the LedgerError it must reject with.
async function refusal(call: () => Promise<unknown>): Promise<LedgerError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof LedgerError, `not a LedgerError: ${String(error)}`);
    return error;
  }
  assert.fail("the ledger did not refuse");
}

describe("the help page's workflow", () => {
  let server: Ledgerd;
  let client: LedgerClient;
  before(async () => {
    server = await Ledgerd.start();
    client = await connect({ host: server.host, port: server.port });
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  it("deletes several, undeletes, edits a deleted one, and a purge frees the numbers", async () => {
    assert.deepEqual(client.welcome, { principal: "local", role: "admin" });
    const created = [];
    for (const name of ["Ada", "Grace", "Edsger", "Barbara"]) created.push(await client.create({ name }));
    assert.deepEqual(
      created.map((w) => w.number),
      [1, 2, 3, 4],
    );
    assert.ok(created.every((w) => w.revision === 1 && !w.replayed && w.requestKey.length === 32));

    const deleted = await client.delete([2, 3, 4]);
    assert.deepEqual(deleted.numbers, [2, 3, 4]);
    assert.deepEqual(await numbersOf(client), [1]);
    assert.deepEqual(await numbersOf(client, { deleted: true }), [2, 3, 4]);

    // A deleted customer keeps its number: a new customer gets the next one, and naming it fails.
    assert.equal((await client.create({ name: "Alan" })).number, 5);
    const held = await refusal(() => client.create({ name: "Alan" }, { number: 3 }));
    assert.equal(held.code, "numberHeldByDeleted");

    await client.undelete(3);
    assert.deepEqual(await numbersOf(client), [1, 3, 5]);

    // An edited deleted customer stays deleted.
    const edited = await client.edit(4, { notes: "owes 12.50", company: "Liskov & Co" });
    assert.equal(edited.revision, created[3].revision + 2); // created, deleted, edited
    const four = await client.get(4);
    assert.equal(four.status, "deleted");
    assert.equal(four.fields.notes, "owes 12.50");
    assert.equal(four.fields.company, "Liskov & Co");
    assert.equal(four.fields.name, "Barbara");
    const unchanged = await client.edit(4, { notes: "owes 12.50" });
    assert.equal(unchanged.revision, edited.revision);

    assert.equal((await refusal(() => client.purge({ confirm: false }))).code, "notConfirmed");
    assert.equal((await refusal(() => client.purge({ confirm: true, expectCount: 3 }))).code, "countMismatch");
    const purged = await client.purge({ confirm: true, expectCount: 2 });
    assert.equal(purged.purged, 2);
    assert.deepEqual(purged.numbersFreed, [2, 4]);
    assert.ok(purged.seq > 0);
    assert.equal(purged.replayed, false);
    assert.deepEqual(await numbersOf(client, { deleted: true }), []);
    assert.equal((await refusal(() => client.get(2))).code, "notFound");

    // The lowest free number goes to the next customer, with a fresh history.
    const next = await client.create({ name: "Frances" });
    assert.equal(next.number, 2);
    const history = await client.history(2);
    assert.deepEqual(
      history.map((e) => e.kind),
      ["CustomerCreated"],
    );
    assert.deepEqual(history[0].changes, [{ field: "name", value: "Frances" }]);
  });

  it("refuses a bad field as a LedgerError naming the field", async () => {
    const email = await refusal(() => client.create({ name: "Ada", email: "not-an-email" }));
    assert.equal(email.code, "invalidField");
    assert.equal(email.field, "email");
    assert.ok(email instanceof Error);
    assert.equal(email.name, "LedgerError");
    assert.match(email.message, /\S/);
    assert.equal(typeof email.requestKey, "string");

    const name = await refusal(() => client.create({ name: "   " }));
    assert.equal(name.code, "invalidField");
    assert.equal(name.field, "name");

    const phone = await refusal(() => client.edit(1, { phone: "call me" }));
    assert.equal(phone.field, "phone");
    assert.equal((await client.get(1)).fields.phone, "");
    // Numbers are plain JS numbers; one that is not a non-negative safe integer is refused
    // before anything is sent.
    await assert.rejects(client.get(2 ** 53), RangeError);
    await assert.rejects(client.delete([1, 2.5]), RangeError);
    await assert.rejects(client.create({ name: "Ada" }, { number: -1 }), RangeError);
    assert.equal((await client.get(1)).status, "active");
    // The global Error is untouched by the generated schema's struct Error.
    assert.equal(globalThis.Error.name, "Error");
  });

  it("refuses a delete of several as a whole, listing every offending number", async () => {
    const before = await numbersOf(client);
    const error = await refusal(() => client.delete([1, 999, 998]));
    assert.deepEqual(
      error.numbers.map((p) => [p.number, p.code]),
      [
        [999, "notFound"],
        [998, "notFound"],
      ],
    );
    assert.deepEqual(await numbersOf(client), before);
  });

  it("pages through a list with an async iterator", async () => {
    for (let i = 0; i < 25; i++) await client.create({ name: `Pager ${String(i).padStart(2, "0")}` });
    const pages: Customer[][] = [];
    for await (const page of client.list({ search: "pager", pageSize: 10 })) pages.push(page);
    assert.deepEqual(
      pages.map((p) => p.length),
      [10, 10, 5],
    );
    const names = pages.flat().map((c) => c.fields.name);
    assert.deepEqual(
      names,
      Array.from({ length: 25 }, (_, i) => `Pager ${String(i).padStart(2, "0")}`),
    );
    const numbers = pages.flat().map((c) => c.number);
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));

    // Without a search, small pages give the same customers as one big page.
    const small: number[] = [];
    for await (const page of client.list({ pageSize: 7 })) {
      assert.ok(page.length <= 7);
      small.push(...page.map((c) => c.number));
    }
    const whole = await client.listPage({ pageSize: 1000 });
    assert.equal(whole.next, 0);
    assert.deepEqual(
      small,
      whole.customers.map((c) => c.number),
    );
    // A page's cursor: the next page starts after it.
    const first = await client.listPage({ pageSize: 3 });
    assert.equal(first.next, first.customers[2].number);
  });

  it("tells a customer's history, oldest first", async () => {
    const started = Date.now();
    const { number } = await client.create({ name: "Hedy", email: "hedy@example.org" });
    await client.edit(number, { email: "hedy@example.com" });
    await client.edit(number, { notes: "prefers e-mail", phone: "+43 1 234" });
    await client.delete(number);
    await client.undelete(number);
    const history = await client.history(number);
    assert.deepEqual(
      history.map((e) => e.kind),
      ["CustomerCreated", "CustomerEdited", "CustomerEdited", "CustomerDeleted", "CustomerUndeleted"],
    );
    assert.deepEqual(history[0].changes, [
      { field: "name", value: "Hedy" },
      { field: "email", value: "hedy@example.org" },
    ]);
    assert.deepEqual(history[1].changes, [{ field: "email", value: "hedy@example.com" }]);
    assert.deepEqual(
      history[2].changes.map((c) => c.field).sort(),
      ["notes", "phone"],
    );
    assert.deepEqual(history[3].changes, []);
    for (let i = 1; i < history.length; i++) assert.ok(history[i].seq > history[i - 1].seq);
    for (const e of history) {
      assert.equal(e.actor, "local");
      assert.ok(e.at.getTime() >= started - 1000 && e.at.getTime() <= Date.now() + 1000, `at ${e.at.toISOString()}`);
    }
    assert.equal((await refusal(() => client.history(123456))).code, "notFound");
  });
});
