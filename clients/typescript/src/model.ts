// The values the client hands to applications: plain objects with plain numbers, decoded from
// the generated schema classes before the frame they live in is dropped. Customer numbers,
// ids, revisions and seqs are UInt64 on the wire; every value the ledger hands out is far below
// 2^53 (numbers end at 999,999,999,999), so they are JS numbers here, and a value that is not
// a safe integer is refused with a RangeError rather than rounded.
import { Message, type Data, type List } from "capnp-es";

import * as events from "./gen/domain/events.js";
import type * as protocol from "./gen/server/protocol.js";
import { LedgerError, type NumberProblem } from "./errors.js";
import { errorCodes, fields as fieldNames, statuses, type FieldName, type StatusName } from "./names.js";

export type { FieldName, StatusName } from "./names.js";

// A customer's fields. Absent and "" are the same to the ledger.
export interface CustomerFields {
  name?: string;
  company?: string;
  email?: string;
  phone?: string;
  address?: string;
  notes?: string;
}

export interface Customer {
  number: number;
  id: number;
  status: StatusName;
  revision: number;
  fields: Required<CustomerFields>;
}

// The answer to create and edit.
export interface Written {
  number: number;
  id: number;
  revision: number;
  // The ledger had done this command already (an earlier try with the same request key).
  replayed: boolean;
  requestKey: string;
}

// The answer to delete and undelete.
export interface Changed {
  numbers: number[];
  replayed: boolean;
  requestKey: string;
}

export interface Erasure {
  state: "pending" | "done" | "failed" | string;
  // The erasure pass's report (docs/storage.md lists its fields); {} while pending.
  report: Record<string, unknown>;
}

// The answer to purge.
export interface Purged {
  purged: number;
  numbersFreed: number[];
  seq: number;
  erasure: Erasure;
  replayed: boolean;
  requestKey: string;
}

export interface FieldChange {
  field: FieldName;
  value: string;
}

export interface HistoryEvent {
  seq: number;
  // When the entry was written: microseconds since the Unix epoch, and as a Date (ms).
  atMicros: number;
  at: Date;
  actor: string;
  kind: "CustomerCreated" | "CustomerEdited" | "CustomerDeleted" | "CustomerUndeleted" | string;
  // Created: every non-empty field; edited: the changed fields; otherwise empty.
  changes: FieldChange[];
}

export interface Stats {
  nextSeq: number;
  batches: number;
  commands: number;
  connections: number;
  active: number;
  deleted: number;
  decideCpuNs: number;
  writeCpuNs: number;
}

// A log entry's event (domain/events.capnp), decoded; undefined for a stub.
export type LedgerEvent =
  | { type: "created"; id: number; number: number; fields: Required<CustomerFields> }
  | { type: "edited"; id: number; number: number; changes: FieldChange[] }
  | { type: "deleted"; id: number; number: number }
  | { type: "undeleted"; id: number; number: number }
  | { type: "purged"; ids: number[]; numbers: number[]; entriesRedacted: number[]; merkleRoot: Uint8Array };

// One log entry of a subscription, as stored (docs/storage.md).
export interface Entry {
  seq: number;
  atMicros: number;
  at: Date;
  actor: string;
  // The customer's id (0 for a purge).
  customer: number;
  // 1 created, 2 edited, 3 deleted, 4 undeleted, 5 purged.
  kind: number;
  number: number;
  // A framed domain/events.capnp Event; empty for a stub. `event` is it decoded.
  payload: Uint8Array;
  event: LedgerEvent | undefined;
  digest: Uint8Array;
  chain: Uint8Array;
  // The seq of the purge that redacted this entry to a stub; 0 otherwise.
  redactedBy: number;
  // The request key the entry was written with; empty when none (and for stubs).
  request: Uint8Array;
}

// `value` as a JS number; RangeError when it is beyond 2^53 - 1.
export function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${value} is beyond Number.MAX_SAFE_INTEGER`);
  }
  return Number(value);
}

// `value` as a UInt64 for the wire; RangeError when it is not a non-negative safe integer.
export function wireNumber(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, not ${value}`);
  }
  return BigInt(value);
}

function numbers(list: List<bigint>, what: string): number[] {
  return list.map((n) => safeNumber(n, what));
}

function bytes(data: Data): Uint8Array {
  return Uint8Array.from(data.toUint8Array());
}

function customerFields(f: protocol.CustomerFields | events.CustomerFields): Required<CustomerFields> {
  return { name: f.name, company: f.company, email: f.email, phone: f.phone, address: f.address, notes: f.notes };
}

function fieldChanges(list: List<protocol.FieldChange> | List<events.FieldChange>): FieldChange[] {
  const out: FieldChange[] = [];
  for (let i = 0; i < list.length; i++) {
    const change = list.get(i);
    out.push({ field: fieldNames.name(change.field) ?? (`field${change.field}` as FieldName), value: change.value });
  }
  return out;
}

