-- Runs once when a collection ends: merges staged facts into principals, removes excluded principals with the
-- grants that involve them, and describes every principal and Azure scope that grants name but nothing listed.
UPDATE principals SET
    last_sign_in = s.last_sign_in,
    last_non_interactive_sign_in = s.last_non_interactive_sign_in,
    last_successful_sign_in = s.last_successful_sign_in
FROM temp.sign_ins AS s
WHERE principals.id = s.id;

UPDATE principals SET mailbox_purpose = m.purpose
FROM temp.mailboxes AS m
WHERE principals.id = m.id;

DELETE FROM grants
WHERE principal_id IN (SELECT id FROM temp.excluded) OR target_id IN (SELECT id FROM temp.excluded);
DELETE FROM principals WHERE id IN (SELECT id FROM temp.excluded);

INSERT OR IGNORE INTO principals (id, kind, origin)
SELECT DISTINCT principal_id, 'unknown', 'unresolved'
FROM grants
WHERE principal_id NOT IN (SELECT id FROM principals);

-- Azure scopes that hold assignments but were not listed as resources (a virtual machine, a key vault, …).
INSERT OR IGNORE INTO resources (id, kind, name, arm_id)
SELECT DISTINCT g.target_id, 'other', replace(g.target_id, rtrim(g.target_id, replace(g.target_id, '/', '')), ''), g.target_id
FROM grants AS g
WHERE g.relation = 'azure_role' AND g.target_id NOT IN (SELECT id FROM resources);

DELETE FROM temp.sign_ins;
DELETE FROM temp.mailboxes;
DELETE FROM temp.excluded;
