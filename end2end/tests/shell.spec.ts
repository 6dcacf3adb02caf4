import { test, expect, login, hydrated } from "./fixtures";

test("a bad login shows the error and stays on the login page", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=\/$/);
  await hydrated(page);
  await page.getByLabel("Login").fill("admin");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong login or password.");
  await expect(page).toHaveURL(/\/login/);
});

test("the administrator switches company from the top bar", async ({ page }) => {
  await login(page, "admin", "admin");
  const switcher = page.getByRole("button", { name: "Switch company" });
  await expect(switcher).toHaveText("My Company (San Francisco)");
  await switcher.click();
  await page.getByRole("menuitem", { name: "My Company (Chicago)" }).click();
  await expect(switcher).toHaveText("My Company (Chicago)");
  await page.reload();
  await expect(page.getByRole("button", { name: "Switch company" })).toHaveText("My Company (Chicago)");
});

test("logging out ends the session", async ({ page }) => {
  await login(page, "demo", "demo");
  await page.getByRole("button", { name: "User menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(/\/login$/);
  await page.goto("/contacts");
  await expect(page).toHaveURL(/\/login\?next=\/contacts$/);
});

test("the demo user sees no Settings, and the server refuses it", async ({ page }) => {
  await login(page, "demo", "demo");
  await expect(page.getByRole("link", { name: "Contacts" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Settings" })).toHaveCount(0);
  await page.getByRole("button", { name: "Apps" }).click();
  await expect(page.getByRole("navigation", { name: "Apps" }).getByRole("link")).toHaveText(["Contacts", "In-App Purchases"]);
  const response = await page.goto("/settings");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Access denied" })).toBeVisible();
});

test("the administrator turns on developer mode and sees the Technical menu", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("button", { name: "Technical" })).toHaveCount(0);
  await page.getByRole("link", { name: "Activate the developer mode" }).click();
  await hydrated(page);
  await page.getByRole("button", { name: "Technical" }).click();
  await page.getByRole("link", { name: "Database Information" }).click();
  await expect(page.getByText("Enterprise")).toBeVisible();
});
