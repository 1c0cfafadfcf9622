-- Read state. An account follows a room from its first join until it
-- leaves it (and always its direct conversations): one row here each,
-- with the number of the last message it read there (0: none yet) and
-- the notification level it chose (NULL: the room's default).
CREATE TABLE room_reads (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    read_seq INTEGER NOT NULL DEFAULT 0,
    level TEXT CHECK (level IN ('all', 'mentions', 'none')),
    PRIMARY KEY (account_id, room_id)
) WITHOUT ROWID;
CREATE INDEX room_reads_room ON room_reads (room_id);

-- Who each message mentions: a row per account named with `@name`, or
-- per follower for `@room`. An edit writes its message's rows anew; a
-- deletion removes them.
CREATE TABLE mentions (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, room_id, seq)
) WITHOUT ROWID;
CREATE INDEX mentions_message ON mentions (room_id, seq);
