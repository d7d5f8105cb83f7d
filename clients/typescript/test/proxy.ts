// A TCP proxy on 127.0.0.1 in front of ledgerd, like tests/net/breaking_proxy.h: it records
// every request that passes (connection, id, kind, request key), counts the requests in flight,
// and can break a connection at a chosen answer: pass `answersToPass` answers to the client,
// then drop the next one and close both sides. For tests only.
import * as net from "node:net";
import { once } from "node:events";
import { Message } from "capnp-es";

import { FrameReader } from "../src/frames.js";
import { Request, Response } from "../src/gen/server/protocol.js";

export interface SeenRequest {
  connection: number;
  id: bigint;
  which: number;
  requestKey: string;
}

export interface BreakPlan {
  // Which connections to break (numbered from 0 in the order accepted).
  connections: (index: number) => boolean;
  answersToPass: number;
}

export class Proxy {
  readonly requests: SeenRequest[] = [];
  connections = 0;
  broken = 0;
  // The most requests that were sent on one connection and not answered yet, at any moment.
  maxInFlight = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private constructor(server: net.Server, readonly port: number, private readonly upstream: number, private readonly plan: BreakPlan | undefined) {
    this.server = server;
  }

  static async start(upstreamPort: number, plan?: BreakPlan): Promise<Proxy> {
    let proxy!: Proxy;
    const server = net.createServer((client) => proxy.relay(client));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    proxy = new Proxy(server, (server.address() as net.AddressInfo).port, upstreamPort, plan);
    return proxy;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, "close");
  }

  private relay(client: net.Socket): void {
    const index = this.connections++;
    const toBreak = this.plan?.connections(index) ?? false;
    const answersToPass = this.plan?.answersToPass ?? 0;
    const upstream = net.connect(this.upstream, "127.0.0.1");
    this.sockets.add(client).add(upstream);
    const requests = new FrameReader();
    const answers = new FrameReader();
    const unanswered = new Set<bigint>();
    let passed = 0;
    let done = false;
    const breakBoth = () => {
      done = true;
      this.broken++;
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      for (const frame of requests.pushBytes(chunk)) {
        const r = new Message(frame, false).getRoot(Request);
        this.requests.push({
          connection: index,
          id: r.id,
          which: r.which(),
          requestKey: Buffer.from(r.requestKey.toUint8Array()).toString("utf8"),
        });
        unanswered.add(r.id);
      }
      this.maxInFlight = Math.max(this.maxInFlight, unanswered.size);
    });
    upstream.on("data", (chunk: Buffer) => {
      for (const frame of answers.pushBytes(chunk)) {
        if (done) return;
        if (toBreak && passed === answersToPass) {
          breakBoth();
          return;
        }
        passed++;
        const response = new Message(frame, false).getRoot(Response);
        if (!response._isEntry && !response._isSubscribed) unanswered.delete(response.id);
        client.write(frame);
      }
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    for (const socket of [client, upstream]) {
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  }
}
