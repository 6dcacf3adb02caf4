-- The service API: each service's provider key (only its SHA-256 is kept; the key itself is
-- shown once) and the database's hosting type. Third-party services are the catalogue rows
-- with first_party = 0 (see 0002).

-- Hex SHA-256 of the service's secret key; NULL until an operator creates one.
ALTER TABLE services ADD COLUMN key_hash TEXT CHECK (key_hash IS NULL OR length(key_hash) = 64);
CREATE UNIQUE INDEX services_by_key_hash ON services (key_hash) WHERE key_hash IS NOT NULL;

-- "Online" databases offer only first-party services; "Odoo.sh" and "On-premise" all of them.
INSERT INTO settings (key, value) VALUES ('hosting_type', 'On-premise')
    ON CONFLICT (key) DO NOTHING;
