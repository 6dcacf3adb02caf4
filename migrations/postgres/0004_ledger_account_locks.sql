-- Issue 18: ledger batches of several nodes on different accounts commit at the same time.
--
-- Until now every batch took the `ledger_sync` row first, so batches ran one at a time
-- across all nodes. Now a batch of holds, captures, cancels and extensions (the traffic of
-- the IAP API) locks only what it touches, in one fixed order so that two batches never
-- wait on each other in a circle:
--   1. the ledger lock, shared (advisory: 0x1a9d0002);
--   2. one advisory lock per idempotency key it places a hold under (class 0x1a9d);
--   3. its accounts' rows, by id.
-- Every other batch (payments, refunds, SMS, account and alert settings, the periodic
-- sweep) takes the ledger lock exclusively, so it runs alone, as every batch did before.
--
-- Every batch stamps the accounts and holds it writes with a number from `ledger_stamp`.
-- A writer remembers the stamp of each account as its book knows it; when it locks an
-- account whose stamp moved, another writer changed it, and it reloads that account and its
-- open holds. An exclusive batch runs alone: every batch that took a smaller stamp has
-- finished, so it reloads the accounts stamped after its writer's last exclusive batch.
-- Hold ids come in blocks of 4,096 per writer (`hold_id_block`), since writers now place
-- holds at the same time. `alerts_version` counts the batches that changed what decides
-- alerts; it no longer follows `version`, which PostgreSQL no longer has.
CREATE SEQUENCE ledger_stamp;
SELECT setval('ledger_stamp', (SELECT version FROM ledger_sync WHERE id = 1) + 1, false);
CREATE SEQUENCE hold_id_block;
SELECT setval('hold_id_block', (SELECT COALESCE(MAX(id), 0) / 4096 + 1 FROM holds), false);
ALTER TABLE ledger_sync DROP CONSTRAINT ledger_sync_check;
ALTER TABLE ledger_sync ADD CHECK (alerts_version >= 0);
-- Nodes of an older version open every batch by bumping `version`: without it, their
-- batches fail and change nothing, rather than arbitrate by another protocol.
ALTER TABLE ledger_sync DROP COLUMN version;

-- Holds are reloaded by account now, not by stamp.
DROP INDEX holds_by_version;
CREATE INDEX holds_open_by_account ON holds (account_id) WHERE state = 'open';

-- An account as a writer loads it: its figures, its stamp, its companies as a JSON array.
CREATE VIEW ledger_account_rows AS
SELECT a.id, a.service, a.token, a.balance, a.held, a.ledger_version,
       '[' || COALESCE((SELECT string_agg(CAST(company_id AS TEXT), ',')
                        FROM iap_account_companies WHERE account_id = a.id), '')
           || ']' AS companies
FROM iap_accounts a;

-- An open hold as a writer loads it.
CREATE VIEW ledger_open_holds AS
SELECT id, account_id, amount, captured, expires_at, token, description, note,
       created_at, idempotency_key, request_hash
FROM holds WHERE state = 'open';

DROP FUNCTION ledger_open_batch(BIGINT);

-- Opens a batch that touches only some accounts, in one round trip: takes the locks above
-- (`keys`: a JSON array of idempotency keys; `known`: [[account id, stamp the writer
-- knows], …], -1 for an account it does not know; `tokens`: [[hold id, token], …] of holds
-- the writer does not know, whose accounts are locked too), then takes the batch's stamp
-- and returns the locked accounts whose stamp is not the writer's, with their open holds.
CREATE FUNCTION ledger_open_shared(known TEXT, tokens TEXT, keys TEXT,
                                   OUT batch_stamp BIGINT,
                                   OUT batch_alerts_version BIGINT,
                                   OUT stale_accounts TEXT,
                                   OUT stale_holds TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    key_hash INTEGER;
    known_ids BIGINT[];
    known_stamps BIGINT[];
    locked BIGINT[];
    stale BIGINT[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(446496770);
    FOR key_hash IN
        SELECT DISTINCT hashtext(k.value) AS h FROM json_array_elements_text(keys::json) AS k
        ORDER BY h
    LOOP
        PERFORM pg_advisory_xact_lock(6813, key_hash);
    END LOOP;
    SELECT COALESCE(array_agg(CAST(k.value ->> 0 AS BIGINT)), '{}'),
           COALESCE(array_agg(CAST(k.value ->> 1 AS BIGINT)), '{}')
        INTO known_ids, known_stamps
    FROM json_array_elements(known::json) AS k;
    SELECT COALESCE(array_agg(w.id ORDER BY w.id), '{}') INTO locked FROM (
        SELECT unnest(known_ids) AS id
        UNION
        SELECT h.account_id FROM json_array_elements(tokens::json) AS t
        JOIN holds h ON h.id = CAST(t.value ->> 0 AS BIGINT) AND h.token = t.value ->> 1
    ) AS w;
    PERFORM 1 FROM iap_accounts WHERE id = ANY (locked) ORDER BY id FOR NO KEY UPDATE;
    -- Statements from here on see every batch that held these rows before.
    batch_stamp := nextval('ledger_stamp');
    SELECT alerts_version INTO batch_alerts_version FROM ledger_sync WHERE id = 1;
    SELECT COALESCE(array_agg(a.id), '{}') INTO stale
    FROM iap_accounts a
    LEFT JOIN unnest(known_ids, known_stamps) AS mine(id, stamp) ON mine.id = a.id
    WHERE a.id = ANY (locked) AND a.ledger_version IS DISTINCT FROM mine.stamp;
    SELECT COALESCE(json_agg(r), '[]')::TEXT INTO stale_accounts
    FROM ledger_account_rows r WHERE r.id = ANY (stale);
    SELECT COALESCE(json_agg(h), '[]')::TEXT INTO stale_holds
    FROM ledger_open_holds h WHERE h.account_id = ANY (stale);
END;
$$;

-- Opens a batch that runs alone: takes the ledger lock exclusively (every batch of every
-- writer that started before has then finished), takes the batch's stamp, and returns the
-- accounts stamped after `since`.
CREATE FUNCTION ledger_open_exclusive(since BIGINT,
                                      OUT batch_stamp BIGINT,
                                      OUT batch_alerts_version BIGINT,
                                      OUT changed_accounts TEXT)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(446496770);
    batch_stamp := nextval('ledger_stamp');
    SELECT alerts_version INTO batch_alerts_version FROM ledger_sync WHERE id = 1;
    SELECT COALESCE(json_agg(r), '[]')::TEXT INTO changed_accounts
    FROM ledger_account_rows r WHERE r.ledger_version > since;
END;
$$;
