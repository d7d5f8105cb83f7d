// Request keys and retries: a command whose answer is lost with its connection is sent again
// on a new connection with the same key, and the ledger answers its first outcome instead of
// doing it twice; a key given by the application is bound to its command; a restarted server
// is reconnected to.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { connect, LedgerClient, LedgerConnectionError, LedgerError } from "../src/index.js";
import { Request_Which } from "../src/gen/server/protocol.js";
import { Ledgerd } from "./ledgerd.js";
import { Proxy } from "./proxy.js";

const fast = { retries: 4, backoffMs: 10 };

async function activeCount(client: LedgerClient, search: string): Promise<number> {
  return (await client.listPage({ search, pageSize: 1000 })).customers.length;
}

describe("request keys and retries", () => {
  let server: Ledgerd;
  let direct: LedgerClient;
  before(async () => {
    server = await Ledgerd.start();
    direct = await connect({ host: server.host, port: server.port });
  });
  after(async () => {
    await direct?.close();
    await server?.dispose();
  });

  it("sends a command again with the same key after the connection broke before its answer", async () => {
    // The first connection passes the welcome, then loses the create's answer.
    const proxy = await Proxy.start(server.port, { connections: (i) => i === 0, answersToPass: 1 });
    const client = await connect({ host: "127.0.0.1", port: proxy.port, ...fast });
    try {
      const written = await client.create({ name: "Retried Ada" });
      assert.equal(proxy.broken, 1);
      assert.equal(proxy.connections, 2);
      const creates = proxy.requests.filter((r) => r.which === Request_Which.CREATE);
      assert.equal(creates.length, 2);
      assert.equal(creates[0].connection, 0);
      assert.equal(creates[1].connection, 1);
      assert.equal(creates[0].requestKey, creates[1].requestKey);
      assert.equal(creates[0].requestKey, written.requestKey);
      // Done once: the second try was answered with the first outcome.
      assert.equal(written.replayed, true);
      assert.equal(await activeCount(direct, "Retried Ada"), 1);
      assert.equal((await direct.get(written.number)).fields.name, "Retried Ada");
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("retries every pipelined command of a broken connection, each with its own key, none twice", async () => {
    const proxy = await Proxy.start(server.port, { connections: (i) => i === 0, answersToPass: 3 });
    const client = await connect({ host: "127.0.0.1", port: proxy.port, ...fast });
    try {
      const names = Array.from({ length: 8 }, (_, i) => `Pipelined Retry ${i}`);
      const written = await Promise.all(names.map((name) => client.create({ name })));
      assert.equal(proxy.broken, 1);
      assert.equal(new Set(written.map((w) => w.number)).size, 8);
      assert.equal(new Set(written.map((w) => w.requestKey)).size, 8);
      const creates = proxy.requests.filter((r) => r.which === Request_Which.CREATE);
      const tries = written.map((w) => creates.filter((r) => r.requestKey === w.requestKey));
      // Two answers passed before the break (after the welcome); the other six commands were
      // sent again on the second connection with their keys. Whether the ledger had done one
      // before the break shows in `replayed`; either way it exists once.
      assert.equal(tries.filter((t) => t.length === 1).length, 2);
      assert.equal(tries.filter((t) => t.length === 2).length, 6);
      tries.forEach((t, i) => {
        if (t.length === 1) assert.equal(written[i].replayed, false);
        else assert.deepEqual(t.map((r) => r.connection), [0, 1]);
      });
      assert.equal(await activeCount(direct, "Pipelined Retry"), 8);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("gives up after the retries with a LedgerConnectionError that names the key", async () => {
    // Every connection loses the first answer after the welcome.
    const proxy = await Proxy.start(server.port, { connections: () => true, answersToPass: 1 });
    const client = new LedgerClient({ host: "127.0.0.1", port: proxy.port, retries: 2, backoffMs: 5 });
    try {
      await assert.rejects(client.create({ name: "Never Answered" }, { requestKey: "order-never" }), (error: unknown) => {
        assert.ok(error instanceof LedgerConnectionError);
        assert.equal(error.requestKey, "order-never");
        assert.equal(error.attempts, 3);
        return true;
      });
      // It was done once, all the same; the key tells the application so.
      const again = await direct.create({ name: "Never Answered" }, { requestKey: "order-never" });
      assert.equal(again.replayed, true);
      assert.equal(await activeCount(direct, "Never Answered"), 1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("binds an application's own key to its command", async () => {
    const first = await direct.create({ name: "Keyed Grace" }, { requestKey: "order-4711" });
    const again = await direct.create({ name: "Keyed Grace" }, { requestKey: "order-4711" });
    assert.equal(first.replayed, false);
    assert.equal(again.replayed, true);
    assert.equal(again.number, first.number);
    assert.equal(again.id, first.id);
    assert.equal(again.revision, first.revision);
    await assert.rejects(direct.delete(first.number, { requestKey: "order-4711" }), (error: unknown) => {
      assert.ok(error instanceof LedgerError);
      assert.equal(error.code, "requestKeyReused");
      assert.equal(error.field, "requestKey");
      assert.equal(error.requestKey, "order-4711");
      return true;
    });
    assert.equal((await direct.get(first.number)).status, "active");
    await assert.rejects(direct.create({ name: "x" }, { requestKey: "k".repeat(65) }), RangeError);
  });

  it("connects again to a restarted server, on its next call", async () => {
    const restartable = await Ledgerd.start();
    const client = await connect({ host: restartable.host, port: restartable.port, ...fast });
    let restarted: Ledgerd | undefined;
    try {
      const before = await client.create({ name: "Before Restart" });
      assert.equal(await restartable.stop("SIGTERM"), 0);
      restarted = await Ledgerd.start({ dataDir: restartable.dataDir, listen: `127.0.0.1:${restartable.port}` });
      const afterRestart = await client.get(before.number);
      assert.equal(afterRestart.fields.name, "Before Restart");
      // The key is remembered across the restart.
      const replay = await client.create({ name: "Before Restart" }, { requestKey: before.requestKey });
      assert.equal(replay.replayed, true);
      assert.equal(replay.number, before.number);
    } finally {
      await client.close();
      await restarted?.stop();
      await restartable.dispose();
    }
  });

  it("refuses a wrong token at once, without retries", async () => {
    const guarded = await Ledgerd.start({ tokens: [{ name: "anna", role: "clerk", token: "clerk-secret" }] });
    try {
      await assert.rejects(connect({ host: guarded.host, port: guarded.port, token: "wrong", ...fast }), (error: unknown) => {
        assert.ok(error instanceof LedgerError);
        assert.equal(error.code, "unauthenticated");
        return true;
      });
      const clerk = await connect({ host: guarded.host, port: guarded.port, token: "clerk-secret", ...fast });
      try {
        assert.deepEqual(clerk.welcome, { principal: "anna", role: "clerk" });
        await assert.rejects(clerk.purge({ confirm: true }), (error: unknown) => error instanceof LedgerError && error.code === "forbidden");
        assert.equal((await clerk.create({ name: "Clerk's Customer" })).number, 1);
      } finally {
        await clerk.close();
      }
    } finally {
      await guarded.dispose();
    }
  });
});
