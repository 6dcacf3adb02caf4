-- Issue 17: the history filtered by date, the consumption chart, the balance at a past moment,
-- the forecast and the CSV export all read one account's entries over a span of time. The
-- ledger's index ordered them by id; this one orders them by time, with the row id breaking
-- ties, so each of those reads is a range scan. Every entry still writes one index row, at
-- the end of its account's range as before.
DROP INDEX ledger_by_account;
CREATE INDEX ledger_by_account_time ON ledger_entries (account_id, created_at);
