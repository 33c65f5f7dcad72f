-- diff: principals in both snapshots whose reviewed properties differ. Sign-in times are left out: they change
-- all the time and are not access. Each compared field is a pair of columns, "old:<field>" and "new:<field>".
SELECT n.id AS key, coalesce(n.display_name, n.user_principal_name, n.id) AS name, n.kind AS object_kind,
    o.kind AS "old:kind", n.kind AS "new:kind",
    o.display_name AS "old:displayName", n.display_name AS "new:displayName",
    o.user_principal_name AS "old:userPrincipalName", n.user_principal_name AS "new:userPrincipalName",
    o.user_type AS "old:userType", n.user_type AS "new:userType",
    o.account_enabled AS "old:accountEnabled", n.account_enabled AS "new:accountEnabled",
    o.on_premises_sync AS "old:onPremisesSync", n.on_premises_sync AS "new:onPremisesSync",
    o.mailbox_purpose AS "old:mailboxPurpose", n.mailbox_purpose AS "new:mailboxPurpose",
    o.security_enabled AS "old:securityEnabled", n.security_enabled AS "new:securityEnabled",
    o.group_types AS "old:groupTypes", n.group_types AS "new:groupTypes",
    o.membership_rule AS "old:membershipRule", n.membership_rule AS "new:membershipRule",
    o.is_assignable_to_role AS "old:isAssignableToRole", n.is_assignable_to_role AS "new:isAssignableToRole",
    o.service_principal_type AS "old:servicePrincipalType", n.service_principal_type AS "new:servicePrincipalType",
    o.managed_identity_type AS "old:managedIdentityType", n.managed_identity_type AS "new:managedIdentityType"
FROM main.principals o JOIN new.principals n ON n.id = o.id
WHERE o.kind IS NOT n.kind OR o.display_name IS NOT n.display_name OR o.user_principal_name IS NOT n.user_principal_name
   OR o.user_type IS NOT n.user_type OR o.account_enabled IS NOT n.account_enabled
   OR o.on_premises_sync IS NOT n.on_premises_sync OR o.mailbox_purpose IS NOT n.mailbox_purpose
   OR o.security_enabled IS NOT n.security_enabled OR o.group_types IS NOT n.group_types
   OR o.membership_rule IS NOT n.membership_rule OR o.is_assignable_to_role IS NOT n.is_assignable_to_role
   OR o.service_principal_type IS NOT n.service_principal_type OR o.managed_identity_type IS NOT n.managed_identity_type
ORDER BY n.id
