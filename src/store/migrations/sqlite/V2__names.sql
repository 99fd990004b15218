-- Lists filtered by name (`name="…"`, the filter clients use most) find their rows directly.
CREATE INDEX resources_by_name ON resources (kind, folder_id, name, id);
