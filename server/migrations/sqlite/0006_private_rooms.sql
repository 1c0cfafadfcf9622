-- Private rooms and roles in rooms. Existing rooms stay public.
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
