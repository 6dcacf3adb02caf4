// A fresh iapd per test: the release server on a free port with a new demo database.
import { test as base, expect, type Page, type TestInfo } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** Starts `command` and waits for the line announcing its URL. */
async function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, name: string) {
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const match = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${log}`));
    });
  });
  return { proc, url, log: () => log };
}

/** iapd on a demo database; `env` overrides its settings, `null` removes one. */
async function startServer(
  dbDir: string,
  env: Record<string, string | null> = {},
  addr = "127.0.0.1:0",
) {
  const all: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: `sqlite://${dbDir}/iapd.sqlite`,
    LEPTOS_SITE_ADDR: addr,
    LEPTOS_SITE_ROOT: path.join(ROOT, "target/site"),
    RUST_LOG: "info,sqlx=warn",
    PAYMENT_PROVIDER: "demo",
  };
  for (const [name, value] of Object.entries(env)) {
    if (value === null) delete all[name];
    else all[name] = value;
  }
  return startProcess(path.join(ROOT, "target/release/server"), ["--demo"], all, "iapd");
}

/** Stops a started process and, when the test failed, attaches its log. */
async function stop(
  started: { proc: ChildProcess; log: () => string },
  name: string,
  testInfo: TestInfo,
) {
  const exited = new Promise((resolve) => started.proc.once("exit", resolve));
  started.proc.kill("SIGTERM");
  await exited;
  if (testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach(`${name}.log`, { body: started.log(), contentType: "text/plain" });
  }
}

/** A free TCP port on loopback, for a server whose public URL must be known up front. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export const STRIPE_WEBHOOK_SECRET = "whsec_e2e_iapd";

export const test = base.extend<{
  server: { url: string };
  stripe: { url: string };
}>({
  server: async ({}, use, testInfo) => {
    const dir = mkdtempSync(path.join(tmpdir(), "iapd-e2e-"));
    const server = await startServer(dir);
    await use({ url: server.url });
    await stop(server, "server", testInfo);
    rmSync(dir, { recursive: true, force: true });
  },
  /** The fake Stripe (end2end/fakes/stripe.mjs), used by `stripeServer` below. */
  stripe: async ({}, use, testInfo) => {
    const fake = await startProcess(
      process.execPath,
      [path.join(ROOT, "end2end/fakes/stripe.mjs")],
      { ...process.env, PORT: "0", STRIPE_WEBHOOK_SECRET },
      "fake stripe",
    );
    await use({ url: fake.url });
    await stop(fake, "stripe", testInfo);
  },
  baseURL: async ({ server }, use) => {
    await use(server.url);
  },
});

/**
 * iapd selling through Stripe, against the fake: the fake's webhooks go to iapd, and
 * Stripe's success and cancel links come back to iapd's public URL, so iapd listens on a
 * port chosen up front.
 */
export const stripeTest = test.extend<{ server: { url: string } }>({
  server: async ({ stripe }, use, testInfo) => {
    const dir = mkdtempSync(path.join(tmpdir(), "iapd-e2e-"));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await startServer(
      dir,
      {
        PAYMENT_PROVIDER: "stripe",
        STRIPE_SECRET_KEY: "sk_test_e2e",
        STRIPE_WEBHOOK_SECRET,
        STRIPE_API_BASE: stripe.url,
        IAPD_PUBLIC_URL: url,
      },
      `127.0.0.1:${port}`,
    );
    const set = await fetch(`${stripe.url}/__fake/webhook-url`, {
      method: "PUT",
      body: `${url}/payment/stripe/webhook`,
    });
    if (!set.ok) throw new Error(`cannot point the fake's webhooks at iapd: ${set.status}`);
    await use({ url });
    await stop(server, "server", testInfo);
    rmSync(dir, { recursive: true, force: true });
  },
});

export { expect };

/** Waits until the wasm app has hydrated the page, so clicks reach Leptos handlers. */
export async function hydrated(page: Page) {
  await page.locator('html[data-hydrated="true"]').waitFor({ state: "attached" });
}

/** Signs in through the login page, as a user would. */
export async function login(page: Page, user: string, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Login").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  await hydrated(page);
}

