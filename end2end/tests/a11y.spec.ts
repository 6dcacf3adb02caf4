// Every page passes axe-core at WCAG 2.1 AA, in every language, with and without developer
// mode. A violation fails the run and names the rule, the page and the elements.
import { test, expect, hydrated } from "./fixtures";
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";

const LANGUAGES = ["en-US", "fr-FR", "zh-CN"];

const PAGES = [
  "/",
  "/contacts",
  "/contacts/new",
  "/contacts/1",
  "/iap-accounts",
  "/iap-accounts/1",
  "/iap-accounts/1/buy",
  "/settings",
  "/settings/users",
  "/settings/users/new",
  "/settings/users/2",
  "/settings/orders",
  "/settings/webhooks",
];

const TECHNICAL = [
  "/settings/technical/iap-services",
  "/settings/technical/iap-accounts",
  "/settings/technical/iap-accounts/1",
  "/settings/technical/emails",
  "/settings/technical/sms",
  "/settings/technical/database",
];

async function violations(page: Page, path: string): Promise<string[]> {
  await page.goto(path);
  await hydrated(page);
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return result.violations.map(
    (v) => `${path}: ${v.id} (${v.impact}) on ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
}

for (const locale of LANGUAGES) {
  test.describe(`in ${locale}`, () => {
    test.use({ locale });

    test("every page has no axe violation, with and without developer mode", async ({ page }) => {
      test.setTimeout(120_000);
      const found: string[] = [];
      found.push(...(await violations(page, "/login")));
      await page.locator("#login").fill("admin");
      await page.locator("#password").fill("admin");
      await page.locator("form.o-login-form button[type=submit]").click();
      await page.waitForURL((url) => url.pathname === "/");
      for (const path of PAGES) found.push(...(await violations(page, path)));
      // An order, for the order and checkout pages.
      await page.goto("/iap-accounts/1/buy");
      await hydrated(page);
      await page.locator(".o-pack button, .o-pack a").first().click();
      await page.waitForURL(/\/orders\/\d+/);
      const order = new URL(page.url()).pathname.match(/\/orders\/\d+/)![0];
      found.push(...(await violations(page, order)));
      found.push(...(await violations(page, `${order}/checkout`)));
      await page.goto("/?debug=1");
      await hydrated(page);
      for (const path of [...PAGES.slice(0, 2), "/settings", ...TECHNICAL]) {
        found.push(...(await violations(page, path)));
      }
      // The Send SMS Text Message dialog.
      await page.goto("/contacts");
      await hydrated(page);
      await page.getByRole("link", { name: "Marc Demo" }).click();
      await page.locator("button:has-text('📱')").first().click();
      await page.getByRole("dialog").waitFor();
      const dialog = await new AxeBuilder({ page })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      found.push(...dialog.violations.map((v) => `SMS dialog: ${v.id} on ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`));
      // A webhook's page (a public address, never posted to here), and the bell opened.
      await page.goto("/settings/webhooks");
      await hydrated(page);
      await page.locator("#url").fill("https://93.184.216.34/hook");
      await page.locator("form.o-webhook-form button[type=submit]").click();
      await page.waitForURL(/\/settings\/webhooks\/\d+$/);
      found.push(...(await violations(page, new URL(page.url()).pathname)));
      await page.getByTestId("bell").click();
      await page.locator(".o-bell-menu").waitFor();
      const bell = await new AxeBuilder({ page })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      found.push(...bell.violations.map((v) => `bell: ${v.id} on ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`));
      expect(found).toEqual([]);
    });
  });
}
