-- Accounts, their signed-in sessions, and the tickets of invite, reset and
-- owner links. Passwords and tokens are stored only as hashes. Ids are
-- never reused (AUTOINCREMENT): a deleted session's id never names another.
--
-- `name_key` is the name's look-alike key (server/src/auth/names.rs): two
-- accounts never have names that look the same.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- One row per signed-in device, found by the SHA-256 of its cookie's token.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    device TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- What a link grants: `account_id` is a reset link's account. Spent by
-- lowering `uses_left`, never below 0.
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('invite', 'reset', 'owner')),
    token_hash TEXT NOT NULL UNIQUE,
    account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    uses_left INTEGER NOT NULL CHECK (uses_left >= 0),
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL
);
CREATE INDEX tickets_kind ON tickets (kind, expires_at);
