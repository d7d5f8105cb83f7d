// When a call is sent again, and after how long. docs/protocol.md: a broken connection, `busy`
// and `shuttingDown` mean "send the same command again, with the same key"; a refusal is final.
import { setTimeout as sleep } from "node:timers/promises";

import { LedgerError } from "./errors.js";
import { ConnectionLost } from "./connection.js";
import type { ErrorCodeName } from "./names.js";

export interface RetryOptions {
  // How many times a call is sent again after the first try; default 4 (5 tries in all).
  retries?: number;
  // The wait before the first retry, doubled before each next one; default 250 ms
  // (250, 500, 1000, 2000 ms, as ledgerctl waits).
  backoffMs?: number;
  // The longest wait between two tries; default 5000 ms.
  maxBackoffMs?: number;
  // Told before each wait for another try (to log it, say).
  onRetry?: (retry: RetryEvent) => void;
}

export interface RetryEvent {
  // Tries so far (1 before the first retry).
  attempt: number;
  delayMs: number;
  // Why the try failed: the server's LedgerError (busy, shuttingDown, tooSlow, timeout) or
  // an Error saying how the connection failed.
  error: unknown;
  // The command's request key, sent again unchanged; undefined for reads.
  requestKey: string | undefined;
}

// Answers that say "not done, try again".
const kRetryableCodes: ReadonlySet<ErrorCodeName | "unknown"> = new Set<ErrorCodeName | "unknown">([
  "busy",
  "shuttingDown",
]);

// Codes of a connection's end that another try on a new connection would meet again.
const kFinalClosureCodes: ReadonlySet<ErrorCodeName | "unknown"> = new Set<ErrorCodeName | "unknown">([
  "unauthenticated",
  "badRequest",
  "tooLarge",
]);

// Socket errors that another try may not meet: the network or the server was away. Others (a
// TLS certificate that does not verify, a host name that does not resolve, bytes that are not
// Cap'n Proto frames) end the call at once.
const kTransientSocketErrors: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
]);

// True when `error` (what a try threw) says the call may be sent again.
export function isRetryable(error: unknown): boolean {
  if (error instanceof LedgerError) return kRetryableCodes.has(error.code);
  if (error instanceof ConnectionLost) {
    const { closure } = error;
    if (closure.byClient) return false;
    if (closure.error) return !kFinalClosureCodes.has(closure.error.code);
    if (closure.cause) return kTransientSocketErrors.has((closure.cause as NodeJS.ErrnoException).code ?? "");
    return true;
  }
  return false;
}

// What a try that cannot be retried throws to the caller: the server's LedgerError as it is
// (also the one a connection ended with, e.g. unauthenticated), anything else unchanged.
export function finalError(error: unknown): unknown {
  if (error instanceof ConnectionLost && error.closure.error && !isRetryable(error)) return error.closure.error;
  return error;
}

export class Backoff {
  private readonly retries: number;
  private readonly firstMs: number;
  private readonly maxMs: number;
  private readonly onRetry: ((retry: RetryEvent) => void) | undefined;

  constructor(options: RetryOptions) {
    this.retries = options.retries ?? 4;
    this.firstMs = options.backoffMs ?? 250;
    this.maxMs = options.maxBackoffMs ?? 5_000;
    this.onRetry = options.onRetry;
  }

  // After try `attempt` failed with `error`: when another try is due, tells onRetry, waits and
  // returns true; else returns false at once.
  async again(attempt: number, error: unknown, requestKey?: string): Promise<boolean> {
    if (!isRetryable(error) || attempt > this.retries) return false;
    const delayMs = Math.min(this.maxMs, this.firstMs * 2 ** (attempt - 1));
    // The server's own word when it ended the connection with one (shuttingDown, tooSlow, busy).
    const reported = error instanceof ConnectionLost && error.closure.error ? error.closure.error : error;
    this.onRetry?.({ attempt, delayMs, error: reported, requestKey });
    await sleep(delayMs);
    return true;
  }
}
