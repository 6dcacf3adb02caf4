import { test, expect, login, logout, hydrated } from "./fixtures";

test("Settings → IAP → View My Services lists SMS with its trial credits and its history", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("searchbox", { name: "Search..." }).fill("IAP");
  await expect(page.getByText("Developer Tools")).toHaveCount(0);
  await expect(page.getByText("View your IAP Services and recharge your credits")).toBeVisible();
  await page.getByRole("link", { name: "View My Services" }).click();

  await expect(page.getByRole("heading", { name: "IAP Account" })).toBeVisible();
  const sms = page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) });
  await expect(sms).toContainText("10 Credits");
  await sms.getByRole("link", { name: "SMS", exact: true }).click();

  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();
  await expect(page.getByTestId("balance")).toHaveText("10 Credits");
  await expect(page.getByRole("link", { name: "Buy Credit" })).toHaveAttribute("target", "_blank");
  const history = page.getByRole("table");
  await expect(history).toContainText("Free trial credits");
  await expect(history).toContainText("+10");
});

test("an account restricted to Chicago disappears for the San Francisco demo user", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/settings?debug=1");
  await hydrated(page);
  await page.getByRole("button", { name: "Technical" }).click();
  await page.getByRole("link", { name: "IAP Accounts" }).click();
  await expect(page.getByRole("heading", { name: "IAP Accounts" })).toBeVisible();
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  await page.getByRole("checkbox", { name: "My Company (Chicago)" }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Account saved.");
  await page.goto("/settings/technical/iap-accounts");
  // By its link, not its text: a random token may contain the letters "SMS".
  const smsRow = page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) });
  await expect(smsRow).toContainText("My Company (Chicago)");

  await logout(page);
  await login(page, "demo", "demo");
  await page.getByRole("link", { name: "In-App Purchases" }).click();
  await expect(page.getByRole("link", { name: "Snailmail" })).toBeVisible();
  await expect(page.getByRole("link", { name: "SMS", exact: true })).toHaveCount(0);
});

test("appending +disabled to the token disables the account, removing it re-enables it", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/settings/technical/iap-accounts?debug=1");
  await hydrated(page);
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  const token = page.getByLabel("Token");
  const original = await token.inputValue();
  await token.fill(`${original}+disabled`);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Account saved.");

  await page.goto("/iap-accounts");
  const sms = page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) });
  await expect(sms).toContainText("Disabled");
  await expect(sms).toContainText("10 Credits");

  await page.goBack();
  await hydrated(page);
  await page.getByLabel("Token").fill(original);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Account saved.");
  await page.goto("/iap-accounts");
  await expect(
    page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) }),
  ).not.toContainText("Disabled");
});

test("an administrator adjusts credits with a reason, and a missing reason is refused", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/settings/technical/iap-accounts?debug=1");
  await hydrated(page);
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  await page.getByLabel("Amount").fill("5");
  await page.getByRole("button", { name: "Apply adjustment" }).click();
  await expect(page.getByRole("alert")).toHaveText("Give a reason for the adjustment.");
  await page.getByLabel("Reason").fill("Goodwill after an outage");
  await page.getByRole("button", { name: "Apply adjustment" }).click();
  await expect(page.getByRole("status")).toHaveText("Adjustment applied.");
  await expect(page.getByTestId("balance")).toHaveText("15 Credits");
});

test("a click on a row's balance cell, or Enter on a focused row, opens that account", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/iap-accounts");
  await hydrated(page);
  const sms = page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) });
  await sms.locator("td.o-num").click();
  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();
  await expect(page).toHaveURL(/\/iap-accounts\/\d+$/);

  await page.goto("/iap-accounts");
  await hydrated(page);
  const snailmail = page.getByRole("row").filter({ has: page.getByRole("link", { name: "Snailmail", exact: true }) });
  await snailmail.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();
  await expect(page.getByTestId("balance")).toBeVisible();
});
