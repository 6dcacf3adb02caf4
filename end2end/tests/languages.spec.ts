// iapd in its readers' languages: chosen from the browser, the switcher or the user menu,
// and nothing of the seed's flow left in English.
import { test, expect, hydrated } from "./fixtures";
import type { Page } from "@playwright/test";

async function signIn(page: Page, user: string, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.locator("#login").fill(user);
  await page.locator("#password").fill(password);
  await page.locator("form.o-login-form button[type=submit]").click();
  await page.waitForURL((url) => url.pathname === "/");
  await hydrated(page);
}

/** The English labels of the seed's flow: none may be left on a translated page. */
const ENGLISH = [
  "View My Services",
  "Buy Credit",
  "Account Information",
  "Warn Me",
  "Threshold",
  "Warning Email",
  "Settings",
  "Log out",
  "Credits",
];

async function noEnglishLeft(page: Page) {
  const text = await page.locator("body").innerText();
  for (const label of ENGLISH) expect(text, `"${label}" is still in English`).not.toContain(label);
}

test.describe("in French from the browser", () => {
  test.use({ locale: "fr-FR" });

  test("the login page follows Accept-Language, and the switcher changes it", async ({ page }) => {
    await page.goto("/login");
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "fr");
    await expect(page.getByRole("button", { name: "Se connecter" })).toBeVisible();
    await page.getByRole("button", { name: "简体中文" }).click();
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await hydrated(page);
    await expect(page.getByRole("button", { name: "登录" })).toBeVisible();
    await expect(page.getByRole("button", { name: "简体中文" })).toHaveAttribute("aria-pressed", "true");
  });

  test("View My Services → Account Information → Buy Credit, in French", async ({ page }) => {
    await signIn(page, "admin", "admin");
    await page.goto("/settings");
    await hydrated(page);
    await page.getByRole("link", { name: "Voir mes services" }).click();
    await expect(page.getByRole("heading", { name: "Compte IAP" })).toBeVisible();
    const sms = page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) });
    await expect(sms).toContainText("10 crédits");
    await sms.getByRole("link", { name: "SMS", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Informations du compte" })).toBeVisible();
    await expect(page.getByText("M'avertir")).toBeVisible();
    await noEnglishLeft(page);
  });
});

test.describe("in Chinese from the user menu", () => {
  test("the user chooses 简体中文 and the seed's labels follow the Chinese seed", async ({ page }) => {
    await signIn(page, "admin", "admin");
    await page.getByRole("button", { name: "User menu" }).click();
    await page.getByRole("button", { name: "简体中文" }).click();
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await hydrated(page);
    await page.goto("/settings");
    await hydrated(page);
    await expect(page.getByRole("link", { name: "查看我的服务" })).toBeVisible();
    await page.getByRole("link", { name: "查看我的服务" }).click();
    await expect(page.getByRole("link", { name: "短信", exact: true })).toBeVisible();
    await expect(page.getByRole("link", { name: "蜗牛邮件" })).toBeVisible();
    await page.getByRole("link", { name: "短信", exact: true }).click();
    await expect(page.getByRole("heading", { name: "账户信息" })).toBeVisible();
    // Warn Me's terms (the Alerts section below speaks of thresholds too).
    const warnMe = page.getByRole("region", { name: "点数偏低警报" });
    await expect(warnMe.getByText("门槛值")).toBeVisible();
    await expect(warnMe.getByText("警告电邮")).toBeVisible();
    await noEnglishLeft(page);
    await page.goto(page.url() + "/buy");
    await hydrated(page);
    for (const pack of ["入门套餐", "标准套餐", "高级套餐", "专家套餐"]) {
      await expect(page.getByRole("heading", { name: pack })).toBeVisible();
    }
    await noEnglishLeft(page);

    // The choice is the user's: a new browser without the cookie still gets Chinese.
    const other = await page.context().browser()!.newContext({ locale: "en-US" });
    const second = await other.newPage();
    await second.goto(page.url().replace(/\/iap-accounts.*/, "/login"));
    await hydrated(second);
    await second.locator("#login").fill("admin");
    await second.locator("#password").fill("admin");
    await second.locator("form.o-login-form button[type=submit]").click();
    await second.waitForURL((url) => url.pathname === "/");
    await expect(second.locator("html")).toHaveAttribute("lang", "zh-CN");
    await other.close();
  });
});
