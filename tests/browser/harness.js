// What every browser test needs: a real ledgerd (the binary at $LEDGERD) with its HTTP server on
// 127.0.0.1 port 0 and a data directory of its own, and Debian's Chromium driven by
// playwright-core. The console's address comes from the "console on http://HOST:PORT/" line
// ledgerd prints. LEDGER_BROWSER=firefox runs the same tests in Debian's Firefox ESR instead,
// driven over WebDriver BiDi (Playwright's "moz-firefox" channel; again nothing is downloaded).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium, firefox } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const ledgerdPath = process.env.LEDGERD ?? resolve(here, "../../build/server/ledgerd");
export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const firefoxPath = process.env.FIREFOX ?? "/usr/bin/firefox-esr";
export const browserName = process.env.LEDGER_BROWSER ?? "chromium";
if (browserName !== "chromium" && browserName !== "firefox") {
  throw new Error(`LEDGER_BROWSER is "${browserName}": say chromium or firefox`);
}

export class Ledgerd {
  constructor(child, url, dir, logPath) {
    this.child = child;
    this.url = url;  // "http://127.0.0.1:PORT/"
    this.dir = dir;
    this.logPath = logPath;
  }

  // Starts ledgerd; `tokens`: [{name, role, token}] for a tokens file (without it, every caller
  // is the admin "local"). Rejects when it prints no console line within 20 s.
  static async start({ tokens, args = [] } = {}) {
    const dir = mkdtempSync(join(tmpdir(), "ledger-browser-"));
    const logPath = join(dir, "ledgerd.log");
    const allArgs = ["--data", join(dir, "data"), "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--threads", "2", ...args];
    if (tokens) {
      const path = join(dir, "tokens");
      const lines = tokens.map((t) => `${t.name} ${t.role} ${createHash("sha256").update(t.token).digest("hex")}\n`);
      writeFileSync(path, lines.join(""), { mode: 0o600 });
      allArgs.push("--tokens", path);
    }
    const log = openSync(logPath, "a");
    const child = spawn(ledgerdPath, allArgs, { stdio: ["ignore", "pipe", log] });
    closeSync(log);
    const lines = createInterface({ input: child.stdout });
    const url = await new Promise((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`ledgerd printed no console line in 20 s (${logPath})`)), 20_000);
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`ledgerd exited with ${code}: ${readFileSync(logPath, "utf8").slice(-2000)}`)));
      lines.on("line", (line) => {
        const match = /^console on (http:\/\/\S+\/)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
      });
    });
    child.removeAllListeners("exit");
    return new Ledgerd(child, url, dir, logPath);
  }

  get port() {
    return Number(new URL(this.url).port);
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, "exit");
      this.child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function launchBrowser() {
  if (browserName === "firefox") return firefox.launch({ channel: "moz-firefox", executablePath: firefoxPath });
  return chromium.launch({ executablePath: chromiumPath });
}

// A new page (own cookies) logged in with `token` through the login form.
export async function loggedInPage(browser, ledgerd, token = "any") {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  // Script errors in the console: a test checks this is empty at its end.
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error.message));
  await page.goto(ledgerd.url);
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("#who-name").waitFor({ state: "visible" });
  return page;
}

const screenshotDir = resolve(here, "../../docs/console");

// Saves the page into docs/console/NAME.png when LEDGER_SCREENSHOTS=1 (the committed images are
// made that way; an ordinary run leaves the repository as it is).
export async function screenshot(page, name) {
  if (process.env.LEDGER_SCREENSHOTS !== "1") return;
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

