-- Issue 18: a ledger batch holds the `ledger_sync` row from its first statement to its
-- commit, so every round trip inside it delays every other node's batch. This function
-- opens a batch in one round trip: it takes the next version (waiting for any other
-- writer's batch to commit) and then reads what other writers changed since `since`, the
-- caller's last batch. Each statement of a PL/pgSQL function takes its own snapshot under
-- READ COMMITTED, so the reads see the batch the update waited for. The rows come back as
-- JSON text, in the columns of the writer's own reads (the same on SQLite, which runs the
-- steps one by one, in process).
CREATE FUNCTION ledger_open_batch(since BIGINT,
                                  OUT batch_version BIGINT,
                                  OUT batch_alerts_version BIGINT,
                                  OUT changed_accounts TEXT,
                                  OUT changed_holds TEXT)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_sync SET version = ledger_sync.version + 1 WHERE id = 1
        RETURNING ledger_sync.version, ledger_sync.alerts_version
        INTO batch_version, batch_alerts_version;
    IF batch_version = since + 1 THEN
        changed_accounts := '[]';
        changed_holds := '[]';
        RETURN;
    END IF;
    SELECT COALESCE(json_agg(a), '[]')::TEXT INTO changed_accounts
    FROM (SELECT c.id, c.service, c.token, c.balance, c.held,
                 '[' || COALESCE((SELECT string_agg(CAST(company_id AS TEXT), ',')
                                  FROM iap_account_companies WHERE account_id = c.id), '')
                     || ']' AS companies
          FROM iap_accounts c WHERE c.ledger_version > since) a;
    SELECT COALESCE(json_agg(h), '[]')::TEXT INTO changed_holds
    FROM (SELECT id, account_id, amount, state, captured, expires_at, token, description,
                 note, created_at, idempotency_key, request_hash
          FROM holds WHERE ledger_version > since) h;
END;
$$;
