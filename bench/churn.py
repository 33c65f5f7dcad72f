"""Membership churn through the emulator's write API, as the writer app: CHANGES changes, alternately a member
removed from a group and a user added to one, picked deterministically from STEP (each step of a series changes
other groups and users). Prints how many were made.

Usage: python3 bench/churn.py BASE TENANT TENANT.json CHANGES [STEP]
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

base, tenant, path, changes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
step = int(sys.argv[5]) if len(sys.argv) > 5 else 0
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "a1b2c3d4-0000-4000-8000-000000000002",
    "client_secret": "contoso-writer-secret", "scope": "https://graph.microsoft.com/.default"}).encode()
token = json.load(urllib.request.urlopen(f"{base}/{tenant}/oauth2/v2.0/token", form))["access_token"]
t = json.load(open(path))
groups = [g for g in t["groups"] if "DynamicMembership" not in g.get("groupTypes", [])
          and not g.get("onPremisesSyncEnabled") and not g.get("isAssignableToRole")]
users = [u["id"] for u in t["users"]]
done = 0
for i in range(step * changes, (step + 1) * changes):
    g = groups[(i * 7919) % len(groups)]
    if i % 2 == 0 and g["members"]:
        m = g["members"][(i // 2) % len(g["members"])]
        req = urllib.request.Request(f"{base}/v1.0/groups/{g['id']}/members/{m}/$ref", method="DELETE")
    else:
        m = users[(i * 104729) % len(users)]
        body = json.dumps({"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{m}"}).encode()
        req = urllib.request.Request(f"{base}/v1.0/groups/{g['id']}/members/$ref", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    req.add_header("Authorization", f"Bearer {token}")
    try:
        urllib.request.urlopen(req)
        done += 1
    except urllib.error.HTTPError:
        pass
print(f"changes made: {done}")
