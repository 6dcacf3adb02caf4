-- Foundation: database facts, companies, users, sessions, contacts and their chatter.
-- Never edit a migration after it lands; add a new one.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE companies (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128)
) STRICT;

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    login              TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(login) BETWEEN 1 AND 64),
    name               TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    is_admin           INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    default_company_id INTEGER NOT NULL REFERENCES companies (id)
) STRICT;

CREATE TABLE user_companies (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, company_id)
) STRICT, WITHOUT ROWID;

-- Server-side sessions. Only a SHA-256 of the cookie value is stored, so a leaked
-- database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash         TEXT PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    current_company_id INTEGER NOT NULL REFERENCES companies (id),
    -- JSON array of company ids whose records are shown.
    active_company_ids TEXT NOT NULL CHECK (json_valid(active_company_ids)),
    debug              INTEGER NOT NULL DEFAULT 0 CHECK (debug IN (0, 1)),
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    company_name     TEXT,
    email            TEXT,
    phone            TEXT,
    mobile           TEXT,
    country_code     TEXT CHECK (country_code IS NULL OR length(country_code) = 2),
    -- NULL: shared by every company.
    owner_company_id INTEGER REFERENCES companies (id),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now'))
) STRICT;
CREATE INDEX contacts_by_name ON contacts (name COLLATE NOCASE);

-- The chatter: what happened to a record, in order.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    model      TEXT NOT NULL,
    res_id     INTEGER NOT NULL,
    author_id  INTEGER REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now'))
) STRICT;
CREATE INDEX messages_by_record ON messages (model, res_id, id);
