// One connection, many requests: pipelined requests in flight at once, each answer matched to
// its request by id; `busy` from a full server is retried; TLS.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { connect, LedgerClient, LedgerConnectionError, LedgerError, type RetryEvent } from "../src/index.js";
import { Ledgerd } from "./ledgerd.js";
import { Proxy } from "./proxy.js";

describe("one connection", () => {
  let server: Ledgerd;
  before(async () => {
    server = await Ledgerd.start();
  });
  after(async () => {
    await server?.dispose();
  });

  it("pipelines requests and matches every answer to its request", async () => {
    const proxy = await Proxy.start(server.port);
    const client = await connect({ host: "127.0.0.1", port: proxy.port });
    try {
      const names = Array.from({ length: 200 }, (_, i) => `Pipelined ${i}`);
      const written = await Promise.all(names.map((name) => client.create({ name })));
      assert.equal(new Set(written.map((w) => w.number)).size, 200);
      // Reads and commands mixed: reads are answered in order, commands when durable, so the
      // answers come out of order; each must still reach its own caller.
      const mixed = await Promise.all(
        written.flatMap((w, i) => [
          client.get(w.number),
          client.edit(w.number, { notes: `note ${i}` }),
          client.history(w.number),
        ]),
      );
      written.forEach((w, i) => {
        const [customer, edited, history] = mixed.slice(3 * i, 3 * i + 3) as [
          Awaited<ReturnType<LedgerClient["get"]>>,
          Awaited<ReturnType<LedgerClient["edit"]>>,
          Awaited<ReturnType<LedgerClient["history"]>>,
        ];
        assert.equal(customer.number, w.number);
        assert.equal(customer.fields.name, names[i]);
        assert.equal(edited.number, w.number);
        assert.equal(history[0].changes[0].value, names[i]);
      });
      assert.equal(proxy.connections, 1);
      assert.ok(proxy.maxInFlight > 50, `at most ${proxy.maxInFlight} requests were in flight at once`);
      for (const w of written) assert.equal((await client.get(w.number)).fields.notes, `note ${written.indexOf(w)}`);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("retries a connection the server refused as busy, and reports busy when no try is left", async () => {
    const full = await Ledgerd.start({ args: ["--max-connections", "1"] });
    const first = await connect({ host: full.host, port: full.port });
    try {
      await assert.rejects(connect({ host: full.host, port: full.port, retries: 0 }), (e: unknown) => e instanceof LedgerError && e.code === "busy");
      // The first client leaves while the second waits to try again.
      const retries: RetryEvent[] = [];
      const second = new LedgerClient({
        host: full.host,
        port: full.port,
        retries: 8,
        backoffMs: 20,
        onRetry: (retry) => {
          retries.push(retry);
          if (retries.length === 1) void first.close();
        },
      });
      const created = await second.create({ name: "After Busy" });
      await second.close();
      assert.equal(retries.length >= 1, true);
      assert.ok(retries[0].error instanceof LedgerError && retries[0].error.code === "busy");
      assert.equal(created.replayed, false);
    } finally {
      await first.close();
      await full.dispose();
    }
  });

  it("speaks TLS, verifying the server's certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ledger-ts-tls-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "1",
      "-keyout", key, "-out", cert,
    ], { stdio: "ignore" });
    const secure = await Ledgerd.start({ args: ["--tls-cert", cert, "--tls-key", key] });
    try {
      const client = await connect({ host: secure.host, port: secure.port, tls: { ca: readFileSync(cert) } });
      try {
        assert.equal((await client.create({ name: "Over TLS" })).number, 1);
      } finally {
        await client.close();
      }
      // A certificate that does not verify is final: no retries.
      await assert.rejects(connect({ host: secure.host, port: secure.port, tls: true, backoffMs: 10 }), (e: unknown) => {
        assert.ok(e instanceof LedgerConnectionError, String(e));
        assert.equal(e.attempts, 1);
        return true;
      });
    } finally {
      await secure.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
