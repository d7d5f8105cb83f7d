// LedgerClient: the ledger's requests as async methods over one shared connection (many
// requests in flight on it at once), with a request key on every command and retries after a
// broken connection, `busy` or `shuttingDown` (docs/clients.md). A subscription gets a
// connection of its own (subscription.ts). Not thread-safe; use from one event loop.
import { randomBytes } from "node:crypto";
import { Request, Response, type CustomerFields as WireFields } from "./gen/server/protocol.js";
import { Connection, ConnectionLost, type Endpoint, type Welcome } from "./connection.js";
import { LedgerConnectionError } from "./errors.js";
import {
  decodeChanged,
  decodeCustomer,
  decodeErasure,
  decodeError,
  decodeHistory,
  decodePurged,
  decodeStats,
  decodeWritten,
  safeNumber,
  wireNumber,
  type Changed,
  type Customer,
  type CustomerFields,
  type Erasure,
  type HistoryEvent,
  type Purged,
  type Stats,
  type Written,
} from "./model.js";
import { fields as fieldNames } from "./names.js";
import { Backoff, finalError, isRetryable, type RetryOptions } from "./retry.js";
import { Subscription, type SubscribeOptions } from "./subscription.js";

export interface ConnectOptions extends RetryOptions {
  host?: string; // default 127.0.0.1
  port?: number; // default 7400
  token?: string; // default "" (a server without --tokens takes any)
  tls?: Endpoint["tls"];
  connectTimeoutMs?: number;
}

export interface CommandOptions {
  // The command's idempotency key, 1 to 64 bytes as UTF-8. Default: 16 random bytes as 32 hex
  // digits, new for each call. Pass your own (an order number, say) to make a command safe to
  // repeat across restarts of your application; never reuse one for another command.
  requestKey?: string;
}

export interface CreateOptions extends CommandOptions {
  // The number to give the customer; default: the lowest free number.
  number?: number;
}

export interface EditOptions extends CommandOptions {
  // Refuse the edit (revisionConflict) unless the customer is at this revision.
  expectRevision?: number;
}

export interface PurgeOptions extends CommandOptions {
  // Must be true: a purge erases every deleted customer for good (else: notConfirmed).
  confirm: boolean;
  // Refuse (countMismatch) unless exactly this many customers are deleted now.
  expectCount?: number;
  // Answer after the erasure pass has stored its report (erasure.state "done" or "failed").
  wait?: boolean;
}

export interface ListOptions {
  // The Manage Deleted Customers list instead of the active one.
  deleted?: boolean;
  // Only customers whose name, e-mail or phone contains this (Unicode case-insensitive).
  search?: string;
  // Start after this number; default 0 (from the start).
  after?: number;
  // Customers per page: 1 to 1000; default 100.
  pageSize?: number;
}

export interface Page {
  customers: Customer[];
  // The `after` of the next page; 0 when this page is the last.
  next: number;
}

// Connects to ledgerd and says hello. Rejects with LedgerError (unauthenticated) for a token
// the server refuses, with LedgerConnectionError when it cannot be reached on any try.
export async function connect(options: ConnectOptions = {}): Promise<LedgerClient> {
  const client = new LedgerClient(options);
  await client.open();
  return client;
}

function newRequestKey(): string {
  return randomBytes(16).toString("hex");
}

function checkedKey(key: string | undefined): string {
  if (key === undefined) return newRequestKey();
  const size = Buffer.byteLength(key, "utf8");
  if (size < 1 || size > 64) throw new RangeError(`a request key is 1 to 64 bytes, not ${size}`);
  return key;
}

function setKey(request: Request, key: string): void {
  const bytes = Buffer.from(key, "utf8");
  request._initRequestKey(bytes.length).copyBuffer(bytes);
}

function setFields(target: WireFields, source: CustomerFields): void {
  for (const name of fieldNames.names()) {
    const value = source[name];
    if (value !== undefined) target[name] = value;
  }
}

// The answer `response` must be (`which`), else the LedgerError it carries.
function expect(response: Response, which: number, requestKey?: string): Response {
  if (response._isError) throw decodeError(response.error, requestKey);
  if (response.which() !== which) throw new Error(`ledgerd answered with union member ${response.which()}, not ${which}`);
  return response;
}

