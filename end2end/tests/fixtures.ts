// A fresh iapd per test: the release server on a free port with a new demo database.
import { test as base, expect, type Page } from "@playwright/test";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

async function startServer(dbDir: string) {
  const proc = spawn(path.join(ROOT, "target/release/server"), ["--demo"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dbDir}/iapd.sqlite`,
      LEPTOS_SITE_ADDR: "127.0.0.1:0",
      LEPTOS_SITE_ROOT: path.join(ROOT, "target/site"),
      RUST_LOG: "info,sqlx=warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`iapd did not start:\n${log}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const match = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`iapd exited with ${code}:\n${log}`));
    });
  });
  return { proc, url, log: () => log };
}

export const test = base.extend<{ server: { url: string } }>({
  server: async ({}, use, testInfo) => {
    const dir = mkdtempSync(path.join(tmpdir(), "iapd-e2e-"));
    const server = await startServer(dir);
    await use({ url: server.url });
    const exited = new Promise((resolve) => server.proc.once("exit", resolve));
    server.proc.kill("SIGTERM");
    await exited;
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("server.log", { body: server.log(), contentType: "text/plain" });
    }
    rmSync(dir, { recursive: true, force: true });
  },
  baseURL: async ({ server }, use) => {
    await use(server.url);
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

/** Signs out through the user menu. */
export async function logout(page: Page) {
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(/\/login$/);
}
