-- Issue 18: ledger batches lock only the accounts they touch (see PostgreSQL's migration
-- 0004). SQLite has one writer at a time, so its batches stay serial, but they follow the
-- same protocol: every batch stamps what it writes with the next `version`, and a writer
-- reloads an account whose stamp is not the one its book knows, with its open holds.
-- Hold ids come in blocks of 4,096 per writer: `hold_block` is the next block.
ALTER TABLE ledger_sync ADD COLUMN hold_block INTEGER NOT NULL DEFAULT 0;
UPDATE ledger_sync SET hold_block = (SELECT COALESCE(MAX(id), 0) / 4096 + 1 FROM holds);

-- Holds are reloaded by account now, not by stamp.
DROP INDEX holds_by_version;
CREATE INDEX holds_open_by_account ON holds (account_id) WHERE state = 'open';

-- An account as a writer loads it: its figures, its stamp, its companies as a JSON array.
CREATE VIEW ledger_account_rows AS
SELECT a.id, a.service, a.token, a.balance, a.held, a.ledger_version,
       '[' || COALESCE((SELECT string_agg(CAST(company_id AS TEXT), ',')
                        FROM iap_account_companies WHERE account_id = a.id), '')
           || ']' AS companies
FROM iap_accounts a;

-- An open hold as a writer loads it.
CREATE VIEW ledger_open_holds AS
SELECT id, account_id, amount, captured, expires_at, token, description, note,
       created_at, idempotency_key, request_hash
FROM holds WHERE state = 'open';
