-- Users for a real business: an administrator creates them, deactivates them (they keep
-- their history and cannot log in), and sees when they last logged in. Times in Unix ms.

ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE users ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
-- NULL: never logged in.
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
-- The best known time for the users that exist: now.
UPDATE users SET created_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000,
                 updated_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;

-- Deactivating a user or changing a password ends that user's sessions.
CREATE INDEX sessions_by_user ON sessions (user_id);

-- The login page shows the demo logins only on a demo database, which the demo seed marks
-- with this setting. Until now only the demo seed created users, so a database that has
-- its users is a demo one.
INSERT OR IGNORE INTO settings (key, value)
SELECT 'demo_data', 'true'
WHERE EXISTS (SELECT 1 FROM users WHERE login = 'admin' AND name = 'Mitchell Admin')
  AND EXISTS (SELECT 1 FROM users WHERE login = 'demo' AND name = 'Marc Demo');
