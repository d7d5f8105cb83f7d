// Subscriptions as async iterators: the log from a seq, then live entries as they become
// durable, each with its event decoded; after a broken connection the iterator subscribes again
// from the entry after the last one it delivered, so no entry is lost or repeated.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { connect, LedgerError, type Entry, type LedgerClient, type RetryEvent, type Subscription } from "../src/index.js";
import { Request_Which } from "../src/gen/server/protocol.js";
import { Ledgerd } from "./ledgerd.js";
import { Proxy } from "./proxy.js";

async function take(subscription: Subscription, count: number): Promise<Entry[]> {
  const entries: Entry[] = [];
  while (entries.length < count) {
    const next = await subscription.next();
    assert.equal(next.done, false, `the subscription ended after ${entries.length} of ${count} entries`);
    entries.push(next.value as Entry);
  }
  return entries;
}

describe("subscribe", () => {
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

  it("delivers the log, then live entries, with their events decoded", async () => {
    const ada = await client.create({ name: "Ada", email: "ada@example.org" });
    await client.create({ name: "Grace" });
    const subscription = client.subscribe({ fromSeq: 1 });
    await subscription.ready();
    const first = await take(subscription, 2);
    assert.deepEqual(
      first.map((e) => [e.seq, e.kind, e.number]),
      [
        [1, 1, 1],
        [2, 1, 2],
      ],
    );
    assert.deepEqual(first[0].event, {
      type: "created",
      id: ada.id,
      number: 1,
      fields: { name: "Ada", company: "", email: "ada@example.org", phone: "", address: "", notes: "" },
    });
    assert.equal(first[0].actor, "local");
    assert.equal(Buffer.from(first[0].request).toString(), ada.requestKey);
    assert.equal(first[0].digest.length, 32);

    // Live: entries written after the subscription began.
    await client.edit(2, { phone: "+1 555 0100" });
    await client.delete([1, 2]);
    const purged = await client.purge({ confirm: true, expectCount: 2 });
    const live = await take(subscription, 4);
    assert.deepEqual(
      live.map((e) => e.event?.type),
      ["edited", "deleted", "deleted", "purged"],
    );
    assert.deepEqual(live[0].event, { type: "edited", id: live[0].customer, number: 2, changes: [{ field: "phone", value: "+1 555 0100" }] });
    const purge = live[3];
    assert.equal(purge.seq, purged.seq);
    assert.equal(purge.kind, 5);
    assert.ok(purge.event?.type === "purged");
    assert.deepEqual(purge.event.numbers.sort(), [1, 2]);
    assert.equal(purge.event.merkleRoot.length, 32);

    // Read again after the purge, the purged customers' entries are stubs that keep the number.
    const again = client.subscribe({ fromSeq: 1 });
    const reread = await take(again, 6);
    await again.close();
    assert.deepEqual(
      reread.map((e) => [e.number, e.redactedBy, e.payload.length, e.event?.type]),
      [
        [1, purged.seq, 0, undefined],
        [2, purged.seq, 0, undefined],
        [2, purged.seq, 0, undefined],
        [1, purged.seq, 0, undefined],
        [2, purged.seq, 0, undefined],
        [0, 0, purge.payload.length, "purged"],
      ],
    );

    // Leaving the loop ends the subscription.
    await client.create({ name: "Barbara" });
    for await (const entry of subscription) {
      assert.equal(entry.event?.type, "created");
      break;
    }
    assert.deepEqual(await subscription.next(), { value: undefined, done: true });
  });

  it("subscribes again after a broken connection, from the entry after the last one", async () => {
    const start = (await client.stats()).nextSeq;
    for (let i = 0; i < 6; i++) await client.create({ name: `Follow ${i}` });
    // Connection 0 is the client's own; connection 1, the subscription's, passes the welcome,
    // `subscribed` and two entries, then breaks.
    const proxy = await Proxy.start(server.port, { connections: (i) => i === 1, answersToPass: 4 });
    const viaProxy = await connect({ host: "127.0.0.1", port: proxy.port, backoffMs: 10 });
    try {
      const subscription = viaProxy.subscribe({ fromSeq: start });
      const entries = await take(subscription, 6);
      await subscription.close();
      assert.equal(proxy.broken, 1);
      assert.deepEqual(
        entries.map((e) => e.seq),
        Array.from({ length: 6 }, (_, i) => start + i),
      );
      const subscribes = proxy.requests.filter((r) => r.which === Request_Which.SUBSCRIBE);
      assert.deepEqual(
        subscribes.map((r) => r.connection),
        [1, 2],
      );
      assert.deepEqual(
        entries.map((e) => e.event?.type === "created" && e.event.fields.name),
        Array.from({ length: 6 }, (_, i) => `Follow ${i}`),
      );
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it("follows the log across a server restart (shuttingDown, then a new server on the port)", async () => {
    const first = await Ledgerd.start();
    let second: Ledgerd | undefined;
    const writer = await connect({ host: first.host, port: first.port });
    const retries: RetryEvent[] = [];
    const reader = await connect({
      host: first.host,
      port: first.port,
      retries: 10,
      backoffMs: 50,
      maxBackoffMs: 1000,
      onRetry: (retry) => retries.push(retry),
    });
    try {
      await writer.create({ name: "Before Stop" });
      const subscription = reader.subscribe();
      assert.equal((await take(subscription, 1))[0].event?.type, "created");
      await writer.close();
      assert.equal(await first.stop("SIGTERM"), 0);
      second = await Ledgerd.start({ dataDir: first.dataDir, listen: `127.0.0.1:${first.port}` });
      const again = await connect({ host: second.host, port: second.port });
      await again.create({ name: "After Restart" });
      await again.close();
      const [next] = await take(subscription, 1);
      assert.equal(next.seq, 2);
      assert.ok(next.event?.type === "created" && next.event.fields.name === "After Restart");
      await subscription.close();
      assert.ok(retries[0].error instanceof LedgerError, String(retries[0].error));
      assert.equal(retries[0].error.code, "shuttingDown");
    } finally {
      await reader.close();
      await second?.stop();
      await first.dispose();
    }
  });

  it("ends with a LedgerError when the role may not subscribe", async () => {
    const guarded = await Ledgerd.start({ tokens: [{ name: "anna", role: "clerk", token: "clerk-secret" }] });
    const clerk = await connect({ host: guarded.host, port: guarded.port, token: "clerk-secret" });
    try {
      const subscription = clerk.subscribe();
      await assert.rejects(subscription.ready(), (e: unknown) => e instanceof LedgerError && e.code === "forbidden");
      await assert.rejects(subscription.next(), (e: unknown) => e instanceof LedgerError && e.code === "forbidden");
    } finally {
      await clerk.close();
      await guarded.dispose();
    }
  });
});
