-- SMS: each send (one or more messages paid by one hold) and each message. Together they
-- are the SMS outbox. Credits in 1/10,000 of a credit; times in Unix milliseconds.

CREATE TABLE sms_batches (
    id          INTEGER PRIMARY KEY,
    -- Chosen by the sender for this attempt: a retried request finds its batch instead of
    -- sending again.
    request_key TEXT NOT NULL UNIQUE CHECK (length(request_key) BETWEEN 8 AND 128),
    author_id   INTEGER NOT NULL REFERENCES users (id),
    account_id  INTEGER NOT NULL REFERENCES iap_accounts (id),
    hold_token  TEXT NOT NULL,
    -- pending: held and handed to the provider; done: captured or cancelled.
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE sms_messages (
    id                 INTEGER PRIMARY KEY,
    batch_id           INTEGER NOT NULL REFERENCES sms_batches (id),
    contact_id         INTEGER REFERENCES contacts (id),
    -- E.164, and the country it was priced for.
    number             TEXT NOT NULL,
    country            TEXT NOT NULL CHECK (length(country) = 2),
    body               TEXT NOT NULL CHECK (length(body) > 0),
    encoding           TEXT NOT NULL CHECK (encoding IN ('GSM7', 'UNICODE')),
    parts              INTEGER NOT NULL CHECK (parts > 0),
    -- What was held for it, and what it finally cost (0 unless sent).
    cost               INTEGER NOT NULL CHECK (cost > 0),
    credits            INTEGER NOT NULL DEFAULT 0 CHECK (credits IN (0, cost)),
    state              TEXT NOT NULL DEFAULT 'outgoing' CHECK (state IN ('outgoing', 'sent', 'error')),
    provider           TEXT,
    provider_reference TEXT,
    error              TEXT,
    created_at         INTEGER NOT NULL,
    sent_at            INTEGER
) STRICT;
CREATE INDEX sms_messages_by_batch ON sms_messages (batch_id);
