import { createHmac } from "node:crypto";
import { test, expect, login, hydrated, webhookTest, openSms, sendOneSms, type Page } from "./fixtures";

async function addThreshold(page: Page, below: string, emails: string, channels: { bell: boolean; webhooks: boolean }) {
  const alerts = page.getByRole("region", { name: "Alerts" });
  await alerts.getByLabel("Alert Below").fill(below);
  await alerts.getByLabel("Emails").fill(emails);
  await alerts.getByLabel("Notification").setChecked(channels.bell);
  await alerts.getByLabel("Webhooks").setChecked(channels.webhooks);
  await alerts.getByRole("button", { name: "Add Threshold" }).click();
  await expect(alerts.getByTestId("alert-thresholds")).toContainText(`${below} Credits`);
}

test("set two thresholds, cross both with one SMS: the bell counts them until opened and the mail goes out", async ({ page }) => {
  await login(page, "admin", "admin");
  await openSms(page);
  await expect(page.getByTestId("balance")).toHaveText("10 Credits");
  const alerts = page.getByRole("region", { name: "Alerts" });
  await expect(alerts).toContainText("No further thresholds.");

  // Nobody to tell is refused, next to the field.
  await alerts.getByLabel("Alert Below").fill("9.95");
  await alerts.getByLabel("Notification").uncheck();
  await alerts.getByRole("button", { name: "Add Threshold" }).click();
  await expect(alerts.getByRole("alert").last()).toHaveText("Give an email address, or choose Notification or Webhooks.");

  await addThreshold(page, "9.95", "", { bell: true, webhooks: false });
  await addThreshold(page, "9.9", "ops@example.com", { bell: true, webhooks: false });
  const rows = alerts.getByTestId("alert-thresholds").locator("tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText("ops@example.com");
  await expect(rows.nth(1)).toContainText("Email, Notification");
  await expect(page.getByTestId("bell-count")).toHaveCount(0);

  // One SMS takes the account from 10 to 9.88: below both.
  await sendOneSms(page);
  await page.reload();
  await hydrated(page);
  const bell = page.getByTestId("bell");
  await expect(page.getByTestId("bell-count")).toHaveText("2");
  await expect(bell).toHaveAccessibleName("Notifications, 2 unread");
  await bell.click();
  const items = page.locator(".o-bell-item");
  await expect(items).toHaveCount(2);
  await expect(items.nth(0)).toContainText("SMS: 9.88 Credits left, below 9.9 Credits.");
  await expect(items.nth(1)).toContainText("SMS: 9.88 Credits left, below 9.95 Credits.");
  await expect(page.locator(".o-bell-item.o-unread")).toHaveCount(2);
  // Opened, they are read: the count is gone, and stays gone.
  await expect(page.getByTestId("bell-count")).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("bell")).toHaveAccessibleName("Notifications");
  await page.getByTestId("bell").click();
  await expect(page.locator(".o-bell-item.o-unread")).toHaveCount(0);
  // An item leads to its account.
  await items.first().getByRole("link").click();
  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();

  // The second threshold's recipients got their mail.
  await page.goto("/settings/technical/emails?debug=1");
  await hydrated(page);
  const mails = page.getByTestId("mail");
  await expect(mails).toHaveCount(1);
  await expect(mails.first()).toContainText("ops@example.com");

  // A user who may see the account sees the same alerts on their bell, unread for them.
  await page.context().clearCookies();
  await login(page, "demo", "demo");
  await expect(page.getByTestId("bell-count")).toHaveText("2");
});

webhookTest("a webhook gets a signed test event and the crossing of a threshold, and logs each delivery", async ({ page, receiver }) => {
  await login(page, "admin", "admin");
  await page.goto("/settings");
  await hydrated(page);
  await page.getByRole("link", { name: "Webhooks" }).click();
  await expect(page.getByRole("heading", { name: "Webhooks" })).toBeVisible();
  await hydrated(page);
  await expect(page.getByText("No webhook yet.")).toBeVisible();
  await page.getByLabel("URL").fill("ftp://example.com/hook");
  await page.getByRole("button", { name: "Add Webhook" }).click();
  await expect(page.getByRole("alert").last()).toContainText("Enter an http:// or https:// URL");
  await page.getByLabel("URL").fill(receiver.url);
  await page.getByRole("button", { name: "Add Webhook" }).click();
  await page.waitForURL(/\/settings\/webhooks\/\d+$/);
  const webhookPage = page.url();
  await expect(page.getByRole("heading", { name: receiver.url })).toBeVisible();
  const secret = (await page.getByTestId("webhook-secret").textContent()) ?? "";
  expect(secret).toMatch(/^whsec_/);
  await expect(page.getByText("Nothing sent yet.")).toBeVisible();

  await page.getByRole("button", { name: "Send Test Event" }).click();
  await expect(page.getByRole("status")).toHaveText("Test event queued; it shows in the deliveries below.");
  const log = page.getByTestId("deliveries").locator("tbody tr");
  await expect(log.first()).toContainText("webhook.test");
  await expect(log.first()).toContainText("Delivered");
  await expect(log.first()).toContainText("200");
  expect(receiver.received).toHaveLength(1);
  const { headers, body } = receiver.received[0];
  const signature = String(headers["iapd-signature"]);
  const [, t, v1] = signature.match(/^t=(\d+),v1=([0-9a-f]{64})$/) ?? [];
  expect(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")).toBe(v1);
  expect(JSON.parse(body).type).toBe("webhook.test");

  // A threshold with the Webhooks channel, set above the balance, fires at once.
  await openSms(page);
  await addThreshold(page, "50", "", { bell: false, webhooks: true });
  await expect.poll(() => receiver.received.length).toBe(2);
  const event = JSON.parse(receiver.received[1].body);
  expect(event.type).toBe("credits.below_threshold");
  expect(event.data.account.service).toBe("sms");
  expect(event.data.available).toBe("10");
  expect(event.data.threshold).toBe("50");
  await page.goto(webhookPage);
  await hydrated(page);
  await expect(log).toHaveCount(2);
  await expect(log.first()).toContainText("credits.below_threshold");
  await expect(log.first()).toContainText("Delivered");

  // Paused, it gets nothing new; its list shows it paused.
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByRole("button", { name: "Resume" })).toBeVisible();
  await page.goto("/settings/webhooks");
  await expect(page.getByRole("row").filter({ hasText: receiver.url })).toContainText("Paused");
});
