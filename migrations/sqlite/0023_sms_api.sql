-- The Odoo SMS API: batches an Odoo database sends through iapd, numbers that cannot be
-- texted kept as errors, Odoo's uuid of each message, the delivery status gateways report,
-- each SMS account's sender name, and the outbox of delivery reports forwarded to Odoo.
-- SQLite cannot relax a NOT NULL or a CHECK in place, so sms_batches and sms_messages are
-- rebuilt with their rows. Credits in 1/10,000 of a credit; times in Unix milliseconds.

CREATE TABLE sms_batches_new (
    id          INTEGER PRIMARY KEY,
    request_key TEXT NOT NULL UNIQUE CHECK (length(request_key) BETWEEN 8 AND 128),
    -- app: sent from a page by a user (author_id); api: sent by an Odoo database.
    source      TEXT NOT NULL DEFAULT 'app' CHECK (source IN ('app', 'api')),
    author_id   INTEGER REFERENCES users (id),
    account_id  INTEGER NOT NULL REFERENCES iap_accounts (id),
    -- None when no message of the batch could be sent, so nothing was held.
    hold_token  TEXT,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    -- The Odoo database that sent it, and where its delivery reports go (Odoo's /sms/status).
    dbuuid      TEXT CHECK (dbuuid IS NULL OR length(dbuuid) <= 64),
    webhook_url TEXT CHECK (webhook_url IS NULL OR length(webhook_url) <= 2048),
    -- The account's sender name when the batch was queued, passed to the gateway.
    sender_name TEXT,
    created_at  INTEGER NOT NULL,
    CHECK ((source = 'app') = (author_id IS NOT NULL))
) STRICT;
INSERT INTO sms_batches_new (id, request_key, author_id, account_id, hold_token, state, created_at)
    SELECT id, request_key, author_id, account_id, hold_token, state, created_at FROM sms_batches;

CREATE TABLE sms_messages_new (
    id                 INTEGER PRIMARY KEY,
    batch_id           INTEGER NOT NULL REFERENCES sms_batches_new (id),
    contact_id         INTEGER REFERENCES contacts (id),
    -- Odoo's id for the message (API only): 32 lowercase hexadecimal digits.
    uuid               TEXT UNIQUE
                       CHECK (uuid IS NULL OR (length(uuid) = 32 AND uuid NOT GLOB '*[^0-9a-f]*')),
    -- E.164 when it could be read, and the country it was priced for; as given otherwise
    -- (empty: the contact has no number).
    number             TEXT NOT NULL,
    country            TEXT CHECK (country IS NULL OR length(country) = 2),
    body               TEXT NOT NULL CHECK (length(body) > 0),
    encoding           TEXT NOT NULL CHECK (encoding IN ('GSM7', 'UNICODE')),
    parts              INTEGER NOT NULL CHECK (parts > 0),
    -- What was held for it (0 for a number that cannot be texted), and what it finally
    -- cost (0 unless sent).
    cost               INTEGER NOT NULL CHECK (cost >= 0),
    credits            INTEGER NOT NULL DEFAULT 0 CHECK (credits IN (0, cost)),
    state              TEXT NOT NULL DEFAULT 'outgoing' CHECK (state IN ('outgoing', 'sent', 'error')),
    -- Why an error was not sent.
    failure            TEXT CHECK (failure IN ('no_number', 'wrong_number_format',
                                               'country_not_supported', 'provider', 'not_paid')),
    -- The last delivery status the gateway reported, and when.
    delivery           TEXT CHECK (delivery IN ('sent', 'delivered', 'not_delivered',
                                                'invalid_destination', 'not_allowed', 'rejected',
                                                'expired')),
    delivery_at        INTEGER,
    -- The API answered "processing" for it: its outcome is reported to the batch's webhook.
    report_outcome     INTEGER NOT NULL DEFAULT 0 CHECK (report_outcome IN (0, 1)),
    provider           TEXT,
    provider_reference TEXT,
    error              TEXT,
    chatter_id         INTEGER REFERENCES messages (id),
    created_at         INTEGER NOT NULL,
    sent_at            INTEGER,
    CHECK ((state = 'error') = (failure IS NOT NULL))
) STRICT;
INSERT INTO sms_messages_new (id, batch_id, contact_id, number, country, body, encoding, parts,
                              cost, credits, state, failure, provider, provider_reference,
                              error, chatter_id, created_at, sent_at)
    SELECT id, batch_id, contact_id, number, country, body, encoding, parts, cost, credits,
           state, CASE state WHEN 'error' THEN 'provider' END, provider, provider_reference,
           error, chatter_id, created_at, sent_at
    FROM sms_messages;

-- Children first, so dropping the old parent leaves no row pointing at it; renaming the
-- new parent rewrites its children's references.
DROP TABLE sms_messages;
DROP TABLE sms_batches;
ALTER TABLE sms_batches_new RENAME TO sms_batches;
ALTER TABLE sms_messages_new RENAME TO sms_messages;
CREATE INDEX sms_messages_by_batch ON sms_messages (batch_id);
CREATE INDEX sms_messages_by_chatter ON sms_messages (chatter_id) WHERE chatter_id IS NOT NULL;
CREATE INDEX sms_batches_pending ON sms_batches (id) WHERE state = 'pending';

-- The sender name an Odoo database chose for its SMS account (Odoo 18+).
CREATE TABLE sms_senders (
    account_id  INTEGER PRIMARY KEY REFERENCES iap_accounts (id),
    sender_name TEXT NOT NULL
                CHECK (length(sender_name) BETWEEN 3 AND 11 AND sender_name NOT GLOB '*[^A-Za-z0-9]*'),
    updated_at  INTEGER NOT NULL
) STRICT;

-- Delivery reports on their way to the Odoo database that sent the message: one row per
-- status change of a message, queued in the transaction of the change; the forwarder
-- posts the due ones for a webhook together, grouped by status, and retries with back-off.
-- A newer status of the same message supersedes one not yet delivered, so a database never
-- receives an older status after a newer one.
CREATE TABLE sms_reports (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL REFERENCES sms_messages (id),
    webhook_url     TEXT NOT NULL,
    uuid            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'not_delivered',
                                                    'invalid_destination', 'not_allowed',
                                                    'rejected', 'expired')),
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sent', 'failed', 'superseded')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
CREATE INDEX sms_reports_due ON sms_reports (next_attempt_at) WHERE state = 'queued';
CREATE INDEX sms_reports_by_message ON sms_reports (message_id) WHERE state = 'queued';
CREATE INDEX sms_reports_by_webhook ON sms_reports (webhook_url) WHERE state = 'queued';
