-- Replicas' runners LISTEN on netplane_operations: a pending operation written by any replica
-- (accepted, or rescheduled at start-up) wakes them all when its transaction commits. The payload
-- is empty so that PostgreSQL folds the notifications of one transaction into one.
CREATE FUNCTION netplane_operation_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('netplane_operations', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER operations_notify
    AFTER INSERT OR UPDATE OF due_at ON operations
    FOR EACH ROW WHEN (NOT NEW.done)
    EXECUTE FUNCTION netplane_operation_pending();
