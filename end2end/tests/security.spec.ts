// What a hostile link or page cannot do, checked in the browser that parses the URLs.
import { test, expect, hydrated } from "./fixtures";

// Each of these is a path to a browser only after it strips tabs and newlines, or reads a
// backslash as a slash; each must leave the user on iapd after logging in.
const HOSTILE_NEXT = [
  "/%09/evil.example/",
  "//evil.example/",
  "/%5Cevil.example/",
  "https://evil.example/",
  "/%0A/evil.example/",
  "%2F%2Fevil.example",
];

for (const next of HOSTILE_NEXT) {
  test(`logging in from /login?next=${next} stays on iapd`, async ({ page, server }) => {
    await page.goto(`/login?next=${next}`);
    await hydrated(page);
    await page.getByLabel("Login").fill("demo");
    await page.getByLabel("Password").fill("demo");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL((url) => url.pathname === "/" || url.host !== new URL(server.url).host);
    expect(new URL(page.url()).host).toBe(new URL(server.url).host);
    await expect(page.getByRole("button", { name: "User menu" })).toBeVisible();
  });
}

test("a same-site next page is still honoured", async ({ page }) => {
  await page.goto("/login?next=/contacts");
  await hydrated(page);
  await page.getByLabel("Login").fill("demo");
  await page.getByLabel("Password").fill("demo");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => url.pathname === "/contacts");
});

test("no page breaks its Content Security Policy", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`Refused to load: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.goto("/login?debug=1");
  await hydrated(page);
  await page.getByLabel("Login").fill("admin");
  await page.getByLabel("Password").fill("admin");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  for (const path of [
    "/?debug=1",
    "/iap-accounts",
    "/iap-accounts/1",
    "/iap-accounts/1/buy",
    "/contacts",
    "/contacts/1",
    "/settings",
    "/settings/users",
    "/settings/technical/iap-services",
  ]) {
    await page.goto(path);
    await hydrated(page);
  }
  // Moving between pages without a load runs the client-side code paths too.
  await page.goto("/iap-accounts");
  await hydrated(page);
  await page.getByRole("link", { name: /SMS/ }).first().click();
  await page.waitForURL(/\/iap-accounts\/\d+$/);
  expect(violations).toEqual([]);
});

test("another company's record is a 404 page, not its data", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Login").fill("demo");
  await page.getByLabel("Password").fill("demo");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  const response = await page.goto("/orders/987654");
  expect(response?.status()).toBe(404);
  await hydrated(page);
  await expect(page.getByRole("alert")).toBeVisible();
});
