-- Issue 17: auto-recharge. When an account's available credits fall below its threshold,
-- one order for its pack is placed and charged to the saved card, within a monthly cap.
CREATE TABLE auto_recharges (
    account_id      INTEGER PRIMARY KEY REFERENCES iap_accounts (id) ON DELETE CASCADE,
    -- Minor units of credits; 0 is off (Odoo's convention).
    threshold       INTEGER NOT NULL DEFAULT 0 CHECK (threshold >= 0),
    pack_id         INTEGER REFERENCES packs (id),
    -- Cents of the pack's currency spent at most per calendar month (UTC).
    monthly_cap     INTEGER CHECK (monthly_cap IS NULL OR monthly_cap > 0),
    -- The saved card: its provider, what customers see of it, and how to charge it
    -- (the Demo provider's outcome class, or Stripe's customer and payment method).
    card_provider   TEXT CHECK (card_provider IS NULL OR card_provider IN ('demo', 'stripe')),
    card_brand      TEXT,
    card_last4      TEXT CHECK (card_last4 IS NULL OR length(card_last4) = 4),
    demo_card       TEXT CHECK (demo_card IS NULL OR demo_card IN ('approves', 'declines', 'insufficient_funds')),
    stripe_customer TEXT,
    stripe_payment_method TEXT,
    -- Who saved the card: the buyer of the orders it pays.
    card_saved_by   INTEGER REFERENCES users (id),
    state           TEXT NOT NULL DEFAULT 'idle'
                    CHECK (state IN ('idle', 'due', 'retrying', 'gave_up', 'capped')),
    -- Declines in a row of the current crossing.
    declines        INTEGER NOT NULL DEFAULT 0 CHECK (declines >= 0),
    next_attempt_at INTEGER,
    -- The order being charged now, if any.
    order_id        INTEGER REFERENCES orders (id),
    -- Why the last attempt failed, as customers are told.
    last_error      TEXT,
    updated_at      INTEGER NOT NULL,
    CHECK (card_provider IS NULL OR (card_brand IS NOT NULL AND card_last4 IS NOT NULL AND card_saved_by IS NOT NULL)),
    CHECK (card_provider IS NOT 'demo' OR demo_card IS NOT NULL),
    CHECK (card_provider IS NOT 'stripe' OR (stripe_customer IS NOT NULL AND stripe_payment_method IS NOT NULL)),
    CHECK (state NOT IN ('due', 'retrying') OR next_attempt_at IS NOT NULL)
) STRICT;
CREATE INDEX auto_recharges_due ON auto_recharges (next_attempt_at) WHERE state IN ('due', 'retrying');

-- Orders auto-recharge placed: they count against the monthly cap, and the payment
-- reconciler leaves them to the auto-recharge worker.
ALTER TABLE orders ADD COLUMN auto_recharge INTEGER NOT NULL DEFAULT 0 CHECK (auto_recharge IN (0, 1));
CREATE INDEX orders_auto_recharge ON orders (account_id, created_at) WHERE auto_recharge;

-- A failed auto-recharge (declined, given up, or stopped by the cap) goes to the bell and to
-- webhooks like the other alerts: the kinds' CHECK gains 'recharge_failed'. SQLite cannot
-- change a CHECK in place, so the table is rebuilt with its rows and ids.
CREATE TABLE alert_events_new (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES iap_accounts (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('threshold', 'depleted', 'recovered', 'recharge_failed')),
    threshold  INTEGER,
    available  INTEGER NOT NULL,
    in_app     INTEGER NOT NULL CHECK (in_app IN (0, 1)),
    created_at INTEGER NOT NULL,
    CHECK ((kind = 'threshold') = (threshold IS NOT NULL))
) STRICT;
INSERT INTO alert_events_new (id, account_id, kind, threshold, available, in_app, created_at)
    SELECT id, account_id, kind, threshold, available, in_app, created_at FROM alert_events;
DROP TABLE alert_events;
ALTER TABLE alert_events_new RENAME TO alert_events;
CREATE INDEX alert_events_in_app ON alert_events (account_id, id) WHERE in_app;
