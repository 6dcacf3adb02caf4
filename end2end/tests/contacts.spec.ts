import { test, expect, login, hydrated } from "./fixtures";

test("an administrator creates a contact, edits it, and finds it after a reload", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.getByRole("link", { name: "Contacts" }).click();
  await expect(page.getByRole("heading", { name: "Contacts" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Deco Addict" })).toBeVisible();

  await page.getByRole("link", { name: "New" }).click();
  await page.getByLabel("Name").fill("Grace Hopper");
  await page.getByLabel("Email").fill("grace@example.com");
  await page.getByLabel("Mobile").fill("+1 415 555 0199");
  await page.getByLabel("Country").selectOption({ label: "United States" });
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/contacts\/\d+$/);
  await expect(page.getByRole("complementary", { name: "Chatter" })).toContainText("Contact created");

  await page.getByLabel("Phone").fill("+1 212 555 0142");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Contact saved.");
  await expect(page.getByRole("complementary", { name: "Chatter" })).toContainText(
    "Phone changed from “” to “+1 212 555 0142”",
  );

  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Name")).toHaveValue("Grace Hopper");
  await expect(page.getByLabel("Phone")).toHaveValue("+1 212 555 0142");
  await expect(page.getByLabel("Country")).toHaveValue("US");

  await page.getByRole("link", { name: "Contacts" }).first().click();
  await page.getByRole("searchbox", { name: "Search..." }).fill("grace");
  await expect(page.getByRole("link", { name: "Grace Hopper" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Deco Addict" })).toHaveCount(0);
});

test("an invalid email is refused next to its field and nothing is created", async ({ page }) => {
  await login(page, "demo", "demo");
  await page.goto("/contacts/new");
  await hydrated(page);
  await page.getByLabel("Name").fill("Broken");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toHaveText("Enter an email address such as name@example.com.");
  await expect(page).toHaveURL(/\/contacts\/new$/);
});
