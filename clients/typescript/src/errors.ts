// The two ways a call fails. A LedgerError is the ledger's answer: it refused the request (a
// number held, a customer deleted, a bad field, a stale revision...) or ended the session
// (a wrong token). A LedgerConnectionError means no answer came: the server could not be
// reached, or the connection broke on every try; a command may or may not have been done, and
// sending it again with the same request key is safe.
import type { ErrorCodeName } from "./names.js";

// One offending number of a delete or an undelete, with its own code.
export interface NumberProblem {
  number: number;
  code: ErrorCodeName | "unknown";
}

export class LedgerError extends Error {
  override name = "LedgerError";
  // The schema's ErrorCode by name ("notFound", "invalidField", "requestKeyReused", ...), or
  // "unknown" for a code newer than this client's schema.
  readonly code: ErrorCodeName | "unknown";
  // For invalidField (and requestKeyReused): the field or argument at fault; "" otherwise.
  readonly field: string;
  // For delete and undelete: every offending number with its code; empty otherwise.
  readonly numbers: NumberProblem[];
  // The request key the command was sent with (as sent: text), when it had one.
  readonly requestKey: string | undefined;

  constructor(
    code: ErrorCodeName | "unknown",
    message: string,
    details: { field?: string; numbers?: NumberProblem[]; requestKey?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.field = details.field ?? "";
    this.numbers = details.numbers ?? [];
    this.requestKey = details.requestKey;
  }
}

export class LedgerConnectionError extends Error {
  override name = "LedgerConnectionError";
  // How many times the request was sent or a connection attempted.
  readonly attempts: number;
  // The request key of the command that may or may not have been done: send the command again
  // with it (options.requestKey) and the ledger answers its first outcome if it was.
  readonly requestKey: string | undefined;

  constructor(message: string, details: { attempts: number; requestKey?: string; cause?: unknown }) {
    super(message, { cause: details.cause });
    this.attempts = details.attempts;
    this.requestKey = details.requestKey;
  }
}
