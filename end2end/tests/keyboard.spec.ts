// The seed's two money flows with the keyboard alone: Tab to reach, Enter or Space to act,
// typing to fill, Escape to close.
import { test, expect, login, hydrated, tabTo } from "./fixtures";

test("Buy Credit → pack → pay, with the keyboard alone", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/iap-accounts");
  await hydrated(page);
  await tabTo(page, page.getByRole("link", { name: "SMS", exact: true }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();
  await hydrated(page);
  const [store] = await Promise.all([
    page.context().waitForEvent("page"),
    (async () => {
      await tabTo(page, page.getByRole("link", { name: "Buy Credit" }));
      await page.keyboard.press("Enter");
    })(),
  ]);
  await store.waitForLoadState();
  await hydrated(store);
  const standard = store.getByRole("article", { name: "Standard Pack" });
  await tabTo(store, standard.getByRole("button", { name: "Buy" }));
  await store.keyboard.press("Enter");
  await expect(store.getByRole("heading", { name: "Checkout" })).toBeVisible();
  await hydrated(store);
  for (const [label, value] of [
    ["Cardholder", "Mitchell Admin"],
    ["Card number", "4242 4242 4242 4242"],
    ["Expiry (MM/YY)", "12/34"],
    ["CVC", "123"],
  ]) {
    await tabTo(store, store.getByLabel(label));
    await store.keyboard.type(value);
  }
  await tabTo(store, store.getByRole("button", { name: "Pay €90.00" }));
  await store.keyboard.press("Enter");
  await expect(store.getByRole("heading", { name: "Payment successful" })).toBeVisible();
  await expect(store.getByTestId("balance")).toHaveText("110 Credits");
});

test("Send SMS Text Message with the keyboard alone; the dialog keeps the focus and Escape gives it back", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/contacts");
  await hydrated(page);
  await tabTo(page, page.getByRole("link", { name: "Marc Demo" }));
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Mobile")).toHaveValue("+32 470 12 34 56");
  await hydrated(page);
  const opener = page.getByRole("button", { name: "📱 SMS" });
  await tabTo(page, opener);
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
  await expect(dialog).toContainText("Marc Demo");

  // Escape closes it and the focus is back on the button that opened it.
  const message = dialog.getByLabel("Message", { exact: true });
  await expect(message).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(opener).toBeFocused();

  await page.keyboard.press("Enter");
  await expect(message).toBeFocused();
  await page.keyboard.type("Hello Marc");
  // Tab cycles inside the dialog: twenty presses never leave it.
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press("Tab");
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  await tabTo(page, dialog.getByRole("button", { name: "Send SMS" }));
  await page.keyboard.press("Enter");
  await expect(dialog.getByTestId("sms-progress")).toHaveText("1 SMS sent, 0.12 credits charged.");
  // Closing with the keyboard too, and the focus goes back to the 📱 SMS button.
  await tabTo(page, dialog.locator(".o-dialog-buttons").getByRole("button", { name: "Close" }));
  await page.keyboard.press("Enter");
  await expect(dialog).toHaveCount(0);
  await expect(opener).toBeFocused();
});
