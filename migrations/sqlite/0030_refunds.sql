-- Issue 17: refunds of paid orders. The order's credits leave the account in the transaction
-- that records the refund (a `refund` ledger entry with the order's id), so they cannot be
-- spent while the money goes back; the payment is then returned through the order's
-- provider, retried until the provider answers. One refund per order.
CREATE TABLE refunds (
    order_id           INTEGER PRIMARY KEY REFERENCES orders (id),
    state              TEXT NOT NULL CHECK (state IN ('pending', 'refunded', 'failed')),
    reason             TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 256),
    -- The order's provider, and the provider's id for the refund once it answered.
    provider           TEXT NOT NULL,
    provider_reference TEXT,
    -- Why the last attempt did not finish (retried), or why the provider refused (failed).
    failure_reason     TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at    INTEGER NOT NULL,
    created_by         INTEGER NOT NULL REFERENCES users (id),
    created_at         INTEGER NOT NULL,
    done_at            INTEGER,
    CHECK ((state = 'pending') = (done_at IS NULL))
) STRICT;
CREATE INDEX refunds_due ON refunds (next_attempt_at) WHERE state = 'pending';
