-- Issue 17: an administrator may reverse a capture (once, wholly or partly) and refund a paid
-- order (once). Each is a ledger entry linked to what it undoes: `reverses` names the capture
-- entry, `order_id` the refunded order. SQLite cannot widen a CHECK constraint, so the
-- ledger is copied into a table that allows the new kinds and links (same ids, same rows).
CREATE TABLE ledger_entries_next (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES iap_accounts (id),
    kind        TEXT NOT NULL CHECK (kind IN ('trial', 'purchase', 'hold', 'capture', 'release',
                                              'expiry', 'adjustment', 'reversal', 'refund')),
    -- Change to the balance and to the held amount.
    amount      INTEGER NOT NULL,
    held_delta  INTEGER NOT NULL,
    hold_id     INTEGER REFERENCES holds (id),
    description TEXT NOT NULL,
    created_by  INTEGER REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    note        TEXT,
    reverses    INTEGER REFERENCES ledger_entries_next (id),
    order_id    INTEGER REFERENCES orders (id),
    CHECK ((kind = 'reversal') = (reverses IS NOT NULL)),
    CHECK (kind <> 'reversal' OR (amount > 0 AND held_delta = 0)),
    CHECK (kind <> 'refund' OR (order_id IS NOT NULL AND amount < 0))
) STRICT;

INSERT INTO ledger_entries_next (id, account_id, kind, amount, held_delta, hold_id, description,
                                 created_by, created_at, note)
SELECT id, account_id, kind, amount, held_delta, hold_id, description, created_by, created_at, note
FROM ledger_entries;

DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_next RENAME TO ledger_entries;

CREATE INDEX ledger_by_account_time ON ledger_entries (account_id, created_at);
-- A capture is reversed at most once, an order refunded at most once: the writer answers a
-- repeat with the first, and these stop anything that would slip past it.
CREATE UNIQUE INDEX ledger_reversed_once ON ledger_entries (reverses) WHERE reverses IS NOT NULL;
CREATE UNIQUE INDEX ledger_refunded_once ON ledger_entries (order_id) WHERE kind = 'refund';

CREATE TRIGGER ledger_entries_are_never_updated BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_are_never_deleted BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
