-- diff: principals in both snapshots whose reviewed properties differ. Sign-in times are left out: they change
-- all the time and are not access. Columns come in old/new pairs after the id and name.
SELECT n.id, coalesce(n.display_name, n.user_principal_name, n.id), n.kind,
    o.kind, n.kind,
    o.display_name, n.display_name,
    o.user_principal_name, n.user_principal_name,
    o.user_type, n.user_type,
    o.account_enabled, n.account_enabled,
    o.on_premises_sync, n.on_premises_sync,
    o.mailbox_purpose, n.mailbox_purpose,
    o.security_enabled, n.security_enabled,
    o.group_types, n.group_types,
    o.membership_rule, n.membership_rule,
    o.is_assignable_to_role, n.is_assignable_to_role,
    o.service_principal_type, n.service_principal_type,
    o.managed_identity_type, n.managed_identity_type
FROM main.principals o JOIN new.principals n ON n.id = o.id
WHERE o.kind IS NOT n.kind OR o.display_name IS NOT n.display_name OR o.user_principal_name IS NOT n.user_principal_name
   OR o.user_type IS NOT n.user_type OR o.account_enabled IS NOT n.account_enabled
   OR o.on_premises_sync IS NOT n.on_premises_sync OR o.mailbox_purpose IS NOT n.mailbox_purpose
   OR o.security_enabled IS NOT n.security_enabled OR o.group_types IS NOT n.group_types
   OR o.membership_rule IS NOT n.membership_rule OR o.is_assignable_to_role IS NOT n.is_assignable_to_role
   OR o.service_principal_type IS NOT n.service_principal_type OR o.managed_identity_type IS NOT n.managed_identity_type
ORDER BY n.id
