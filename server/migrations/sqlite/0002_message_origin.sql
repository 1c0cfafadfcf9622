-- Who sent a message, as the client identifies it: its device and its own
-- id for the message. A message retried with the same id from the same
-- device is recognised by this unique index and stored only once.
ALTER TABLE messages ADD COLUMN device TEXT;
ALTER TABLE messages ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX messages_origin ON messages (device, client_id)
    WHERE client_id IS NOT NULL;
