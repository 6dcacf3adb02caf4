import { test, expect, login, logout, hydrated, openSms, type Page } from "./fixtures";

/** Developer mode → Settings → Technical → Emails: the outbox rows, newest first. */
async function openEmails(page: Page) {
  await page.goto("/settings?debug=1");
  await hydrated(page);
  await page.getByRole("button", { name: "Technical" }).click();
  await page.getByRole("link", { name: "Emails" }).click();
  await expect(page.getByRole("heading", { name: "Emails" })).toBeVisible();
  return page.getByTestId("mail");
}

test("Warn Me warns at once below the threshold, and at most once an hour", async ({ page }) => {
  await login(page, "admin", "admin");
  await openSms(page);
  await expect(page.getByTestId("balance")).toHaveText("10 Credits");

  // Ticking Warn Me reveals Threshold and Warning Email.
  await expect(page.getByLabel("Threshold")).toHaveCount(0);
  await page.getByLabel("Warn Me").check();
  await expect(page.getByLabel("Threshold")).toBeVisible();
  await expect(page.getByLabel("Warning Email")).toBeVisible();
  await expect(page.getByText("balance minus the credits reserved by pending operations").first()).toBeVisible();

  // One bad address refuses the list, next to the field.
  await page.getByLabel("Threshold").fill("20");
  await page.getByLabel("Warning Email").fill("ops@example.com, nope");
  await page.getByRole("region", { name: "Low-credit warning" }).getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toHaveText("“nope” is not a valid email address.");

  // A threshold above the balance: the warning is queued at once.
  await page.getByLabel("Warning Email").fill("ops@example.com");
  await page.getByRole("region", { name: "Low-credit warning" }).getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Warning settings saved.");
  await openSms(page);
  await expect(page.getByLabel("Warn Me")).toBeChecked();
  await expect(page.getByLabel("Threshold")).toHaveValue("20");
  await expect(page.getByLabel("Warning Email")).toHaveValue("ops@example.com");
  const storeHref = (await page.getByRole("link", { name: "Buy Credit" }).getAttribute("href")) ?? "";

  let mails = await openEmails(page);
  await expect(mails).toHaveCount(1);
  await expect(mails.first()).toContainText("ops@example.com");
  await expect(mails.first()).toContainText("Low credits: SMS has 10 credits left");
  await expect(mails.first()).toContainText("Queued");
  await mails.first().getByText("Body").click();
  await expect(mails.first()).toContainText(storeHref);

  // Buying the Standard Pack takes the account back above the threshold: no mail.
  await page.goto(storeHref);
  await hydrated(page);
  await page.getByRole("article", { name: "Standard Pack" }).getByRole("button", { name: "Buy" }).click();
  await page.getByLabel("Cardholder").fill("Mitchell Admin");
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/34");
  await page.getByLabel("CVC").fill("123");
  await page.getByRole("button", { name: "Pay €90.00" }).click();
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible();
  await expect(page.getByTestId("balance")).toHaveText("110 Credits");
  mails = await openEmails(page);
  await expect(mails).toHaveCount(1);

  // Falling below it again within the hour sends no second mail: one per account per hour,
  // however the balance moves or Warn Me is toggled (the ledger tests cover the hour after).
  await page.goto("/settings/technical/iap-accounts?debug=1");
  await hydrated(page);
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  await page.getByLabel("Amount").fill("-95");
  await page.getByLabel("Reason").fill("Spring campaign sent from the old gateway");
  await page.getByRole("button", { name: "Apply adjustment" }).click();
  await expect(page.getByRole("status")).toHaveText("Adjustment applied.");
  await expect(page.getByTestId("balance")).toHaveText("15 Credits");
  mails = await openEmails(page);
  await expect(mails).toHaveCount(1);
  await expect(mails.first()).toContainText("ops@example.com");
});

test("unticking Warn Me keeps the values, and users who are not administrators only read them", async ({ page }) => {
  await login(page, "admin", "admin");
  await openSms(page);
  await page.getByLabel("Warn Me").check();
  await page.getByLabel("Threshold").fill("0");
  await page.getByLabel("Warning Email").fill("ops@example.com");
  await page.getByRole("region", { name: "Low-credit warning" }).getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toHaveText("The amount must be positive.");
  await page.getByLabel("Threshold").fill("5");
  await page.getByRole("region", { name: "Low-credit warning" }).getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Warning settings saved.");

  await logout(page);
  await login(page, "demo", "demo");
  await openSms(page);
  await expect(page.getByLabel("Warn Me")).toHaveCount(0);
  await expect(page.getByTestId("threshold")).toHaveText("5 Credits");
  await expect(page.getByTestId("warning-email")).toHaveText("ops@example.com");
  await expect(page.getByText("Only administrators can change the warning.")).toBeVisible();

  await logout(page);
  await login(page, "admin", "admin");
  await openSms(page);
  await page.getByLabel("Warn Me").uncheck();
  await expect(page.getByLabel("Threshold")).toHaveCount(0);
  await page.getByRole("region", { name: "Low-credit warning" }).getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Warning settings saved.");
  // Opened afresh, the account shows what was stored.
  await openSms(page);
  await expect(page.getByLabel("Warn Me")).not.toBeChecked();
  await page.getByLabel("Warn Me").check();
  await expect(page.getByLabel("Threshold")).toHaveValue("5");
  await expect(page.getByLabel("Warning Email")).toHaveValue("ops@example.com");
  const mails = await openEmails(page);
  await expect(page.getByText("No emails have been queued yet.")).toBeVisible();
  await expect(mails).toHaveCount(0);
});
