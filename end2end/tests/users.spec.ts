import { test, expect, login, logout, hydrated } from "./fixtures";

const PASSWORD = "violet ferry 42 pebbles";
const NEW_PASSWORD = "amber harbour 17 kites";

test("an administrator creates a user, who logs in and changes their password", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "Mitchell Admin" })).toContainText("Administrator");
  await page.getByRole("link", { name: "New" }).click();
  await expect(page.getByRole("navigation", { name: "Breadcrumb" })).toContainText("New User");

  // The password policy speaks next to the field, and nobody is created.
  await page.getByLabel("Name", { exact: true }).fill("Jane Doe");
  await page.getByLabel("Login").fill("jdoe");
  await page.getByLabel("Password").fill("jdoe12345");
  await page.getByLabel("My Company (Chicago)").check();
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("Use at least 10 characters")).toBeVisible();
  await page.getByLabel("Password").fill("password123");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText("This password is among the most common ones")).toBeVisible();

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create user" }).click();
  await page.waitForURL(/\/settings\/users\/\d+\?created=1$/);
  await expect(page.getByRole("status")).toHaveText("User created. They can log in now.");
  await expect(page.getByTestId("login")).toHaveText("jdoe");
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Users" }).click();
  const jane = page.getByRole("row").filter({ hasText: "Jane Doe" });
  await expect(jane).toContainText("jdoe");
  await expect(jane).toContainText("My Company (Chicago)");
  await expect(jane).toContainText("Never");
  await expect(jane).toContainText("Active");
  await logout(page);

  await login(page, "jdoe", PASSWORD);
  await expect(page.getByRole("button", { name: "Switch company" })).toHaveText("My Company (Chicago)");
  await expect(page.getByRole("link", { name: "Settings" })).toHaveCount(0);
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Change password" }).click();
  const dialog = page.getByRole("dialog", { name: "Change password" });
  await dialog.getByLabel("Current password").fill("not my password");
  await dialog.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await dialog.getByLabel("Confirm new password").fill(NEW_PASSWORD);
  await dialog.getByRole("button", { name: "Change password" }).click();
  await expect(dialog.getByText("The current password is wrong.")).toBeVisible();
  await dialog.getByLabel("Current password").fill(PASSWORD);
  await dialog.getByRole("button", { name: "Change password" }).click();
  await expect(dialog.getByRole("status")).toHaveText("Password changed. Your other sessions were logged out.");
  await dialog.getByRole("button", { name: "Close", exact: true }).first().click();
  await expect(dialog).toHaveCount(0);

  // This session stayed open; the new password is the one that works now.
  await page.reload();
  await hydrated(page);
  await logout(page);
  await hydrated(page);
  await page.getByLabel("Login").fill("jdoe");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong login or password.");
  await login(page, "jdoe", NEW_PASSWORD);
});

test("a deactivated user is logged out: their next navigation lands on the login page", async ({ page, browser, baseURL }) => {
  const demoContext = await browser.newContext({ baseURL });
  const demo = await demoContext.newPage();
  await login(demo, "demo", "demo");

  await login(page, "admin", "admin");
  await page.goto("/settings/users");
  await hydrated(page);
  await page.getByRole("link", { name: "Marc Demo" }).click();
  await expect(page.getByTestId("login")).toHaveText("demo");
  await page.getByLabel("Active", { exact: true }).uncheck();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText("User saved.");
  await expect(page.getByLabel("Active", { exact: true })).not.toBeChecked();

  // A link followed inside the app, without a page load, still ends on the login page.
  await demo.getByRole("link", { name: "Contacts" }).click();
  await demo.waitForURL(/\/login\?next=\/contacts$/);
  await demo.goto("/iap-accounts");
  await expect(demo).toHaveURL(/\/login\?next=\/iap-accounts$/);
  await hydrated(demo);
  await demo.getByLabel("Login").fill("demo");
  await demo.getByLabel("Password").fill("demo");
  await demo.getByRole("button", { name: "Log in" }).click();
  await expect(demo.getByRole("alert")).toHaveText("Wrong login or password.");
  await demoContext.close();

  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("row").filter({ hasText: "Marc Demo" })).toContainText("Inactive");
});

test("an administrator is told why they cannot deactivate or demote themselves", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/settings/users");
  await hydrated(page);
  await page.getByRole("link", { name: "Mitchell Admin" }).click();
  await expect(page.getByTestId("login")).toHaveText("admin");
  await page.getByLabel("Active", { exact: true }).uncheck();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("You cannot deactivate yourself; ask another administrator.")).toBeVisible();
  await page.getByLabel("Active", { exact: true }).check();
  await page.getByLabel("User", { exact: true }).check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("You cannot remove your own administrator role")).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Administrator", { exact: true })).toBeChecked();
  await expect(page.getByLabel("Active", { exact: true })).toBeChecked();
});

test("an administrator sets a user's language: their pages follow it whatever their browser says", async ({ page, browser, baseURL }) => {
  await login(page, "admin", "admin");
  await page.goto("/settings/users");
  await hydrated(page);
  await page.getByRole("link", { name: "Marc Demo" }).click();
  await expect(page.getByTestId("login")).toHaveText("demo");
  const language = page.getByLabel("Language", { exact: true });
  await expect(language).toHaveValue("");
  await language.selectOption({ label: "Français" });
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText("User saved.");
  await page.reload();
  await expect(page.getByLabel("Language", { exact: true })).toHaveValue("fr");

  // Marc's browser asks for English; his pages are in French.
  const demoContext = await browser.newContext({ baseURL, locale: "en-US" });
  const demo = await demoContext.newPage();
  await login(demo, "demo", "demo");
  await demo.goto("/iap-accounts");
  await expect(demo.locator("html")).toHaveAttribute("lang", "fr");
  await expect(demo.getByRole("heading", { level: 1 })).toHaveText("Compte IAP");
  await demoContext.close();
});
