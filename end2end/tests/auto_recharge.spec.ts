import { test, stripeTest, expect, login, hydrated, openSms, sendOneSms, type Page } from "./fixtures";

/** Auto-recharge below 9.9 credits, buying the Starter Pack, within €50 a month. */
async function turnOn(page: Page) {
  const auto = page.getByRole("region", { name: "Auto-Recharge" });
  await expect(auto.getByTestId("auto-recharge-status")).toHaveText("Off.");
  await auto.getByLabel("Recharge Below").fill("9.9");
  await auto.getByLabel("Pack").selectOption({ label: "Starter Pack (€10.00)" });
  // A cap below the pack's price could never buy anything: refused next to the field.
  await auto.getByLabel("Monthly Cap").fill("5");
  await auto.getByRole("button", { name: "Save", exact: true }).click();
  await expect(auto.getByRole("alert").first()).toContainText("The monthly cap must allow at least one pack.");
  await auto.getByLabel("Monthly Cap").fill("50");
  await auto.getByRole("button", { name: "Save", exact: true }).click();
  await expect(auto.getByTestId("auto-recharge-status")).toHaveText("On: below 9.9 Credits, buys Starter Pack.");
  await expect(auto.getByTestId("auto-recharge-card")).toHaveText("No card saved: nothing is charged until one is.");
  return auto;
}

async function saveCard(page: Page, number: string) {
  const auto = page.getByRole("region", { name: "Auto-Recharge" });
  await auto.getByLabel("Cardholder").fill("Mitchell Admin");
  await auto.getByLabel("Card number").fill(number);
  await auto.getByLabel("Expiry").fill("12/34");
  await auto.getByLabel("CVC").fill("123");
  await auto.getByRole("button", { name: "Save Card" }).click();
  await expect(auto.getByTestId("auto-recharge-card")).toHaveText(`Visa •••• ${number.slice(-4)}`);
}

test("turn on auto-recharge: an SMS that crosses the threshold buys the pack with the saved card", async ({ page }) => {
  await login(page, "admin", "admin");
  await openSms(page);
  await expect(page.getByTestId("balance")).toHaveText("10 Credits");
  await turnOn(page);
  await saveCard(page, "4242 4242 4242 4242");

  // One SMS takes the account from 10 to 9.88: below 9.9, so the pack is bought.
  await sendOneSms(page);
  await expect(async () => {
    await openSms(page);
    await expect(page.getByTestId("balance")).toHaveText("19.88 Credits", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const auto = page.getByRole("region", { name: "Auto-Recharge" });
  await expect(auto.getByTestId("auto-recharge-status")).toHaveText("On: below 9.9 Credits, buys Starter Pack.");
  await expect(auto.getByTestId("auto-recharge-spent")).toHaveText("Spent this month: €10.00 of €50.00.");
  const order = page.locator(".o-list-table tbody tr", { hasText: "Auto-Recharge" });
  await expect(order).toHaveCount(1);
  await expect(order).toContainText("Starter Pack");
  await expect(order).toContainText("Paid");
  await expect(order).toContainText("Mitchell Admin");

  // Turned off, it says so and keeps the card for the next time.
  await auto.getByRole("button", { name: "Turn Off" }).click();
  await expect(auto.getByTestId("auto-recharge-status")).toHaveText("Off.");
  await expect(auto.getByTestId("auto-recharge-card")).toHaveText("Visa •••• 4242");
});

test("a declined saved card: the account page says why and when it tries again, and the bell tells", async ({ page }) => {
  await login(page, "admin", "admin");
  await openSms(page);
  await turnOn(page);
  await saveCard(page, "4000 0000 0000 9995");
  await sendOneSms(page);
  await expect(async () => {
    await openSms(page);
    await expect(page.getByTestId("auto-recharge-status")).toContainText("Declined: Your card has insufficient funds.", {
      timeout: 1_000,
    });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("auto-recharge-status")).toContainText("Next attempt:");
  await expect(page.getByTestId("balance")).toHaveText("9.88 Credits");
  const order = page.locator(".o-list-table tbody tr", { hasText: "Auto-Recharge" });
  await expect(order).toContainText("Failed");
  // The bell counts when the page loads; this page may have loaded before the decline was
  // written (its sections came from a later request): load it again before reading it.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("bell-count")).toHaveText("1");
  await page.getByTestId("bell").click();
  await expect(page.locator(".o-bell-item").first()).toContainText("SMS: auto-recharge could not buy credits (9.88 Credits left).");

  // A working card is tried at once.
  await openSms(page);
  await saveCard(page, "4242 4242 4242 4242");
  await expect(async () => {
    await openSms(page);
    await expect(page.getByTestId("balance")).toHaveText("19.88 Credits", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
});

stripeTest("a card saved on Stripe's page pays auto-recharge off session", async ({ page, stripe }) => {
  await login(page, "admin", "admin");
  await openSms(page);
  const auto = await turnOn(page);
  await auto.getByRole("button", { name: "Save a Card with Stripe" }).click();
  // Stripe's page saved the card and sent the browser back, which reads the session.
  await page.waitForURL(/\/iap-accounts\/\d+\?card_session=cs_test_/);
  await hydrated(page);
  await expect(auto.getByTestId("auto-recharge-card")).toHaveText("Visa •••• 4242");

  await sendOneSms(page);
  await expect(async () => {
    await openSms(page);
    await expect(page.getByTestId("balance")).toHaveText("19.88 Credits", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const requests = await (await fetch(`${stripe.url}/__fake/requests`)).json();
  const charges = requests.filter(
    (r: { method: string; path: string }) => r.method === "POST" && r.path === "/v1/payment_intents",
  );
  expect(charges).toHaveLength(1);
  const form = Object.fromEntries(charges[0].form);
  expect(form.off_session).toBe("true");
  expect(form.amount).toBe("1000");
});
