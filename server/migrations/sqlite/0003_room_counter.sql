-- Each room keeps its newest sequence number. The writer bumps it in the
-- same transaction that inserts the messages, so numbers stay gap-free and
-- the row lock orders concurrent writers.
ALTER TABLE rooms ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET last_seq = COALESCE((SELECT MAX(seq) FROM messages WHERE room_id = rooms.id), 0);
