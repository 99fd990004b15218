-- Operations move to a rowid table, stored in the order they are written, with the id as a unique
-- key beside it. Keyed by their random ids, the rows (each holding a whole response) went to
-- random pages: every new operation read and rewrote a page somewhere in the table. Now each one
-- is appended to the last page, and only the small id index takes a random insert.
CREATE TABLE operations_by_arrival (
    id          TEXT    NOT NULL UNIQUE,
    resource_id TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    done        INTEGER NOT NULL,
    due_at      INTEGER,
    body        BLOB    NOT NULL
);
INSERT INTO operations_by_arrival (id, resource_id, created_at, done, due_at, body)
    SELECT id, resource_id, created_at, done, due_at, body FROM operations ORDER BY created_at, id;
DROP TABLE operations;
ALTER TABLE operations_by_arrival RENAME TO operations;
CREATE INDEX operations_by_resource ON operations (resource_id, created_at, id);
CREATE INDEX operations_pending ON operations (due_at) WHERE done = 0;
