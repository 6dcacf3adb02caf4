import { test, expect, login, hydrated, type Page } from "./fixtures";

/** Settings → View My Services → SMS → Buy Credit, returning the store's new tab. */
async function openStore(page: Page) {
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("link", { name: "View My Services" }).click();
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  await expect(page.getByTestId("balance")).toHaveText("10 Credits");
  const [store] = await Promise.all([
    page.context().waitForEvent("page"),
    page.getByRole("link", { name: "Buy Credit" }).click(),
  ]);
  await store.waitForLoadState();
  await hydrated(store);
  await expect(store.getByRole("heading", { name: "Buy Credits for SMS" })).toBeVisible();
  return store;
}

async function fillCard(page: Page, number: string) {
  await page.getByLabel("Cardholder").fill("Mitchell Admin");
  await page.getByLabel("Card number").fill(number);
  await page.getByLabel("Expiry (MM/YY)").fill("12/34");
  await page.getByLabel("CVC").fill("123");
}

test("buying the Standard Pack adds 100 credits, shown on the receipt and back in the first tab", async ({ page }) => {
  await login(page, "admin", "admin");
  const store = await openStore(page);
  const standard = store.getByRole("article", { name: "Standard Pack" });
  await expect(standard).toContainText("100 Credits");
  await expect(standard).toContainText("€90.00");
  await expect(standard).toContainText("€0.900 per credit");
  await standard.getByRole("button", { name: "Buy" }).click();

  await expect(store.getByRole("heading", { name: "Checkout" })).toBeVisible();
  await fillCard(store, "4242 4242 4242 4242");
  await store.getByRole("button", { name: "Pay €90.00" }).click();

  await expect(store.getByRole("heading", { name: "Payment successful" })).toBeVisible();
  await expect(store.getByTestId("balance")).toHaveText("110 Credits");
  await expect(store.getByText("Visa •••• 4242")).toBeVisible();
  await expect(store.getByText("100 Credits added to SMS.")).toBeVisible();

  // Back in the first tab: regaining focus refreshes the balance.
  await page.bringToFront();
  await page.evaluate(() => window.dispatchEvent(new Event("focus")));
  await expect(page.getByTestId("balance")).toHaveText("110 Credits");
  await expect(page.getByRole("table").first()).toContainText("Standard Pack");
});

test("a declined card shows the reason and adds no credits", async ({ page }) => {
  await login(page, "admin", "admin");
  const store = await openStore(page);
  await store.getByRole("article", { name: "Starter Pack" }).getByRole("button", { name: "Buy" }).click();
  await fillCard(store, "4000 0000 0000 0002");
  await store.getByRole("button", { name: /^Pay/ }).click();
  await expect(store.getByRole("alert")).toHaveText("Your card was declined.");
  await page.reload();
  await expect(page.getByTestId("balance")).toHaveText("10 Credits");
});

test("an invalid card number is flagged next to its field", async ({ page }) => {
  await login(page, "admin", "admin");
  const store = await openStore(page);
  await store.getByRole("article", { name: "Starter Pack" }).getByRole("button", { name: "Buy" }).click();
  await fillCard(store, "4242 4242 4242 4241");
  await store.getByRole("button", { name: /^Pay/ }).click();
  await expect(store.getByRole("alert")).toHaveText("This card number is not valid; check for typos.");
});

test("double-clicking Pay and reloading the receipt add the credits once", async ({ page }) => {
  await login(page, "admin", "admin");
  const store = await openStore(page);
  await store.getByRole("article", { name: "Standard Pack" }).getByRole("button", { name: "Buy" }).click();
  await fillCard(store, "4242424242424242");
  await store.getByRole("button", { name: "Pay €90.00" }).dblclick();
  await expect(store.getByRole("heading", { name: "Payment successful" })).toBeVisible();
  await expect(store.getByTestId("balance")).toHaveText("110 Credits");
  await store.reload();
  await hydrated(store);
  await expect(store.getByTestId("balance")).toHaveText("110 Credits");
  await page.reload();
  await expect(page.getByTestId("balance")).toHaveText("110 Credits");

  // Settings → Orders lists exactly one order, paid.
  await page.goto("/settings/orders");
  const rows = page.getByRole("row").filter({ hasText: "IAP0" });
  await expect(rows).toHaveCount(1);
  await expect(rows).toContainText("Standard Pack");
  await expect(rows).toContainText("Paid");
});

test("the store opened with a wanted amount highlights the pack that covers it", async ({ page }) => {
  await login(page, "demo", "demo");
  await page.goto("/iap-accounts");
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  const href = (await page.getByRole("link", { name: "Buy Credit" }).getAttribute("href")) ?? "";
  await page.goto(`${href}?credit=250`);
  await expect(page.getByRole("article", { name: "Advanced Pack" })).toContainText("Covers what you need");
  await expect(page.getByText("Covers what you need")).toHaveCount(1);
});

test("an administrator refunds a paid order: its credits leave, the order reads Refunded", async ({ page }) => {
  await login(page, "admin", "admin");
  const store = await openStore(page);
  await store.getByRole("article", { name: "Starter Pack" }).getByRole("button", { name: "Buy" }).click();
  await fillCard(store, "4242 4242 4242 4242");
  await store.getByRole("button", { name: "Pay €10.00" }).click();
  await expect(store.getByTestId("balance")).toHaveText("20 Credits");
  await store.close();

  await page.bringToFront();
  await page.evaluate(() => window.dispatchEvent(new Event("focus")));
  await expect(page.getByTestId("balance")).toHaveText("20 Credits");
  const orders = page.getByRole("table").first();
  await orders.getByRole("button", { name: /^Refund order IAP/ }).click();
  const dialog = page.getByRole("dialog", { name: "Refund an order" });
  await expect(dialog).toContainText("10 Credits for €10.00");
  await dialog.getByRole("button", { name: "Refund" }).click();
  await expect(dialog).toContainText("Give a reason for the refund.");
  await dialog.getByLabel("Reason").fill("Bought by mistake");
  await dialog.getByRole("button", { name: "Refund" }).click();
  await expect(dialog.getByTestId("refund-done")).toHaveText(/^IAP\d+: Refunded\.$/);
  await dialog.locator(".o-dialog-buttons").getByRole("button", { name: "Close" }).click();

  await expect(page.getByTestId("balance")).toHaveText("10 Credits");
  await expect(orders.getByTestId("refund-state")).toHaveText("Refunded");
  await expect(orders.getByRole("button", { name: /^Refund order IAP/ })).toHaveCount(0);
  const history = page.locator("table.o-history").last();
  await expect(history.getByRole("row").filter({ hasText: "Bought by mistake" })).toContainText("-10");
});
