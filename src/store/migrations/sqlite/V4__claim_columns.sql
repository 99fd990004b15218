-- What was packed into a claim's owner moves to columns of its own, so that an owner is always
-- just an owner: `detail` (an idempotency key's request fingerprint, a low-water mark's address)
-- and `expires_at` (microseconds; idempotency keys and IAM tokens).
ALTER TABLE claims ADD COLUMN detail TEXT NOT NULL DEFAULT '';
ALTER TABLE claims ADD COLUMN expires_at INTEGER;

-- Idempotency keys: owner "<operation id> <fingerprint> <expiry>" (neither id nor fingerprint
-- holds a space). Every right-hand side reads the row as it was.
UPDATE claims SET
    owner = substr(owner, 1, instr(owner, ' ') - 1),
    detail = substr(substr(owner, instr(owner, ' ') + 1), 1, instr(substr(owner, instr(owner, ' ') + 1), ' ') - 1),
    expires_at = CAST(substr(substr(owner, instr(owner, ' ') + 1), instr(substr(owner, instr(owner, ' ') + 1), ' ') + 1) AS INTEGER)
WHERE scope = 'idempotency' AND instr(substr(owner, instr(owner, ' ') + 1), ' ') > 0;

-- IAM tokens: owner "<expiry> <subject>".
UPDATE claims SET
    owner = substr(owner, instr(owner, ' ') + 1),
    expires_at = CAST(substr(owner, 1, instr(owner, ' ') - 1) AS INTEGER)
WHERE scope = 'iam/tokens' AND instr(owner, ' ') > 0;

-- Low-water marks: owner was the address; now the allocator owns each mark.
UPDATE claims SET detail = owner, owner = 'netplane.allocator' WHERE scope LIKE '%#lowest' AND key = '';
