"""Drives `azsnap mock serve --tls` with Microsoft's own Python packages, unmodified, and prints what they listed.

Usage: sdk_clients.py BASE_URL TENANT_ID CLIENT_ID, with the client secret in AZSNAP_SDK_SECRET and the emulator's
certificate authority in SSL_CERT_FILE and REQUESTS_CA_BUNDLE. The caller (tests/integration/emulator/sdk.rs)
compares the JSON printed on stdout with the tenant file.

Each client is pointed at the emulator the way docs/emulator.md tells users to: MSAL and azure-identity by their
authority, the management clients by `base_url`, the Graph SDK by its request adapter's base URL.
"""

import asyncio
import json
import os
import sys
from urllib.parse import urlparse

import msal
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.storage import StorageManagementClient

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"


def msal_tokens(base, tenant, client_id, secret):
    """Client credentials with MSAL, through the emulator's instance discovery and OpenID configuration."""
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=f"{base}/{tenant}",
        instance_discovery=f"{base}/common/discovery/instance",
    )
    out = {}
    for name, scope in (("graph", GRAPH_SCOPE), ("arm", ARM_SCOPE)):
        result = app.acquire_token_for_client(scopes=[scope])
        if "access_token" not in result:
            raise SystemExit(f"msal: no {name} token: {result.get('error')}: {result.get('error_description')}")
        out[name] = result["access_token"]
    return out


def arm(base, credential):
    """Subscriptions, resource groups, storage accounts, role definitions and assignments via the mgmt clients."""
    kwargs = {"base_url": base, "credential_scopes": [ARM_SCOPE]}
    subscriptions = SubscriptionClient(credential, **kwargs)
    out = {"subscriptions": [], "resource_groups": [], "storage_accounts": [], "role_definitions": {},
           "role_assignments": {}, "locations": {}}
    for sub in subscriptions.subscriptions.list():
        sid = sub.subscription_id
        out["subscriptions"].append({"id": sid, "name": sub.display_name, "state": str(sub.state)})
        out["locations"][sid] = sorted(l.name for l in subscriptions.subscriptions.list_locations(sid))
        resources = ResourceManagementClient(credential, sid, **kwargs)
        out["resource_groups"] += [{"subscription": sid, "name": g.name, "location": g.location}
                                   for g in resources.resource_groups.list()]
        storage = StorageManagementClient(credential, sid, **kwargs)
        out["storage_accounts"] += [
            {"subscription": sid, "name": a.name, "private_endpoint_connections": len(a.private_endpoint_connections or [])}
            for a in storage.storage_accounts.list()
        ]
        authorization = AuthorizationManagementClient(credential, sid, **kwargs)
        scope = f"/subscriptions/{sid}"
        out["role_definitions"][sid] = sorted(d.role_name for d in authorization.role_definitions.list(scope))
        assignments = [
            {"id": a.name, "principal": a.principal_id, "role": a.role_definition_id, "scope": a.scope}
            for a in authorization.role_assignments.list_for_subscription()
        ]
        out["role_assignments"][sid] = sorted(assignments, key=lambda a: a["id"])
    # Built-in roles at the root, which any caller may list.
    root = AuthorizationManagementClient(credential, out["subscriptions"][0]["id"], **kwargs)
    out["root_role_definitions"] = sorted(d.role_name for d in root.role_definitions.list("/"))
    return out


async def graph(base, credential):
    """Users, groups with members, and service principals with the Graph SDK, following its own paging."""
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    host = urlparse(base).hostname
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE], allowed_hosts=[host])
    adapter = GraphRequestAdapter(auth, client=GraphClientFactory.create_with_default_middleware())
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    async def every(page, next_page):
        items = list(page.value or [])
        while page.odata_next_link:
            page = await next_page(page.odata_next_link)
            items += page.value or []
        return items

    users = await every(await client.users.get(), lambda link: client.users.with_url(link).get())
    groups = await every(await client.groups.get(), lambda link: client.groups.with_url(link).get())
    members = {}
    for g in groups:
        builder = client.groups.by_group_id(g.id).members
        page = await builder.get()
        members[g.id] = sorted(m.id for m in await every(page, lambda link, b=builder: b.with_url(link).get()))
    sps = await every(await client.service_principals.get(),
                      lambda link: client.service_principals.with_url(link).get())
    return {
        "users": sorted(u.id for u in users),
        "user_principal_names": sorted(u.user_principal_name for u in users),
        "groups": sorted(g.id for g in groups),
        "members": members,
        "service_principals": sorted(s.id for s in sps),
    }


def main():
    base, tenant, client_id = sys.argv[1:4]
    secret = os.environ["AZSNAP_SDK_SECRET"]
    tokens = msal_tokens(base, tenant, client_id, secret)
    authority = urlparse(base).netloc
    credential = ClientSecretCredential(
        tenant, client_id, secret, authority=authority, disable_instance_discovery=True
    )
    out = {"msal_token_parts": {k: len(v.split(".")) for k, v in tokens.items()}}
    out.update(arm(base, credential))
    out["graph"] = asyncio.run(graph(base, credential))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