export class LedgerClient {
  private readonly endpoint: Endpoint;
  private readonly backoff: Backoff;
  private current: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: ConnectOptions = {}) {
    this.endpoint = {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 7400,
      token: options.token ?? "",
      tls: options.tls,
      connectTimeoutMs: options.connectTimeoutMs,
    };
    this.backoff = new Backoff(options);
  }

  // Who the server took this client for (from the last hello).
  get welcome(): Welcome | undefined {
    return this.current?.welcome;
  }

  // Creates a customer. Refusals: numberHeldByActive, numberHeldByDeleted, invalidField (with
  // `field`), requestKeyReused.
  async create(fields: CustomerFields, options: CreateOptions = {}): Promise<Written> {
    const key = checkedKey(options.requestKey);
    const number = wireNumber(options.number ?? 0, "number");
    return this.command(
      key,
      (r) => {
        const create = r._initCreate();
        setFields(create._initFields(), fields);
        create.number = number;
      },
      (response) => decodeWritten(expect(response, Response.WRITTEN, key).written, key),
    );
  }

  // Changes the fields present in `changes` ("" clears one), of an active or a deleted
  // customer (a deleted one stays deleted). An edit that changes nothing is answered with the
  // current revision.
  async edit(number: number, changes: CustomerFields, options: EditOptions = {}): Promise<Written> {
    const key = checkedKey(options.requestKey);
    const wire = wireNumber(number, "number");
    const expectRevision = wireNumber(options.expectRevision ?? 0, "expectRevision");
    const present = fieldNames.names().filter((name) => changes[name] !== undefined);
    return this.command(
      key,
      (r) => {
        const edit = r._initEdit();
        edit.number = wire;
        edit.expectRevision = expectRevision;
        const list = edit._initChanges(present.length);
        present.forEach((name, i) => {
          const change = list.get(i);
          change.field = fieldNames.value(name) as typeof change.field;
          change.value = changes[name] as string;
        });
      },
      (response) => decodeWritten(expect(response, Response.WRITTEN, key).written, key),
    );
  }

  // Deletes customers, all or none: a refusal lists every offending number in `numbers`.
  async delete(numbers: number | number[], options: CommandOptions = {}): Promise<Changed> {
    return this.changeNumbers("delete", numbers, options);
  }

  // Undeletes customers, all or none.
  async undelete(numbers: number | number[], options: CommandOptions = {}): Promise<Changed> {
    return this.changeNumbers("undelete", numbers, options);
  }

  // Cleanup old customers: erases every deleted customer and frees their numbers. Cannot be
  // undone; needs `confirm: true` and an admin's token.
  async purge(options: PurgeOptions): Promise<Purged> {
    const key = checkedKey(options.requestKey);
    const expectCount = options.expectCount ?? -1;
    if (!Number.isSafeInteger(expectCount) || expectCount < -1) {
      throw new RangeError(`expectCount must be -1 or a count, not ${expectCount}`);
    }
    return this.command(
      key,
      (r) => {
        const purge = r._initPurge();
        purge.confirm = options.confirm;
        purge.expectCount = BigInt(expectCount);
        purge.wait = options.wait ?? false;
      },
      (response) => decodePurged(expect(response, Response.PURGED, key).purged, key),
    );
  }

  // The customer with `number`, active or deleted. Refusal: notFound.
  async get(number: number): Promise<Customer> {
    const wire = wireNumber(number, "number");
    return this.read(
      (r) => {
        r._initGet().number = wire;
      },
      (response) => decodeCustomer(expect(response, Response.CUSTOMER).customer),
    );
  }

  // One page of a list.
  async listPage(options: ListOptions = {}): Promise<Page> {
    const after = wireNumber(options.after ?? 0, "after");
    const limit = options.pageSize ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new RangeError(`pageSize is 1 to 1000, not ${limit}`);
    }
    return this.read(
      (r) => {
        const list = r._initList();
        list.deleted = options.deleted ?? false;
        list.after = after;
        list.limit = limit;
        list.search = options.search ?? "";
      },
      (response) => {
        const page = expect(response, Response.PAGE).page;
        const customers: Customer[] = [];
        for (let i = 0; i < page.customers.length; i++) customers.push(decodeCustomer(page.customers.get(i)));
        return { customers, next: safeNumber(page.next, "next") };
      },
    );
  }

  // Every page of a list, in number order, fetched as the loop asks for it:
  //   for await (const page of client.list({ deleted: true })) for (const c of page) ...
  async *list(options: ListOptions = {}): AsyncGenerator<Customer[], void, undefined> {
    let after = options.after ?? 0;
    for (;;) {
      const page = await this.listPage({ ...options, after });
      if (page.customers.length > 0) yield page.customers;
      if (page.next === 0) return;
      after = page.next;
    }
  }

  // The customer's history, oldest first. Refusal: notFound (also after a purge).
  async history(number: number): Promise<HistoryEvent[]> {
    const wire = wireNumber(number, "number");
    return this.read(
      (r) => {
        r._initHistory().number = wire;
      },
      (response) => decodeHistory(expect(response, Response.HISTORY).history),
    );
  }

  // The server's counters (auditor or admin).
  async stats(): Promise<Stats> {
    return this.read(
      (r) => {
        r.stats = true;
      },
      (response) => decodeStats(expect(response, Response.STATS).stats),
    );
  }

  // What the erasure pass reported for the purge at `seq` (auditor or admin).
  async erasureReport(seq: number): Promise<Erasure> {
    const wire = wireNumber(seq, "seq");
    return this.read(
      (r) => {
        r.erasureReport = wire;
      },
      (response) => decodeErasure(expect(response, Response.ERASURE).erasure),
    );
  }

  // Every log entry from `fromSeq` on, then new ones as they become durable (auditor or
  // admin), on a connection of its own. After a broken connection, `shuttingDown` or `tooSlow`
  // it subscribes again from the entry after the last one it delivered. End it with `break`
  // in the loop or with close().
  subscribe(options: SubscribeOptions = {}): Subscription {
    if (this.closed) throw new LedgerConnectionError("the client is closed", { attempts: 0 });
    const subscription = new Subscription(this.endpoint, this.backoff, options, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  // Closes the connection and every subscription; calls still waiting fail.
  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [...this.subscriptions].map((s) => s.close());
    const connection = this.current ?? (await this.connecting?.catch(() => undefined));
    if (connection) closing.push(connection.close());
    await Promise.all(closing);
  }

  // Connects and says hello now, with retries, rather than at the first call. connect() does
  // this; a client made with `new` connects at its first call.
  async open(): Promise<void> {
    await this.withRetries(() => this.connection(), undefined);
  }

  // The open connection, or a new one (one at a time, shared by every caller).
  private async connection(): Promise<Connection> {
    if (this.closed) throw new LedgerConnectionError("the client is closed", { attempts: 0 });
    if (this.current?.isOpen) return this.current;
    if (!this.connecting) {
      this.connecting = Connection.open(this.endpoint).then(
        (connection) => {
          this.connecting = undefined;
          this.current = connection;
          connection.onClosed(() => {
            if (this.current === connection) this.current = undefined;
          });
          return connection;
        },
        (error: unknown) => {
          this.connecting = undefined;
          throw error;
        },
      );
    }
    return this.connecting;
  }

  private command<T>(key: string, fill: (r: Request) => void, decode: (r: Response) => T): Promise<T> {
    const keyed = (r: Request) => {
      setKey(r, key);
      fill(r);
    };
    return this.withRetries(async () => (await this.connection()).request(keyed, decode), key);
  }

  private read<T>(fill: (r: Request) => void, decode: (r: Response) => T): Promise<T> {
    return this.withRetries(async () => (await this.connection()).request(fill, decode), undefined);
  }

  // Runs `attempt` (connect if need be, send, await the answer) until it succeeds, or fails for
  // a reason another try would not change, or no try is left. A command's request is built anew
  // for each try from the same arguments and key, so a retried command is the same command.
  private async withRetries<T>(attempt: () => Promise<T>, requestKey: string | undefined): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!this.closed && (await this.backoff.again(tries, error, requestKey))) continue;
        const final = finalError(error);
        if (final instanceof ConnectionLost) {
          const advice = requestKey ? `; send the command again with request key ${requestKey}` : "";
          throw new LedgerConnectionError(`no answer after ${tries} tries: ${final.message}${advice}`, {
            attempts: tries,
            requestKey,
            cause: final,
          });
        }
        throw final;
      }
    }
  }

  private async changeNumbers(kind: "delete" | "undelete", numbers: number | number[], options: CommandOptions) {
    const key = checkedKey(options.requestKey);
    const wire = (Array.isArray(numbers) ? numbers : [numbers]).map((n) => wireNumber(n, "number"));
    return this.command(
      key,
      (r) => {
        const target = kind === "delete" ? r._initDelete() : r._initUndelete();
        const list = target._initNumbers(wire.length);
        wire.forEach((n, i) => list.set(i, n));
      },
      (response) => decodeChanged(expect(response, Response.CHANGED, key).changed, key),
    );
  }
}

