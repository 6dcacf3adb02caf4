-- Sessions end after a day without activity, not only a week after sign-in: when each was
-- last seen, in Unix milliseconds (sessions created before this count from now).

ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
