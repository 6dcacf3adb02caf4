import { test, expect, login, hydrated } from "./fixtures";

test("an administrator registers a third-party service and sees its key only once", async ({ page }) => {
  await login(page, "admin", "admin");
  await page.goto("/settings?debug=1");
  await hydrated(page);
  await page.getByRole("button", { name: "Technical" }).click();
  await page.getByRole("link", { name: "IAP Services" }).click();
  await expect(page.getByRole("heading", { name: "IAP Services" })).toBeVisible();
  await hydrated(page);
  const sms = page.getByRole("row").filter({ has: page.getByText("sms", { exact: true }) });
  await expect(sms).toContainText("First-party");

  // A mistake is named next to its field, and nothing is registered.
  await page.getByLabel("Technical name").fill("Fax!");
  await page.getByLabel("Label", { exact: true }).fill("Fax");
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByText("Use lowercase letters, digits and _")).toBeVisible();
  await expect(page.getByTestId("service-key")).toHaveCount(0);

  await page.getByLabel("Technical name").fill("fax");
  await page.getByLabel("Unit", { exact: true }).fill("Pages");
  await page.getByLabel("Trial credits").fill("5");
  await page.getByLabel("Pack 1 Pack name").fill("Starter");
  await page.getByLabel("Pack 1 Credits").fill("100");
  await page.getByLabel("Pack 1 Price (EUR)").fill("12.50");
  await page.getByRole("button", { name: "Register" }).click();

  const shown = page.getByTestId("service-key");
  await expect(shown).toBeVisible();
  await expect(page.getByText("New key for Fax")).toBeVisible();
  const key = (await shown.textContent()) ?? "";
  expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const fax = page.getByRole("row").filter({ has: page.getByText("fax", { exact: true }) });
  await expect(fax).toContainText("Third-party");
  await expect(fax).toContainText("Set");

  // The key works: an unknown account of a service still in trial is offered the trial.
  const reply = await page.request.post("/iap/1/authorize", {
    data: { jsonrpc: "2.0", method: "call", id: 1, params: { key, account_token: "a-new-database-account-token", credit: 1 } },
  });
  expect(reply.status()).toBe(200);
  const body = await reply.json();
  expect(body.error.data.name).toBe("odoo.addons.iap.tools.iap_tools.InsufficientCreditError");
  expect(JSON.parse(body.error.data.message)).toMatchObject({ service_name: "fax", trial: true });

  // Shown once: a reload no longer has it anywhere.
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("row").filter({ has: page.getByText("fax", { exact: true }) })).toContainText("Set");
  await expect(page.getByTestId("service-key")).toHaveCount(0);
  expect(await page.content()).not.toContain(key);

  // Rotating shows a new key and retires the old one.
  await page.getByRole("button", { name: "Rotate key Fax" }).click();
  await expect(page.getByTestId("service-key")).toBeVisible();
  await expect(page.getByTestId("service-key")).not.toHaveText(key);
  // The API trusts a key it has checked for up to a second.
  await page.waitForTimeout(1100);
  const old = await page.request.post("/iap/1/authorize", {
    data: { jsonrpc: "2.0", method: "call", id: 2, params: { key, account_token: "a-new-database-account-token", credit: 1 } },
  });
  expect((await old.json()).error.data.name).toBe("odoo.exceptions.AccessError");
});

test("a user who is not an administrator cannot open IAP Services", async ({ page }) => {
  await login(page, "demo", "demo");
  const reply = await page.goto("/settings/technical/iap-services");
  expect(reply?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Access denied" })).toBeVisible();
});
