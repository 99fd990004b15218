-- The resident store's log (`store::change_log`): one row per committed write transaction, its
-- changed rows as they now are, appended in the order they were made and folded into the tables
-- above in the background (and at every open).
CREATE TABLE change_log (
    seq     INTEGER PRIMARY KEY,
    changes BLOB    NOT NULL
);
