-- Low-credit warnings: each account's Warn Me / Threshold / Warning Email, and the mail
-- outbox the ledger writer fills in the same transaction as the change that crossed the
-- threshold. Amounts in 1/10,000 of a credit, times in Unix milliseconds.

-- No row: Warn Me is off. Unticking keeps the threshold and addresses for next time.
-- No "already warned" flag is stored: the writer compares available credits before and
-- after each change, so a crossing is a fact of one change, not a state to keep.
CREATE TABLE iap_account_warnings (
    account_id INTEGER PRIMARY KEY REFERENCES iap_accounts (id) ON DELETE CASCADE,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    threshold  INTEGER NOT NULL CHECK (threshold >= 0),
    -- JSON array of addresses.
    emails     TEXT NOT NULL CHECK (json_valid(emails) AND json_type(emails) = 'array'),
    updated_at INTEGER NOT NULL,
    CHECK (enabled = 0 OR (threshold > 0 AND json_array_length(emails) > 0))
) STRICT;

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    -- The account the mail is about, if any.
    account_id      INTEGER REFERENCES iap_accounts (id),
    -- JSON array of addresses.
    recipients      TEXT NOT NULL CHECK (json_valid(recipients) AND json_array_length(recipients) > 0),
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
-- The worker's question: which queued mails are due?
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'queued';
