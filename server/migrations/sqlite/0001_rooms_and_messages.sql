-- Rooms are created on first join and kept. `key` is the lower-cased name:
-- room names are unique ignoring case.
CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- One row per chat message. `seq` is the room's sequence number: the primary
-- key makes it unique per room and keeps a room's messages in `seq` order on
-- disk, so a page is one index range scan however long the history grows.
CREATE TABLE messages (
    room_id INTEGER NOT NULL REFERENCES rooms (id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    nick TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
