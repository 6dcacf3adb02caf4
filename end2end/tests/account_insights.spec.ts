import { readFileSync } from "node:fs";
import { test, expect, login, hydrated, type Page } from "./fixtures";

/** Sends Marc one SMS ("Hello Marc": 1 part, 0.12 credits) and waits until it went out. */
async function smsToMarc(page: Page) {
  await page.getByRole("link", { name: "Contacts" }).first().click();
  await page.getByRole("link", { name: "Marc Demo" }).click();
  await page.getByRole("button", { name: "📱 SMS" }).click();
  const dialog = page.getByRole("dialog", { name: "Send SMS Text Message" });
  await dialog.getByLabel("Message", { exact: true }).fill("Hello Marc");
  await dialog.getByRole("button", { name: "Send SMS" }).click();
  await expect(dialog.getByTestId("sms-progress")).toHaveText("1 SMS sent, 0.12 credits charged.");
  await dialog.locator(".o-dialog-buttons").getByRole("button", { name: "Close" }).click();
}

/** Signs in as the administrator, sends Marc an SMS and opens the SMS account's Account Information. */
async function smsAccountAfterOneSms(page: Page) {
  await login(page, "admin", "admin");
  await smsToMarc(page);
  await page.goto("/iap-accounts");
  await hydrated(page);
  await page.getByRole("link", { name: "SMS", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();
  await hydrated(page);
}

/** `YYYY-MM-DD` of a day `offset` days from today, in UTC as the pages show dates. */
function utcDay(offset = 0) {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

test("Account Information reads out the chart, the forecast and the balance at a past date", async ({ page }) => {
  await login(page, "admin", "admin");
  await smsToMarc(page);

  await page.goto("/iap-accounts");
  await hydrated(page);
  const sms = page.getByRole("row").filter({ has: page.getByRole("link", { name: "SMS", exact: true }) });
  // 9.88 credits left after using 0.12 this week: 576 days at that rate.
  await expect(sms.getByTestId("forecast")).toHaveText("about 576 days");
  await sms.getByRole("link", { name: "SMS", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Account Information" })).toBeVisible();

  await expect(page.getByTestId("forecast")).toHaveText("At the current rate, credits last about 576 days.");
  const summary = page.getByTestId("usage-summary");
  await expect(summary).toHaveText(
    `Over the last 30 days: 0.12 Credits used, 0.004 Credits a day on average. ` +
      `Busiest day: ${utcDay()}, 0.12 Credits. 1 day with a purchase.`,
  );
  // The chart is an image described by that summary; its figures are in a table too.
  await expect(page.getByRole("img", { name: /Over the last 30 days/ })).toBeVisible();
  await page.getByText("Daily figures").click();
  const figures = page.getByRole("table").filter({ hasText: "Bought" });
  await expect(figures.getByRole("row")).toHaveCount(2);
  await expect(figures.getByRole("row").nth(1)).toContainText("10 Credits");

  await hydrated(page);
  await page.getByRole("link", { name: "90 days" }).click();
  await expect(page).toHaveURL(/days=90/);
  await expect(page.getByRole("link", { name: "90 days" })).toHaveAttribute("aria-current", "page");
  await expect(summary).toContainText("Over the last 90 days: 0.12 Credits used");

  const at = page.getByLabel("Date and time (UTC)");
  await at.fill(`${utcDay(-1)}T12:00`);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByTestId("balance-at")).toContainText("a balance of 0 Credits, of which 0 Credits held.");
  await at.fill(`${utcDay(1)}T12:00`);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByTestId("balance-at")).toContainText("a balance of 9.88 Credits, of which 0 Credits held.");
});

test("the history filters by type and words, and exports what it shows as CSV", async ({ page }) => {
  await smsAccountAfterOneSms(page);
  const history = page.locator("table.o-history");
  await expect(history.getByRole("row")).toHaveCount(4); // header, trial, hold, capture

  const filters = page.getByRole("form", { name: "Filter the history" });
  await filters.getByLabel("Type").selectOption({ label: "Capture" });
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/kind=capture/);
  await expect(history.getByRole("row")).toHaveCount(2);
  await expect(history).toContainText("-0.12");

  await filters.getByLabel("Description contains").fill("no such words");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No entry matches these filters.")).toBeVisible();

  await filters.getByLabel("Description contains").fill("");
  await filters.getByLabel("From").fill(utcDay());
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(history.getByRole("row")).toHaveCount(2);

  const download = page.waitForEvent("download");
  await filters.getByRole("link", { name: "Export CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^iap-account-\d+-history\.csv$/);
  const rows = readFileSync((await file.path())!, "utf8").trimEnd().split("\r\n");
  expect(rows).toHaveLength(2);
  expect(rows[0]).toBe("entry,date,type,description,credits,held,reverses");
  expect(rows[1]).toMatch(new RegExp(`^\\d+,${utcDay()}T\\d\\d:\\d\\d:\\d\\dZ,capture,.*,-0\\.12,-0\\.12,$`));

  // A date that does not exist is refused beside the filters, and nothing is listed.
  await page.goto(page.url().replace(/from=[^&]*/, "from=2026-02-30"));
  await expect(page.getByRole("alert")).toHaveText("Enter a date as YYYY-MM-DD.");
  await expect(history).toHaveCount(0);

  await page.getByRole("form", { name: "Filter the history" }).getByRole("link", { name: "Clear" }).click();
  await expect(page).not.toHaveURL(/kind=/);
  await expect(history.getByRole("row")).toHaveCount(4);
});

test("an administrator reverses a capture once, with a reason, and the history shows both", async ({ page }) => {
  await smsAccountAfterOneSms(page);
  await expect(page.getByTestId("balance")).toContainText("9.88");

  const history = page.locator("table.o-history");
  await history.getByRole("button", { name: /^Reverse the capture of / }).click();
  const dialog = page.getByRole("dialog", { name: "Reverse a capture" });
  await expect(dialog).toContainText("0.12 Credits were captured on");
  // Nothing is reversed without a reason, nor beyond what was captured.
  await dialog.getByRole("button", { name: "Reverse" }).click();
  await expect(dialog).toContainText("Give a reason for the reversal.");
  await dialog.getByLabel("Credits to return").fill("0.5");
  await dialog.getByLabel("Reason").fill("The gateway delivered it twice");
  await dialog.getByRole("button", { name: "Reverse" }).click();
  await expect(dialog).toContainText("A reversal returns at most what was captured: 0.12.");
  await dialog.getByLabel("Credits to return").fill("");
  await dialog.getByRole("button", { name: "Reverse" }).click();
  await expect(dialog.getByTestId("reverse-done")).toHaveText("0.12 Credits returned to the account.");
  await dialog.locator(".o-dialog-buttons").getByRole("button", { name: "Close" }).click();
  await expect(dialog).toHaveCount(0);

  await expect(page.getByTestId("balance")).toContainText("10");
  const reversal = history.getByRole("row").filter({ hasText: "Reversal" });
  await expect(reversal).toContainText("The gateway delivered it twice");
  await expect(reversal).toContainText("+0.12");
  const capture = history.getByRole("row").filter({ hasText: "Capture" });
  await expect(capture).toContainText("Reversed: 0.12 Credits");
  await expect(history.getByRole("button", { name: /^Reverse the capture of / })).toHaveCount(0);
});
