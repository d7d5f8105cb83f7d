// One TCP (or TLS) connection's life: connect, hello, then any number of requests in flight at
// once, each matched to its answer by the id the connection gives it. Knows nothing of retries:
// when the connection ends, every call still waiting is told why (Closure), and the client
// decides what to send again. Single-threaded, like everything in Node.
import * as net from "node:net";
import * as tls from "node:tls";

import { Request, Response } from "./gen/server/protocol.js";
import { FrameReader, buildFrame } from "./frames.js";
import type { LedgerError } from "./errors.js";
import { decodeError } from "./model.js";
import { roles, type RoleName } from "./names.js";

export interface Endpoint {
  host: string;
  port: number;
  token: string;
  // true: TLS, verifying the server against the system's CAs; an object: TLS with these options
  // (`ca` for a private CA or a self-signed certificate). Absent or false: plain TCP.
  tls?: boolean | tls.ConnectionOptions;
  // How long connecting and the hello may take; default 10 s.
  connectTimeoutMs?: number;
}

export interface Welcome {
  principal: string;
  role: RoleName;
}

// Why a connection ended: the server's error about the connection itself (a Response with id 0:
// busy, timeout, tooSlow, shuttingDown, unauthenticated...), the socket's error, or neither (an
// end of file). `byClient` when this side closed it.
export interface Closure {
  error?: LedgerError;
  cause?: Error;
  byClient?: boolean;
}

// A connection that ended before a call's answer came. Internal: the client turns it into a
// retry or a LedgerConnectionError.
export class ConnectionLost extends Error {
  override name = "ConnectionLost";
  readonly closure: Closure;

  constructor(closure: Closure) {
    super(describe(closure), { cause: closure.cause ?? closure.error });
    this.closure = closure;
  }
}

function describe(closure: Closure): string {
  if (closure.byClient) return "the connection was closed by the client";
  if (closure.error) return `the server closed the connection: ${closure.error.code}: ${closure.error.message}`;
  if (closure.cause) return `the connection failed: ${closure.cause.message}`;
  return "the server closed the connection";
}

// Receives every answer to one request until it returns true (done); told once if the
// connection ends first.
interface Call {
  onResponse(response: Response): boolean;
  onClosed(closure: Closure): void;
}

export class Connection {
  private readonly socket: net.Socket;
  private readonly reader = new FrameReader();
  private readonly calls = new Map<bigint, Call>();
  private nextId = 1n;
  private closure: Closure | undefined;
  private serverError: LedgerError | undefined;
  private socketError: Error | undefined;
  private closingByClient = false;
  private readonly closedListeners: ((closure: Closure) => void)[] = [];
  welcome: Welcome = { principal: "", role: "clerk" };

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error: Error) => {
      this.socketError ??= error;
    });
    socket.on("close", () => this.closed());
  }

  // Connects and says hello. Rejects with ConnectionLost when the server cannot be reached or
  // the connection ends before the welcome, with the server's LedgerError when it refuses the
  // hello (unauthenticated, busy).
  static open(endpoint: Endpoint): Promise<Connection> {
    const timeoutMs = endpoint.connectTimeoutMs ?? 10_000;
    const options = { host: endpoint.host, port: endpoint.port };
    let socket: net.Socket;
    let ready: string;
    if (endpoint.tls) {
      const tlsOptions = endpoint.tls === true ? {} : endpoint.tls;
      socket = tls.connect({ ...tlsOptions, ...options });
      ready = "secureConnect";
    } else {
      socket = net.connect(options);
      ready = "connect";
    }
    const connection = new Connection(socket);
    return new Promise<Connection>((resolve, reject) => {
      socket.setTimeout(timeoutMs, () => {
        connection.socketError ??= Object.assign(new Error(`no welcome within ${timeoutMs} ms`), {
          code: "ETIMEDOUT",
        });
        socket.destroy();
      });
      socket.once(ready, () => {
        connection.send(
          (r) => {
            r._initHello().token = endpoint.token;
          },
          {
            onResponse(response) {
              socket.setTimeout(0);
              if (response._isWelcome) {
                const w = response.welcome;
                connection.welcome = { principal: w.principal, role: roles.name(w.role) ?? "clerk" };
                resolve(connection);
              } else if (response._isError) {
                connection.serverError ??= decodeError(response.error);
                reject(connection.serverError);
              } else {
                reject(new Error(`the server answered hello with ${response.which()}`));
              }
              return true;
            },
            onClosed(closure) {
              reject(closure.error ?? new ConnectionLost(closure));
            },
          },
        );
      });
      // Before the hello was sent there is no call to tell.
      connection.onClosed((closure) => reject(closure.error ?? new ConnectionLost(closure)));
    });
  }

  // True until the socket has closed or close() was called.
  get isOpen(): boolean {
    return this.closure === undefined && !this.closingByClient;
  }

  // Requests waiting for (more) answers.
  get inFlight(): number {
    return this.calls.size;
  }

  // Sends the request `fill` builds, with the next id, and hands its answers to `call`. On a
  // closed connection, tells `call` at once.
  send(fill: (request: Request) => void, call: Call): void {
    if (this.closure || this.closingByClient) {
      call.onClosed(this.closure ?? { byClient: true });
      return;
    }
    const id = this.nextId++;
    const frame = buildFrame(Request, (r) => {
      r.id = id;
      fill(r);
    });
    this.calls.set(id, call);
    this.socket.write(frame);
  }

  // Sends one request and resolves with what `decode` makes of its one answer (decode runs
  // while the frame is live; what it throws rejects the promise). Rejects with ConnectionLost
  // when the connection ends first.
  request<T>(fill: (request: Request) => void, decode: (response: Response) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.send(fill, {
        onResponse(response) {
          try {
            resolve(decode(response));
          } catch (error) {
            reject(error);
          }
          return true;
        },
        onClosed(closure) {
          reject(new ConnectionLost(closure));
        },
      });
    });
  }

  // Stops reading from the socket (backpressure: the server then stops sending) and resumes.
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }

  // Calls `listener` once when the connection has ended (at once when it already has).
  onClosed(listener: (closure: Closure) => void): void {
    if (this.closure) listener(this.closure);
    else this.closedListeners.push(listener);
  }

  // Ends the connection as docs/protocol.md asks: end our side, read until the server's end of
  // file, then close. Calls still waiting are told the client closed it. Resolves once closed.
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.onClosed(() => resolve());
      if (this.closure) return;
      this.closingByClient = true;
      this.socket.resume();
      this.socket.end();
      // A server that does not answer the end within its own 2 s is not waited for longer.
      this.socket.setTimeout(3_000, () => this.socket.destroy());
    });
  }

  private receive(chunk: Buffer): void {
    let frames;
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      this.socketError ??= error as Error;
      this.socket.destroy();
      return;
    }
    for (const message of frames) {
      let response: Response;
      try {
        response = message.getRoot(Response);
        if (response.id === 0n) {
          // About the connection itself; the server closes it next.
          if (response._isError) this.serverError ??= decodeError(response.error);
          continue;
        }
        const call = this.calls.get(response.id);
        if (call && call.onResponse(response)) this.calls.delete(response.id);
      } catch (error) {
        this.socketError ??= error as Error;
        this.socket.destroy();
        return;
      }
    }
  }

  private closed(): void {
    this.closure = {
      error: this.serverError,
      cause: this.socketError,
      byClient: this.closingByClient && !this.serverError && !this.socketError,
    };
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.onClosed(this.closure);
    for (const listener of this.closedListeners.splice(0)) listener(this.closure);
  }
}