function time(micros: bigint): { atMicros: number; at: Date } {
  const atMicros = safeNumber(micros, "time");
  return { atMicros, at: new Date(Math.floor(atMicros / 1000)) };
}

export function decodeError(error: protocol.Error, requestKey?: string): LedgerError {
  const problems: NumberProblem[] = [];
  for (let i = 0; i < error.numbers.length; i++) {
    const p = error.numbers.get(i);
    problems.push({ number: safeNumber(p.number, "number"), code: errorCodes.name(p.code) ?? "unknown" });
  }
  return new LedgerError(errorCodes.name(error.code) ?? "unknown", error.message, {
    field: error.field,
    numbers: problems,
    requestKey,
  });
}

export function decodeCustomer(c: protocol.Customer): Customer {
  return {
    number: safeNumber(c.number, "number"),
    id: safeNumber(c.id, "id"),
    status: statuses.name(c.status) ?? (`status${c.status}` as StatusName),
    revision: safeNumber(c.revision, "revision"),
    fields: customerFields(c.fields),
  };
}

export function decodeWritten(w: protocol.Written, requestKey: string): Written {
  return {
    number: safeNumber(w.number, "number"),
    id: safeNumber(w.id, "id"),
    revision: safeNumber(w.revision, "revision"),
    replayed: w.replayed,
    requestKey,
  };
}

export function decodeChanged(c: protocol.Changed, requestKey: string): Changed {
  return { numbers: numbers(c.numbers, "number"), replayed: c.replayed, requestKey };
}

export function decodeErasure(e: protocol.Erasure): Erasure {
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(e.report || "{}") as Record<string, unknown>;
  } catch {
    report = { unparsed: e.report };
  }
  return { state: e.state, report };
}

export function decodePurged(p: protocol.Purged, requestKey: string): Purged {
  return {
    purged: safeNumber(p.purged, "purged"),
    numbersFreed: numbers(p.numbersFreed, "number"),
    seq: safeNumber(p.seq, "seq"),
    erasure: decodeErasure(p.erasure),
    replayed: p.replayed,
    requestKey,
  };
}

export function decodeHistory(h: protocol.HistoryPage): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  for (let i = 0; i < h.events.length; i++) {
    const e = h.events.get(i);
    out.push({
      seq: safeNumber(e.seq, "seq"),
      ...time(e.at),
      actor: e.actor,
      kind: e.kind,
      changes: fieldChanges(e.changes),
    });
  }
  return out;
}

export function decodeStats(s: protocol.Stats): Stats {
  return {
    nextSeq: safeNumber(s.nextSeq, "nextSeq"),
    batches: safeNumber(s.batches, "batches"),
    commands: safeNumber(s.commands, "commands"),
    connections: s.connections,
    active: safeNumber(s.active, "active"),
    deleted: safeNumber(s.deleted, "deleted"),
    decideCpuNs: safeNumber(s.decideCpuNs, "decideCpuNs"),
    writeCpuNs: safeNumber(s.writeCpuNs, "writeCpuNs"),
  };
}

// The Event of a log entry's payload, or undefined for a stub's empty payload.
export function decodeEvent(payload: Uint8Array): LedgerEvent | undefined {
  if (payload.length === 0) return undefined;
  const event = new Message(payload, false).getRoot(events.Event);
  switch (event.which()) {
    case events.Event.CREATED: {
      const e = event.created;
      return {
        type: "created",
        id: safeNumber(e.id, "id"),
        number: safeNumber(e.number, "number"),
        fields: customerFields(e.fields),
      };
    }
    case events.Event.EDITED: {
      const e = event.edited;
      return {
        type: "edited",
        id: safeNumber(e.id, "id"),
        number: safeNumber(e.number, "number"),
        changes: fieldChanges(e.changes),
      };
    }
    case events.Event.DELETED: {
      const e = event.deleted;
      return { type: "deleted", id: safeNumber(e.id, "id"), number: safeNumber(e.number, "number") };
    }
    case events.Event.UNDELETED: {
      const e = event.undeleted;
      return { type: "undeleted", id: safeNumber(e.id, "id"), number: safeNumber(e.number, "number") };
    }
    case events.Event.PURGED: {
      const e = event.purged;
      return {
        type: "purged",
        ids: numbers(e.ids, "id"),
        numbers: numbers(e.numbers, "number"),
        entriesRedacted: e.entriesRedacted.toArray(),
        merkleRoot: bytes(e.merkleRoot),
      };
    }
    default:
      return undefined;
  }
}

export function decodeEntry(e: protocol.Entry): Entry {
  const payload = bytes(e.payload);
  return {
    seq: safeNumber(e.seq, "seq"),
    ...time(e.at),
    actor: e.actor,
    customer: safeNumber(e.customer, "customer"),
    kind: e.kind,
    number: safeNumber(e.number, "number"),
    payload,
    event: decodeEvent(payload),
    digest: bytes(e.digest),
    chain: bytes(e.chain),
    redactedBy: safeNumber(e.redactedBy, "redactedBy"),
    request: bytes(e.request),
  };
}
