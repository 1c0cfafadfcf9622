-- Private rooms, roles in rooms, room invite links and passkeys. Existing
-- rooms stay public.
--
-- `room_members` holds, for a private room, everyone who may see it; for a
-- public room, only those with a role beyond being there (its owner and
-- moderators).
ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;

CREATE TABLE room_members (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'moderator', 'member')),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, account_id)
);
CREATE INDEX room_members_account ON room_members (account_id);

-- Links that make whoever opens them (signed in) a member of a private
-- room; found by the SHA-256 of their token, spent by lowering
-- `uses_left`, never below 0.
CREATE TABLE room_invites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    uses_left INTEGER NOT NULL CHECK (uses_left >= 0),
    expires_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);

-- Passkeys: each account's WebAuthn credentials, found by their id
-- (base64url); `passkey` is the credential as the WebAuthn library keeps
-- it (its public key and counter, no secret).
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    passkey TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used INTEGER
);
CREATE INDEX passkeys_account ON passkeys (account_id);

-- A passkey ceremony in progress, on whichever node finishes it: found by
-- the SHA-256 of the token its page holds, used once, short-lived.
CREATE TABLE passkey_ceremonies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('register', 'sign_in')),
    account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);
