// A subscription to the log as an async iterator of entries, on a connection of its own, so
// that a loop that reads slowly holds back only its own entries: beyond kHighWater queued
// entries the socket is paused and the server, its outbox full, stops reading the log for it
// (docs/protocol.md, "subscribe"). When the connection breaks, or the server answers
// `shuttingDown` or `tooSlow`, it subscribes again from the entry after the last one delivered.
import { Request, Response } from "./gen/server/protocol.js";
import { Connection, ConnectionLost, type Closure, type Endpoint } from "./connection.js";
import { LedgerConnectionError } from "./errors.js";
import { decodeEntry, decodeError, wireNumber, type Entry } from "./model.js";
import { Backoff, finalError, isRetryable } from "./retry.js";

export interface SubscribeOptions {
  // The first seq to deliver; default 1 (the start of the log).
  fromSeq?: number;
}

const kHighWater = 1024;
const kLowWater = 256;

type Waiter = { resolve: (r: IteratorResult<Entry, undefined>) => void; reject: (e: unknown) => void };

export class Subscription implements AsyncIterableIterator<Entry, undefined, undefined> {
  private readonly endpoint: Endpoint;
  private readonly backoff: Backoff;
  private readonly onEnd: () => void;
  private readonly queue: Entry[] = [];
  private waiter: Waiter | undefined;
  private failure: unknown;
  private ended = false;
  private connection: Connection | undefined;
  private paused = false;
  private nextSeq: number;
  private attempt = 0;
  private readonly started: Promise<void>;
  private resolveStarted!: () => void;
  private rejectStarted!: (error: unknown) => void;

  constructor(endpoint: Endpoint, backoff: Backoff, options: SubscribeOptions, onEnd: () => void) {
    this.endpoint = endpoint;
    this.backoff = backoff;
    this.onEnd = onEnd;
    this.nextSeq = Math.max(1, options.fromSeq ?? 1);
    wireNumber(this.nextSeq, "fromSeq");
    this.started = new Promise<void>((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.started.catch(() => undefined);
    this.run().catch((error: unknown) => this.finish(error));
  }

  // Resolves once the server has answered the (first) subscribe; rejects as the iterator does
  // when it cannot subscribe (forbidden, unauthenticated, unreachable).
  ready(): Promise<void> {
    return this.started;
  }

  // The seq of the next entry it expects.
  get position(): number {
    return this.nextSeq;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Entry, undefined>> {
    const entry = this.queue.shift();
    if (entry) {
      if (this.paused && this.queue.length <= kLowWater) {
        this.paused = false;
        this.connection?.resume();
      }
      return Promise.resolve({ value: entry, done: false });
    }
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      this.ended = true;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<Entry, undefined>> {
    await this.close();
    return { value: undefined, done: true };
  }

  // Ends the subscription and its connection; the loop then ends after no further entry.
  async close(): Promise<void> {
    this.finish(undefined);
    this.queue.length = 0;
    await this.connection?.close();
  }

  // Connects and subscribes, again after each break, until closed or a try fails for good.
  private async run(): Promise<void> {
    while (!this.ended) {
      this.attempt++;
      let closure: Closure;
      try {
        const connection = await Connection.open(this.endpoint);
        if (this.ended) {
          await connection.close();
          return;
        }
        this.connection = connection;
        this.paused = false;
        closure = await this.follow(connection);
      } catch (error) {
        if (!(await this.retry(error))) return;
        continue;
      }
      if (this.ended) return;
      if (!(await this.retry(new ConnectionLost(closure)))) return;
    }
  }

  // Sends subscribe on `connection` and queues its entries; resolves with why it ended.
  private follow(connection: Connection): Promise<Closure> {
    return new Promise<Closure>((resolve) => {
      const fromSeq = BigInt(this.nextSeq);
      // shuttingDown for a subscriber comes with its id, not as the connection's error.
      let ended: ReturnType<typeof decodeError> | undefined;
      connection.onClosed((closure) => resolve(ended && !closure.error ? { ...closure, error: ended } : closure));
      connection.send(
        (r: Request) => {
          r._initSubscribe().fromSeq = fromSeq;
        },
        {
          onResponse: (response: Response) => {
            if (response._isSubscribed) {
              this.attempt = 0;
              this.resolveStarted();
              return false;
            }
            if (response._isEntry) {
              const entry = decodeEntry(response.entry);
              this.nextSeq = entry.seq + 1;
              this.deliver(entry);
              return false;
            }
            if (response._isError) {
              const error = decodeError(response.error);
              ended = error;
              if (!isRetryable(error)) {
                this.finish(error);
                void connection.close();
              }
              return true;
            }
            return false;
          },
          onClosed: () => undefined,
        },
      );
    });
  }

  // After a failed try: waits and returns true when another is due, else ends the iterator
  // with the error and returns false.
  private async retry(error: unknown): Promise<boolean> {
    if (this.ended) return false;
    if (!(await this.backoff.again(this.attempt, error))) {
      const final = finalError(error);
      this.finish(
        final instanceof ConnectionLost
          ? new LedgerConnectionError(`the subscription ended: ${final.message}`, {
              attempts: this.attempt,
              cause: final,
            })
          : final,
      );
      return false;
    }
    return !this.ended;
  }

  private deliver(entry: Entry): void {
    if (this.ended) return;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ value: entry, done: false });
      return;
    }
    this.queue.push(entry);
    if (!this.paused && this.queue.length >= kHighWater) {
      this.paused = true;
      this.connection?.pause();
    }
  }

  // Ends the iterator: with `error` after the queued entries, or quietly.
  private finish(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.rejectStarted(error ?? new LedgerConnectionError("the subscription was closed", { attempts: this.attempt }));
    this.onEnd();
    const waiter = this.waiter;
    this.waiter = undefined;
    if (error !== undefined) {
      if (waiter) waiter.reject(error);
      else this.failure = error;
    } else {
      waiter?.resolve({ value: undefined, done: true });
    }
  }
}
