import { test, expect, login, hydrated, slowGatewayTest, type Page } from "./fixtures";

/** Settings → View My Services: the SMS row's balance. */
async function smsBalance(page: Page) {
  await page.goto("/settings");
  await hydrated(page);
  await page.getByRole("link", { name: "View My Services" }).click();
  return page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) });
}

test("Contacts → a Belgian contact → 📱 SMS counts parts live, queues, follows the send, logs in the chatter and charges the SMS account", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.getByRole("link", { name: "Contacts" }).first().click();
  await page.getByRole("link", { name: "Marc Demo" }).click();
  await expect(page.getByLabel("Mobile")).toHaveValue("+32 470 12 34 56");
  // Marc has a mobile and no phone: one 📱 SMS icon, beside the Mobile field.
  await expect(page.getByRole("button", { name: "📱 SMS" })).toHaveCount(1);
  await page.getByRole("button", { name: "📱 SMS" }).click();

  const dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
  await expect(dialog).toContainText("Marc Demo");
  await expect(dialog).toContainText("+32 470 12 34 56");
  const message = dialog.getByLabel("Message", { exact: true });
  const counter = dialog.locator("#sms-counter");
  await message.fill("Hello Marc");
  await expect(counter).toHaveText("10 characters, 1 SMS (GSM7)");
  await expect(dialog.getByTestId("sms-cost")).toHaveText("0.12 Credits");
  await message.fill("a".repeat(160));
  await expect(counter).toHaveText("160 characters, 1 SMS (GSM7)");
  await message.pressSequentially("b");
  await expect(counter).toHaveText("161 characters, 2 SMS (GSM7)");
  await expect(dialog.getByTestId("sms-cost")).toHaveText("0.24 Credits");
  await message.fill("Your order has shipped 📦");
  await expect(counter).toHaveText("24 characters, 1 SMS (UNICODE)");

  await dialog.getByRole("button", { name: "Send SMS" }).click();
  // The request answers once the message is queued; the pop-up then follows it out.
  await expect(dialog.getByTestId("sms-queued")).toHaveText(
    "1 SMS queued; 0.12 credits reserved, charged as each one goes out.",
  );
  await expect(dialog.getByTestId("sms-progress")).toHaveText("1 SMS sent, 0.12 credits charged.");
  const chatter = page.getByRole("complementary", { name: "Chatter" });
  await expect(chatter).toContainText("SMS to +32470123456 (1 SMS, 0.12 credits): Your order has shipped 📦");
  await expect(chatter).toContainText("Mitchell Admin");
  await expect(chatter.locator(".o-sms-state")).toHaveText("Sent");
  await dialog.locator(".o-dialog-buttons").getByRole("button", { name: "Close" }).click();
  await expect(dialog).toHaveCount(0);

  await expect(await smsBalance(page)).toContainText("9.88 Credits");
});

test("a batch from the Contacts list is one hold: too few credits open the dialog, keep the message, and Buy credits opens the store", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.getByRole("link", { name: "Contacts" }).first().click();
  await hydrated(page);
  const long = "ж".repeat(1_530); // 23 UNICODE parts: 2.76 credits to Belgium
  const select = async () => {
    await page.getByRole("checkbox", { name: "Select Marc Demo" }).check();
    await page.getByRole("checkbox", { name: "Select Deco Addict" }).check();
    await expect(page.getByText("2 selected")).toBeVisible();
    await page.getByRole("button", { name: "📱 SMS" }).click();
  };

  await select();
  let dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
  await expect(dialog).toContainText("2 recipients");
  await dialog.getByLabel("Message", { exact: true }).fill(long);
  await expect(dialog.getByTestId("sms-cost")).toHaveText("5.52 Credits");
  await dialog.getByRole("button", { name: "Send SMS" }).click();
  await expect(dialog.getByTestId("sms-progress")).toHaveText("2 SMS sent, 5.52 credits charged.");
  await dialog.locator(".o-dialog-buttons").getByRole("button", { name: "Close" }).click();

  // 4.48 credits left cannot pay for two more: nothing goes out.
  await select();
  dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
  await dialog.getByLabel("Message", { exact: true }).fill(long);
  await dialog.getByRole("button", { name: "Send SMS" }).click();
  const insufficient = page.getByRole("dialog", { name: "Insufficient credit to perform this service." });
  await expect(insufficient).toContainText("This needs 5.52; 4.48 are available.");
  const [store] = await Promise.all([
    page.context().waitForEvent("page"),
    insufficient.getByRole("link", { name: "Buy credits" }).click(),
  ]);
  await store.waitForLoadState();
  await expect(store.getByRole("heading", { name: "Buy Credits for SMS" })).toBeVisible();
  await expect(store).toHaveURL(/\/buy\?credit=1\.04$/);

  await page.bringToFront();
  await insufficient.getByRole("button", { name: "Cancel" }).click();
  await expect(insufficient).toHaveCount(0);
  await expect(dialog.getByLabel("Message", { exact: true })).toHaveValue(long);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await expect(await smsBalance(page)).toContainText("4.48 Credits");
});

