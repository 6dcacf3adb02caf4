-- IAP: the service catalogue, one account per service (optionally restricted to companies),
-- holds, and the append-only credit ledger. Amounts are integers in 1/10,000 of a credit;
-- times are Unix milliseconds.

CREATE TABLE services (
    technical_name TEXT PRIMARY KEY CHECK (technical_name GLOB '[a-z]*' AND length(technical_name) <= 64),
    label          TEXT NOT NULL,
    description    TEXT NOT NULL,
    unit_name      TEXT NOT NULL,
    -- Balances in this unit are shown without decimals.
    whole_number   INTEGER NOT NULL CHECK (whole_number IN (0, 1)),
    trial_credits  INTEGER NOT NULL CHECK (trial_credits >= 0),
    first_party    INTEGER NOT NULL CHECK (first_party IN (0, 1))
) STRICT;

INSERT INTO services VALUES
    ('sms', 'SMS', 'Send SMS text messages to contacts directly from the database.', 'Credits', 0, 100000, 1),
    ('invoice_ocr', 'Documents Digitization', 'Digitize scanned or PDF vendor bills, expenses and resumes with OCR and AI.', 'Documents', 1, 100000, 1),
    ('partner_autocomplete', 'Partner Autocomplete', 'Automatically populate contact records with corporate data.', 'Credits', 1, 1000000, 1),
    ('reveal', 'Lead Generation', 'Generate leads from a set of criteria, and convert website visitors into quality leads and opportunities.', 'Credits', 1, 200000, 1),
    ('snailmail', 'Snailmail', 'Send customer invoices and follow-up reports by post, worldwide.', 'Stamps', 1, 50000, 1),
    ('itsme', 'Signer identification with itsme®', 'Ask document signatories to prove their identity with itsme®, available in Belgium and the Netherlands.', 'Verifications', 1, 50000, 1);

CREATE TABLE iap_accounts (
    id         INTEGER PRIMARY KEY,
    service    TEXT NOT NULL REFERENCES services (technical_name),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    -- Secret; a `+disabled` suffix disables the account.
    token      TEXT NOT NULL UNIQUE CHECK (length(token) BETWEEN 22 AND 128),
    balance    INTEGER NOT NULL DEFAULT 0,
    held       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CHECK (held >= 0 AND balance - held >= 0)
) STRICT;
CREATE INDEX iap_accounts_by_service ON iap_accounts (service);

-- No rows: usable by every company.
CREATE TABLE iap_account_companies (
    account_id INTEGER NOT NULL REFERENCES iap_accounts (id) ON DELETE CASCADE,
    company_id INTEGER NOT NULL REFERENCES companies (id),
    PRIMARY KEY (account_id, company_id)
) STRICT, WITHOUT ROWID;

-- Trial credits are granted once per service per database.
CREATE TABLE trial_grants (
    service    TEXT PRIMARY KEY REFERENCES services (technical_name),
    account_id INTEGER NOT NULL REFERENCES iap_accounts (id),
    granted_at INTEGER NOT NULL
) STRICT;

-- A hold's token is `<id>.<128 random bits>`: looked up by id and compared whole, so no
-- index on a random key has to absorb every insert.
CREATE TABLE holds (
    id              INTEGER PRIMARY KEY,
    token           TEXT NOT NULL,
    account_id      INTEGER NOT NULL REFERENCES iap_accounts (id),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    state           TEXT NOT NULL CHECK (state IN ('open', 'captured', 'released', 'expired')),
    captured        INTEGER CHECK (captured IS NULL OR captured BETWEEN 0 AND amount),
    description     TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    idempotency_key TEXT UNIQUE,
    request_hash    TEXT,
    created_at      INTEGER NOT NULL,
    closed_at       INTEGER
) STRICT;
-- Expiry times only grow, so this index is appended to, not scattered over.
CREATE INDEX holds_open_by_expiry ON holds (expires_at) WHERE state = 'open';

CREATE TABLE ledger_entries (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES iap_accounts (id),
    kind        TEXT NOT NULL CHECK (kind IN ('trial', 'purchase', 'hold', 'capture', 'release', 'expiry', 'adjustment')),
    -- Change to the balance and to the held amount.
    amount      INTEGER NOT NULL,
    held_delta  INTEGER NOT NULL,
    hold_id     INTEGER REFERENCES holds (id),
    description TEXT NOT NULL,
    created_by  INTEGER REFERENCES users (id),
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_by_account ON ledger_entries (account_id, id);

CREATE TRIGGER ledger_entries_are_never_updated BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_are_never_deleted BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
