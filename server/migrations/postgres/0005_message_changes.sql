-- The edits, deletions and reactions of the SQLite migration 0007, in PostgreSQL's
-- types.
ALTER TABLE messages ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN target BIGINT;
ALTER TABLE messages ADD COLUMN author BIGINT;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

CREATE TABLE message_versions (
    room_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    replaced_by BIGINT NOT NULL,
    at BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (room_id, seq, replaced_by)
);

CREATE TABLE reactions (
    room_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    emoji TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    made BIGINT NOT NULL,
    PRIMARY KEY (room_id, seq, emoji, account_id)
);