test("developer mode → Technical → SMS Outbox lists what was sent", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/contacts");
  await hydrated(page);
  await page.getByRole("link", { name: "Marc Demo" }).click();
  await page.getByRole("button", { name: "📱 SMS" }).click();
  const dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
  await dialog.getByLabel("Message", { exact: true }).fill("See you tomorrow");
  await dialog.getByRole("button", { name: "Send SMS" }).click();
  await expect(dialog.getByTestId("sms-progress")).toHaveText("1 SMS sent, 0.12 credits charged.");

  await page.goto("/settings?debug=1");
  await hydrated(page);
  await page.getByRole("button", { name: "Technical" }).click();
  await page.getByRole("link", { name: "SMS Outbox" }).click();
  await expect(page.getByRole("heading", { name: "SMS Outbox" })).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: "See you tomorrow" });
  await expect(row).toContainText("+32470123456");
  await expect(row).toContainText("Marc Demo");
  await expect(row).toContainText("Sent");
  await expect(row).toContainText("0.12");
  await expect(row).toContainText("Batch 1: 1 sent, 0 failed, 0 queued");
});

slowGatewayTest(2_000)(
  "a batch through a slow gateway is queued at once, and the pop-up, the chatter and the SMS Outbox follow it out",
  async ({ page }) => {
    await login(page, "admin", "admin");
    await page.goto("/contacts");
    await hydrated(page);
    await page.getByRole("checkbox", { name: "Select Marc Demo" }).check();
    await page.getByRole("checkbox", { name: "Select Deco Addict" }).check();
    await page.getByRole("button", { name: "📱 SMS" }).click();
    const dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
    await dialog.getByLabel("Message", { exact: true }).fill("We open at nine tomorrow");
    await dialog.getByRole("button", { name: "Send SMS" }).click();
    await expect(dialog.getByTestId("sms-queued")).toHaveText(
      "2 SMS queued; 0.24 credits reserved, charged as each one goes out.",
    );
    // One message at a time, 2 s each: the pop-up shows the batch on its way.
    await expect(dialog.getByTestId("sms-progress")).toHaveText("1 sent, 0 failed, 1 queued");
    await page.screenshot({ path: "test-results/sms-progress-dialog.png" });
    await expect(dialog.getByTestId("sms-progress")).toHaveText("2 SMS sent, 0.24 credits charged.");
    await dialog.locator(".o-dialog-buttons").getByRole("button", { name: "Close" }).click();

    // The contact's chatter shows its SMS and how the batch went.
    await page.getByRole("link", { name: "Marc Demo" }).click();
    const chatter = page.getByRole("complementary", { name: "Chatter" });
    await expect(chatter.locator(".o-sms-state")).toHaveText("Sent");
    await expect(chatter).toContainText("Batch 1: 2 sent, 0 failed, 0 queued");
    await chatter.screenshot({ path: "test-results/sms-chatter.png" });

    // A second batch, watched from the SMS Outbox while it goes out.
    await page.goto("/contacts");
    await hydrated(page);
    await page.getByRole("checkbox", { name: "Select Marc Demo" }).check();
    await page.getByRole("checkbox", { name: "Select Gemini Furniture" }).check();
    await page.getByRole("button", { name: "📱 SMS" }).click();
    await dialog.getByLabel("Message", { exact: true }).fill("Second batch");
    await dialog.getByRole("button", { name: "Send SMS" }).click();
    await expect(dialog.getByTestId("sms-queued")).toBeVisible();
    await page.goto("/settings?debug=1");
    await page.goto("/settings/technical/sms");
    await hydrated(page);
    const rows = page.getByRole("row").filter({ hasText: "Second batch" });
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toContainText("Batch 2:");
    await expect(rows.filter({ hasText: "Queued" }).first()).toBeVisible();
    await page.screenshot({ path: "test-results/sms-outbox-progress.png", fullPage: true });
    await expect(rows.filter({ hasText: "Batch 2: 2 sent, 0 failed, 0 queued" })).toHaveCount(2);
    await expect(rows.filter({ hasText: "Sent" })).toHaveCount(2);
  },
);
