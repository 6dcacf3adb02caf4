-- Issue 18: the database arbitrates the ledger, so several writers (processes, or nodes on
-- PostgreSQL) may share one database. Every ledger batch bumps `version` first: that write
-- serialises the batches of every writer, and tells a writer whether another one wrote
-- since its own last batch. The rows a batch writes carry its version, so a writer that
-- fell behind reloads only what changed. `alerts_version` is the last batch that changed
-- what decides alerts (Warn Me, thresholds, depletion, auto-recharge).
CREATE TABLE ledger_sync (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    version        INTEGER NOT NULL CHECK (version >= 0),
    alerts_version INTEGER NOT NULL CHECK (alerts_version BETWEEN 0 AND version)
) STRICT;
INSERT INTO ledger_sync (id, version, alerts_version) VALUES (1, 0, 0);

ALTER TABLE iap_accounts ADD COLUMN ledger_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE holds ADD COLUMN ledger_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX iap_accounts_by_version ON iap_accounts (ledger_version);
CREATE INDEX holds_by_version ON holds (ledger_version);
