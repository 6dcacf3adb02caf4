-- The pack store: packs on sale per service (data, so an operator can change them without a
-- rebuild) and orders. Credits in 1/10,000, prices in cents of `currency`.

CREATE TABLE packs (
    id       INTEGER PRIMARY KEY,
    service  TEXT NOT NULL REFERENCES services (technical_name),
    name     TEXT NOT NULL,
    credits  INTEGER NOT NULL CHECK (credits > 0),
    price    INTEGER NOT NULL CHECK (price > 0),
    currency TEXT NOT NULL DEFAULT 'EUR' CHECK (length(currency) = 3),
    active   INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
) STRICT;
CREATE INDEX packs_by_service ON packs (service, credits);

INSERT INTO packs (service, name, credits, price) VALUES
    ('sms', 'Starter Pack', 100000, 1000),
    ('sms', 'Standard Pack', 1000000, 9000),
    ('sms', 'Advanced Pack', 5000000, 40000),
    ('sms', 'Expert Pack', 10000000, 75000),
    ('invoice_ocr', 'Starter Pack', 1000000, 1000),
    ('invoice_ocr', 'Standard Pack', 5000000, 4500),
    ('invoice_ocr', 'Advanced Pack', 10000000, 8000),
    ('invoice_ocr', 'Expert Pack', 50000000, 35000),
    ('partner_autocomplete', 'Starter Pack', 1000000, 1000),
    ('partner_autocomplete', 'Standard Pack', 5000000, 4000),
    ('partner_autocomplete', 'Advanced Pack', 10000000, 7000),
    ('partner_autocomplete', 'Expert Pack', 50000000, 30000),
    ('reveal', 'Starter Pack', 1000000, 1500),
    ('reveal', 'Standard Pack', 2500000, 3500),
    ('reveal', 'Advanced Pack', 5000000, 6500),
    ('reveal', 'Expert Pack', 10000000, 12000),
    ('snailmail', 'Starter Pack', 100000, 1500),
    ('snailmail', 'Standard Pack', 500000, 7000),
    ('snailmail', 'Advanced Pack', 1000000, 13000),
    ('snailmail', 'Expert Pack', 5000000, 60000),
    ('itsme', 'Starter Pack', 100000, 1000),
    ('itsme', 'Standard Pack', 500000, 4500),
    ('itsme', 'Advanced Pack', 1000000, 8500),
    ('itsme', 'Expert Pack', 5000000, 40000);

-- draft → pending → paid, or → failed. The provider's reference credits an order once.
CREATE TABLE orders (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER NOT NULL REFERENCES iap_accounts (id),
    pack_id            INTEGER NOT NULL REFERENCES packs (id),
    -- Copied from the pack when ordered: later price changes do not touch the order.
    pack_name          TEXT NOT NULL,
    credits            INTEGER NOT NULL CHECK (credits > 0),
    amount             INTEGER NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    state              TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'pending', 'paid', 'failed')),
    provider           TEXT,
    provider_reference TEXT,
    card_brand         TEXT,
    card_last4         TEXT CHECK (card_last4 IS NULL OR length(card_last4) = 4),
    failure_reason     TEXT,
    created_by         INTEGER NOT NULL REFERENCES users (id),
    created_at         INTEGER NOT NULL,
    paid_at            INTEGER,
    UNIQUE (provider, provider_reference)
) STRICT;
CREATE INDEX orders_by_account ON orders (account_id, id);
