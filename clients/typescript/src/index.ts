// @customer-ledger/client: a client for ledgerd (docs/clients.md).
export { connect, LedgerClient } from "./client.js";
export type {
  CommandOptions,
  ConnectOptions,
  CreateOptions,
  EditOptions,
  ListOptions,
  Page,
  PurgeOptions,
} from "./client.js";
export { LedgerConnectionError, LedgerError, type NumberProblem } from "./errors.js";
export type {
  Changed,
  Customer,
  CustomerFields,
  Entry,
  Erasure,
  FieldChange,
  HistoryEvent,
  LedgerEvent,
  Purged,
  Stats,
  Written,
} from "./model.js";
export type { ErrorCodeName, FieldName, RoleName, StatusName } from "./names.js";
export type { RetryEvent, RetryOptions } from "./retry.js";
export { Subscription, type SubscribeOptions } from "./subscription.js";
export type { Welcome } from "./connection.js";
