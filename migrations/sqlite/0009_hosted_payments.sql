-- Hosted payment providers (Stripe Checkout): the provider's webhook events, kept as rows
-- before they are acted on, and when an order started paying.

-- Each event a provider delivered. Stored first (a replay finds its row), acted on, then
-- marked processed; `outcome` says what it did. Times in Unix milliseconds.
CREATE TABLE payment_events (
    id           INTEGER PRIMARY KEY,
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
    kind         TEXT NOT NULL,
    order_id     INTEGER REFERENCES orders (id),
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    outcome      TEXT,
    UNIQUE (provider, event_id)
) STRICT;

-- When the order went pending: the reconciler reads back payments pending too long, and
-- Settings -> Orders shows their age. NULL for orders that never started paying.
ALTER TABLE orders ADD COLUMN pending_since INTEGER;
CREATE INDEX orders_pending ON orders (provider, pending_since) WHERE state = 'pending';
