-- What was packed into a claim's owner moves to columns of its own (as SQLite's V4): `detail`
-- and `expires_at` (microseconds).
ALTER TABLE claims ADD COLUMN detail TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE claims ADD COLUMN expires_at BIGINT;

-- Idempotency keys: owner "<operation id> <fingerprint> <expiry>".
UPDATE claims SET
    owner = split_part(owner, ' ', 1),
    detail = split_part(owner, ' ', 2),
    expires_at = CAST(split_part(owner, ' ', 3) AS BIGINT)
WHERE scope = 'idempotency' AND split_part(owner, ' ', 3) <> '';

-- IAM tokens: owner "<expiry> <subject>".
UPDATE claims SET
    owner = substr(owner, strpos(owner, ' ') + 1),
    expires_at = CAST(split_part(owner, ' ', 1) AS BIGINT)
WHERE scope = 'iam/tokens' AND strpos(owner, ' ') > 0;

-- Low-water marks: owner was the address; now the allocator owns each mark.
UPDATE claims SET detail = owner, owner = 'netplane.allocator' WHERE scope LIKE '%#lowest' AND key = '';
