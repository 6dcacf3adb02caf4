-- Issue 17: alerts beyond Warn Me. Warn Me (iap_account_warnings) stays the account's first
-- threshold, as Odoo sets it; these are the further ones, each with its own recipients and
-- channels. Firing writes an alert event (the in-app bell reads those) and one webhook
-- delivery per active webhook, in the transaction of the change that caused it.
CREATE TABLE alert_thresholds (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES iap_accounts (id) ON DELETE CASCADE,
    -- Minor units: available credits below it fire the alert.
    threshold  INTEGER NOT NULL CHECK (threshold > 0),
    -- JSON array of addresses; may be empty when another channel is on.
    emails     TEXT NOT NULL DEFAULT '[]',
    in_app     INTEGER NOT NULL CHECK (in_app IN (0, 1)),
    webhook    INTEGER NOT NULL CHECK (webhook IN (0, 1)),
    -- When it last fired: at most once an hour.
    fired_at   INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (emails != '[]' OR in_app OR webhook)
) STRICT;
CREATE INDEX alert_thresholds_by_account ON alert_thresholds (account_id);

-- Whether the account's available credits reached zero and no credits came in since: a
-- "depleted" event fires when it becomes true, "recovered" when credits make it false.
ALTER TABLE iap_accounts ADD COLUMN depleted INTEGER NOT NULL DEFAULT 0 CHECK (depleted IN (0, 1));

CREATE TABLE alert_events (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES iap_accounts (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('threshold', 'depleted', 'recovered')),
    -- The threshold crossed (minor units), for kind 'threshold'.
    threshold  INTEGER,
    -- Available credits after the change (minor units).
    available  INTEGER NOT NULL,
    -- Shown in the bell of the users who may see the account.
    in_app     INTEGER NOT NULL CHECK (in_app IN (0, 1)),
    created_at INTEGER NOT NULL,
    CHECK ((kind = 'threshold') = (threshold IS NOT NULL))
) STRICT;
CREATE INDEX alert_events_in_app ON alert_events (account_id, id) WHERE in_app;

-- The newest event each user has read: their unread ones are those above it.
CREATE TABLE alert_reads (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    read_up_to    INTEGER NOT NULL
) STRICT;

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    -- Signs every body (HMAC-SHA256); shown to administrators.
    secret     TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- The event's type ('credits.below_threshold', …) and its JSON body as signed and sent.
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    -- The receiver's last HTTP status, or why there was none.
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    done_at         INTEGER,
    CHECK ((state = 'pending') = (done_at IS NULL))
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
