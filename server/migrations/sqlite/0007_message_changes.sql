-- Edits, deletions and reactions. A change is a row of `messages` of its own, numbered
-- in its room like a message (`kind` 1 edits, 2 deletes the message
-- numbered `target`); the message itself is changed in place. A change row
-- keeps no text: an edit's text is the message's.
--
-- `author` is the account that said the message, if one did: who may
-- change it. `edited_at` is when its text was last replaced; `deleted`
-- marks a message whose text is erased (`text` is then empty).
ALTER TABLE messages ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN target INTEGER;
ALTER TABLE messages ADD COLUMN author INTEGER;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

-- The texts an edit replaced, keyed by the number of the edit that
-- replaced each; a deletion removes them all.
CREATE TABLE message_versions (
    room_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    replaced_by INTEGER NOT NULL,
    at INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (room_id, seq, replaced_by)
) WITHOUT ROWID;

-- Reactions: one row per account, message and emoji. A change row of
-- kind 3 made one, of kind 4 took one back; its `text` is the emoji.
-- `made` is the number of the change that made it: reactions show in the
-- order they were first made.
CREATE TABLE reactions (
    room_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    emoji TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    made INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq, emoji, account_id)
) WITHOUT ROWID;
