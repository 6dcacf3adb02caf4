// Buying credits through Stripe Checkout, against the fake Stripe in end2end/fakes: the
// checkout sends the browser to the "hosted page", which pays, posts the signed webhook and
// comes back to the order page.
import { stripeTest as test, unsoldTest, expect, login, hydrated } from "./fixtures";

test("a purchase through Stripe's hosted page comes back paid and credits the pack once", async ({ page, stripe }) => {
  await login(page, "admin", "admin");
  await page.goto("/iap-accounts");
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  await expect(page.getByTestId("balance")).toHaveText("10 Credits");
  const id = new URL(page.url()).pathname.split("/").pop();
  await page.goto(`/iap-accounts/${id}/buy`);
  await hydrated(page);
  const standard = page.getByRole("article", { name: "Standard Pack" });
  await standard.getByRole("button", { name: "Buy" }).click();

  await expect(page.getByRole("heading", { name: "Checkout" })).toBeVisible();
  await expect(page.getByText("You complete the payment on the payment provider's secure page")).toBeVisible();
  await page.getByRole("button", { name: "Pay €90.00" }).click();

  // Stripe's page paid, the webhook arrived, and the browser is back on the order.
  await page.waitForURL(/\/orders\/\d+\?session_id=cs_test_/);
  await expect(page.getByRole("heading", { name: "Payment successful" })).toBeVisible();
  await expect(page.getByTestId("balance")).toHaveText("110 Credits");

  // Reloading, or the same webhook again, adds nothing.
  await page.reload();
  await expect(page.getByTestId("balance")).toHaveText("110 Credits");
  const requests = await (await fetch(`${stripe.url}/__fake/requests`)).json();
  const creations = requests.filter(
    (r: { method: string; path: string }) => r.method === "POST" && r.path === "/v1/checkout/sessions",
  );
  expect(creations).toHaveLength(1);
});

unsoldTest("without a payment provider the store shows its packs and says purchases are not available", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/iap-accounts");
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  // The account page's code loads on first visit: the address changes once it has.
  await page.waitForURL(/\/iap-accounts\/\d+$/);
  const id = new URL(page.url()).pathname.split("/").pop();
  await page.goto(`/iap-accounts/${id}/buy`);
  await hydrated(page);
  await expect(page.getByRole("article", { name: "Standard Pack" })).toContainText("€90.00");
  await expect(page.getByText("Purchases are not available yet.")).toBeVisible();
  await expect(page.getByText("set PAYMENT_PROVIDER to stripe")).toBeVisible();
  await expect(page.getByRole("article", { name: "Standard Pack" }).getByRole("button", { name: "Buy" })).toBeDisabled();
});
