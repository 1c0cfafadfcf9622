-- The private rooms and room roles of the SQLite migration 0006, in
-- PostgreSQL's types. Existing rooms stay public.
ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;

CREATE TABLE room_members (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'moderator', 'member')),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, account_id)
);
CREATE INDEX room_members_account ON room_members (account_id);
