-- The probe's scratch table: the writer inserts a row and deletes it in one
-- committed transaction to learn whether the database takes a write (see
-- server/src/store/write.rs). It is always empty.
CREATE TABLE storage_probe (
    id INTEGER PRIMARY KEY,
    filler BLOB NOT NULL
);
