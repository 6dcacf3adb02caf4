-- One clock unit everywhere: Unix milliseconds in INTEGER columns. Sessions counted
-- seconds, and contacts and the chatter kept TEXT timestamps; 0001 is never edited, so they
-- are converted here.

UPDATE sessions SET created_at = created_at * 1000, expires_at = expires_at * 1000;

ALTER TABLE contacts ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;
UPDATE contacts SET created_ms = CAST(strftime('%s', created_at) AS INTEGER) * 1000,
                    updated_ms = CAST(strftime('%s', updated_at) AS INTEGER) * 1000;
ALTER TABLE contacts DROP COLUMN created_at;
ALTER TABLE contacts DROP COLUMN updated_at;
ALTER TABLE contacts RENAME COLUMN created_ms TO created_at;
ALTER TABLE contacts RENAME COLUMN updated_ms TO updated_at;

ALTER TABLE messages ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET created_ms = CAST(strftime('%s', created_at) AS INTEGER) * 1000;
ALTER TABLE messages DROP COLUMN created_at;
ALTER TABLE messages RENAME COLUMN created_ms TO created_at;
