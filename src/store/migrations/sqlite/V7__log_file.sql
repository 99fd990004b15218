-- The resident store's log moved to a file of its own beside this one (`store::log_file`). This
-- row says how far that log is folded into the tables here (`upto`, its newest folded change), and
-- which store the log file belongs to (`store_id`, written into the log file when it is created),
-- so that a log left beside a replaced file is never folded into it.
CREATE TABLE folded (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    upto     INTEGER NOT NULL,
    store_id TEXT    NOT NULL
);
INSERT INTO folded (one, upto, store_id) VALUES (1, 0, lower(hex(randomblob(16))));
