// A real ledgerd child process for the tests, as tests/net/ledgerd_process.h starts one: on
// 127.0.0.1 port 0 with a data directory of its own, its port read from the "listening on
// HOST:PORT" line it prints. The binary is $LEDGERD, else the repository's build/server/ledgerd.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// dist/test -> the repository's root
export const ledgerdPath = process.env.LEDGERD ?? resolve(here, "../../../../build/server/ledgerd");

export interface StartOptions {
  // Extra ledgerd arguments (--tls-cert, --tokens, ...).
  args?: string[];
  // Listen here instead of 127.0.0.1:0 (to start again on the port of a stopped server).
  listen?: string;
  // Use this data directory (to start again on the data of a stopped server).
  dataDir?: string;
  // Principals for a tokens file (--tokens), written beside the data directory.
  tokens?: { name: string; role: "clerk" | "auditor" | "admin"; token: string }[];
}

export class Ledgerd {
  readonly host = "127.0.0.1";
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
    readonly logPath: string,
    private readonly ownDir: string | undefined,
  ) {}

  // Starts ledgerd; rejects when it exits or prints no listening line within 20 s, with the end
  // of its stderr (kept in logPath while it runs).
  static async start(options: StartOptions = {}): Promise<Ledgerd> {
    const ownDir = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), "ledger-ts-"));
    const dataDir = options.dataDir ?? join(ownDir as string, "data");
    const logPath = `${dataDir}.log`;
    const args = [...(options.args ?? [])];
    if (options.tokens) {
      const path = `${dataDir}.tokens`;
      const lines = options.tokens.map((t) => `${t.name} ${t.role} ${createHash("sha256").update(t.token).digest("hex")}\n`);
      writeFileSync(path, lines.join(""), { mode: 0o600 });
      args.push("--tokens", path);
    }
    const log = openSync(logPath, "a");
    const child = spawn(
      ledgerdPath,
      ["--data", dataDir, "--listen", options.listen ?? "127.0.0.1:0", "--threads", "2", ...args],
      { stdio: ["ignore", "pipe", log] },
    );
    closeSync(log);
    const lines = createInterface({ input: child.stdout! });
    const listening = new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`ledgerd printed no listening line in 20 s (${logPath})`)), 20_000);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`ledgerd exited with ${code} before listening (${logPath})`));
      });
      lines.on("line", (line) => {
        const match = /^listening on (.*):(\d+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolvePort(Number(match[2]));
        }
      });
    });
    let port: number;
    try {
      port = await listening;
    } catch (error) {
      // The log goes with the directory, so its end goes into the error.
      child.kill("SIGKILL");
      let log = "";
      try {
        log = readFileSync(logPath, "utf8").split("\n").slice(-10).join("\n");
      } catch {
        // no log
      }
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}\n${log}`, { cause: error });
    }
    child.removeAllListeners("exit");
    return new Ledgerd(child, port, dataDir, logPath, ownDir);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  // Sends `signal` and resolves with the exit code (null when a signal ended it).
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.running) {
      const exited = once(this.child, "exit");
      this.child.kill(signal);
      await exited;
    }
    return this.child.exitCode;
  }

  // Stops it and removes the data directory the harness made for it.
  async dispose(): Promise<void> {
    await this.stop("SIGTERM");
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
  }
}
