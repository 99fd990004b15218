-- Pruning finds done operations oldest first without scanning the table.
CREATE INDEX operations_done_by_age ON operations (created_at, id) WHERE done;
-- And expired claims (idempotency keys, issued tokens).
CREATE INDEX claims_by_expiry ON claims (expires_at) WHERE expires_at IS NOT NULL;
