-- The read state and mentions of the SQLite migration 0008, in
-- PostgreSQL's types.
CREATE TABLE room_reads (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    room_id BIGINT NOT NULL REFERENCES rooms (id),
    read_seq BIGINT NOT NULL DEFAULT 0,
    level TEXT CHECK (level IN ('all', 'mentions', 'none')),
    PRIMARY KEY (account_id, room_id)
);
CREATE INDEX room_reads_room ON room_reads (room_id);

CREATE TABLE mentions (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    room_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (account_id, room_id, seq)
);
CREATE INDEX mentions_message ON mentions (room_id, seq);