/** View My Services → SMS: the Account Information page, hydrated. */
export async function openSms(page: Page) {
  await page.goto("/iap-accounts");
  await hydrated(page);
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();
  await hydrated(page);
}

/** Sends one SMS to Marc Demo from his contact form: 0.12 credits. */
export async function sendOneSms(page: Page) {
  await page.goto("/contacts");
  await hydrated(page);
  await page.getByRole("link", { name: "Marc Demo" }).click();
  await page.getByRole("button", { name: "📱 SMS" }).click();
  const dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
  await dialog.getByLabel("Message", { exact: true }).fill("Your order has shipped");
  await dialog.getByRole("button", { name: "Send SMS" }).click();
  await expect(dialog.getByTestId("sms-progress")).toHaveText("1 SMS sent, 0.12 credits charged.");
}

/** Signs out through the user menu. */
export async function logout(page: Page) {
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(/\/login$/);
}

/**
 * iapd sending SMS through the fake HTTP gateway (end2end/fakes/sms_gateway.mjs), which
 * takes `delayMs` to answer each message; one message at a time, so a batch is seen going
 * out.
 */
export function slowGatewayTest(delayMs: number) {
  return test.extend<{ gateway: { url: string }; server: { url: string } }>({
    gateway: async ({}, use, testInfo) => {
      const fake = await startProcess(
        process.execPath,
        [path.join(ROOT, "end2end/fakes/sms_gateway.mjs")],
        { ...process.env, PORT: "0", DELAY_MS: String(delayMs) },
        "fake sms gateway",
      );
      await use({ url: fake.url });
      await stop(fake, "sms-gateway", testInfo);
    },
    server: async ({ gateway }, use, testInfo) => {
      const dir = mkdtempSync(path.join(tmpdir(), "iapd-e2e-"));
      const server = await startServer(dir, {
        SMS_GATEWAY_URL: `${gateway.url}/sms`,
        SMS_CONCURRENCY: "1",
      });
      await use({ url: server.url });
      await stop(server, "server", testInfo);
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** One request a webhook receiver got. */
export type Received = { headers: Record<string, string | string[] | undefined>; body: string };

/**
 * iapd posting webhooks to a receiver on loopback (a customer's endpoint, here a plain
 * HTTP server in the test process that records what it gets and answers 200), with private
 * targets allowed and retries a second apart.
 */
export const webhookTest = test.extend<{
  receiver: { url: string; received: Received[] };
  server: { url: string };
}>({
  receiver: async ({}, use) => {
    const received: Received[] = [];
    const server = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await use({ url: `http://127.0.0.1:${port}/hook`, received });
    await new Promise((resolve) => server.close(resolve));
  },
  server: async ({}, use, testInfo) => {
    const dir = mkdtempSync(path.join(tmpdir(), "iapd-e2e-"));
    const server = await startServer(dir, {
      WEBHOOK_ALLOW_PRIVATE: "1",
      WEBHOOK_RETRY_SECONDS: "1",
    });
    await use({ url: server.url });
    await stop(server, "server", testInfo);
    rmSync(dir, { recursive: true, force: true });
  },
});

/** iapd with no payment provider configured: nothing can be bought. */
export const unsoldTest = test.extend<{ server: { url: string } }>({
  server: async ({}, use, testInfo) => {
    const dir = mkdtempSync(path.join(tmpdir(), "iapd-e2e-"));
    const server = await startServer(dir, { PAYMENT_PROVIDER: null });
    await use({ url: server.url });
    await stop(server, "server", testInfo);
    rmSync(dir, { recursive: true, force: true });
  },
});

/**
 * Presses Tab until `target` has the focus, as a keyboard user would reach it, and checks
 * that the focus is visible there; fails when Tab never gets there.
 */
export async function tabTo(page: Page, target: import("@playwright/test").Locator, limit = 60) {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) {
      const outline = await target.evaluate((el) => {
        const style = getComputedStyle(el);
        return style.outlineStyle !== "none" || style.boxShadow !== "none";
      });
      expect(outline, "the focus is visible").toBe(true);
      return;
    }
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}
