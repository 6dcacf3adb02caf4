-- Low-credit warning mails are capped at one per account per hour. The ledger writer reads
-- each account's latest warning mail when it loads its book; this index answers that.
CREATE INDEX mail_outbox_account ON mail_outbox (account_id, created_at)
    WHERE account_id IS NOT NULL;
