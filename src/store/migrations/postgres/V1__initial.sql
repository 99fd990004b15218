-- The same tables as the SQLite store. Text compares byte-wise (COLLATE "C") so lists order
-- exactly as on SQLite; uniqueness rests on primary keys, so it holds across replicas.
CREATE TABLE resources (
    kind        TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    folder_id   TEXT COLLATE "C" NOT NULL,
    parent_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    zone_id     TEXT COLLATE "C" NOT NULL,
    platform_id TEXT COLLATE "C" NOT NULL,
    body        BYTEA  NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX resources_by_folder ON resources (kind, folder_id, id);
CREATE INDEX resources_by_parent ON resources (kind, parent_id, id);
CREATE INDEX resources_by_name ON resources (kind, folder_id, name, id);

CREATE TABLE claims (
    scope TEXT COLLATE "C" NOT NULL,
    key   TEXT COLLATE "C" NOT NULL,
    owner TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX claims_by_owner ON claims (owner, scope, key);

CREATE TABLE operations (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    resource_id TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT  NOT NULL,
    done        BOOLEAN NOT NULL,
    due_at      BIGINT,
    body        BYTEA   NOT NULL
);
CREATE INDEX operations_by_resource ON operations (resource_id, created_at, id);
CREATE INDEX operations_pending ON operations (due_at) WHERE NOT done;
