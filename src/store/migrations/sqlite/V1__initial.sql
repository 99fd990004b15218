-- Resources: index columns for lists, the domain value as a JSON body.
CREATE TABLE resources (
    kind        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    folder_id   TEXT    NOT NULL,
    parent_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    zone_id     TEXT    NOT NULL,
    platform_id TEXT    NOT NULL,
    body        BLOB    NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX resources_by_folder ON resources (kind, folder_id, id);
CREATE INDEX resources_by_parent ON resources (kind, parent_id, id);

-- Uniqueness that must hold in the database: one owner per (scope, key).
CREATE TABLE claims (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX claims_by_owner ON claims (owner, scope, key);

-- Operations are rows; the runner finishes the pending ones, also after a restart.
CREATE TABLE operations (
    id          TEXT    NOT NULL PRIMARY KEY,
    resource_id TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    done        INTEGER NOT NULL,
    due_at      INTEGER,
    body        BLOB    NOT NULL
) WITHOUT ROWID;
CREATE INDEX operations_by_resource ON operations (resource_id, created_at, id);
CREATE INDEX operations_pending ON operations (due_at) WHERE done = 0;
