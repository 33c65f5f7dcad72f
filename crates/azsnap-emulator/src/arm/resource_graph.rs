//! Azure Resource Graph (`POST /providers/Microsoft.ResourceGraph/resources`): the tables `resources` (storage
//! accounts, user-assigned identities), `resourcecontainers` (subscriptions, resource groups) and
//! `authorizationresources` (role assignments, custom role definitions), each row as Resource Graph shows it and
//! only where the caller could read it through ARM, queried with the KQL subset of [`crate::kql`] and paged with
//! `$skipToken`. What is outside the subset gets Resource Graph's `InvalidQuery` error.

use serde_json::{Map, Value, json};

use super::rbac::{Answer, Ctx};
use crate::http::{ApiResponse, arm_error};
use crate::json::as_object;
use crate::kql;
use crate::model::ArmId;
use crate::odata::{decode_skiptoken, encode_skiptoken};

/// Resource Graph's page sizes: 100 rows unless `$top` asks for another number, at most 1000.
const DEFAULT_TOP: usize = 100;
const MAX_TOP: usize = 1000;

impl Ctx<'_> {
    /// Runs a Resource Graph query.
    pub(super) fn resource_graph(&self) -> Answer {
        let body: Value = serde_json::from_slice(&self.req.body).map_err(|e| {
            arm_error(400, "InvalidRequestContent", &format!("The request content is not valid JSON: {e}"))
        })?;
        let text =
            body["query"].as_str().ok_or_else(|| arm_error(400, "BadRequest", "The request must have a 'query'."))?;
        let query = kql::parse(text).map_err(|why| invalid_query(&why))?;
        let options = &body["options"];
        let top = match options["$top"].as_u64() {
            None => DEFAULT_TOP,
            Some(n) if (1..=MAX_TOP as u64).contains(&n) => n as usize,
            Some(n) => {
                return Err(arm_error(400, "BadRequest", &format!("$top must be between 1 and {MAX_TOP}, not {n}.")));
            }
        };
        let skip = match options["$skipToken"].as_str() {
            Some(t) => decode_skiptoken(t).ok_or_else(|| arm_error(400, "BadRequest", "The $skipToken is invalid."))?,
            None => options["$skip"].as_u64().unwrap_or(0) as usize,
        };
        let subscriptions = self.query_subscriptions(&body)?;
        let rows = match query.table.as_str() {
            "resources" => self.resource_rows(),
            "resourcecontainers" => self.container_rows(),
            "authorizationresources" => self.authorization_rows(),
            other => return Err(invalid_query(&format!("the table '{other}' is not served by the emulator"))),
        };
        let rows = rows
            .into_iter()
            .filter(|r| match (&subscriptions, r["subscriptionId"].as_str()) {
                (None, _) => true,
                (Some(list), Some(sub)) => list.iter().any(|s| s.eq_ignore_ascii_case(sub)),
                (Some(_), None) => false,
            })
            .collect();
        let result = kql::run(&query, rows);
        let total = result.len();
        let page: Vec<Map<String, Value>> = result.into_iter().skip(skip).take(top).collect();
        let more = skip + page.len() < total;
        let data = match options["resultFormat"].as_str() {
            Some(f) if f.eq_ignore_ascii_case("table") => table(&page),
            _ => Value::Array(page.iter().cloned().map(Value::Object).collect()),
        };
        let mut out = json!({
            "totalRecords": total,
            "count": page.len(),
            "data": data,
            "facets": [],
            "resultTruncated": "false",
        });
        if more {
            out["$skipToken"] = Value::String(encode_skiptoken(skip + page.len()));
        }
        Ok(ApiResponse::ok(out))
    }

    /// The subscriptions a query is limited to: those it names, those under the management groups it names, or
    /// (`None`) every one the caller can see.
    fn query_subscriptions(&self, body: &Value) -> Result<Option<Vec<String>>, ApiResponse> {
        let names = |key: &str| -> Vec<String> {
            body[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let (subs, mgs) = (names("subscriptions"), names("managementGroups"));
        if subs.is_empty() && mgs.is_empty() {
            return Ok(None);
        }
        let mut out = subs;
        for mg in &mgs {
            let group = self.find_mg(mg)?;
            let scope = Self::mg_scope(&group.name);
            for s in &self.world.tenant.subscriptions {
                let sub = ArmId::from_canonical(&format!("/subscriptions/{}", s.subscription_id));
                if self.is_at_or_above(&scope, &sub) {
                    out.push(s.subscription_id.to_string());
                }
            }
        }
        Ok(Some(out))
    }

    /// A row as Resource Graph shows it: the resource's ARM JSON with the columns every table has.
    fn row(&self, resource: Value, subscription: &str, resource_group: &str) -> Map<String, Value> {
        let mut r = as_object(resource);
        let lower_type = r.get("type").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        r.insert("type".to_owned(), Value::String(lower_type));
        r.insert("tenantId".to_owned(), Value::String(self.tenant_id().to_owned()));
        r.insert("subscriptionId".to_owned(), Value::String(subscription.to_owned()));
        r.insert("resourceGroup".to_owned(), Value::String(resource_group.to_ascii_lowercase()));
        for (k, default) in [
            ("kind", json!("")),
            ("location", json!("")),
            ("managedBy", json!("")),
            ("sku", Value::Null),
            ("plan", Value::Null),
            ("properties", Value::Null),
            ("tags", Value::Null),
            ("identity", Value::Null),
            ("zones", Value::Null),
            ("extendedLocation", Value::Null),
        ] {
            r.entry(k).or_insert(default);
        }
        r
    }

    fn resource_rows(&self) -> Vec<Map<String, Value>> {
        let t = &self.world.tenant;
        let readable = |sub: &str, rg: &str, provider: &str, name: &str, action: &str| {
            let scope = ArmId::from_canonical(&format!(
                "/subscriptions/{sub}/resourcegroups/{}/providers/{provider}/{}",
                rg.to_ascii_lowercase(),
                name.to_ascii_lowercase()
            ));
            self.allowed(action, &scope)
        };
        let storage = t.storage_accounts.iter().filter(|a| {
            let (sub, rg) = (a.subscription_id.as_str(), &a.resource_group);
            readable(sub, rg, "microsoft.storage/storageaccounts", &a.name, "Microsoft.Storage/storageAccounts/read")
        });
        let mut rows: Vec<Map<String, Value>> =
            storage.map(|a| self.row(self.storage_json(a), a.subscription_id.as_str(), &a.resource_group)).collect();
        rows.extend(
            t.user_assigned_identities
                .iter()
                .filter(|i| {
                    readable(
                        i.subscription_id.as_str(),
                        &i.resource_group,
                        "microsoft.managedidentity/userassignedidentities",
                        &i.name,
                        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
                    )
                })
                .map(|i| self.row(self.identity_json(i), i.subscription_id.as_str(), &i.resource_group)),
        );
        rows
    }

    fn container_rows(&self) -> Vec<Map<String, Value>> {
        let t = &self.world.tenant;
        let mut rows = Vec::new();
        for s in &t.subscriptions {
            let scope = ArmId::from_canonical(&format!("/subscriptions/{}", s.subscription_id));
            if !self.has_any_access_within(&scope) {
                continue;
            }
            let mut sub = self.subscription_json(s);
            sub["type"] = json!("microsoft.resources/subscriptions");
            sub["name"] = json!(s.display_name);
            sub["properties"] = json!({"state": s.state, "subscriptionPolicies": sub["subscriptionPolicies"].clone()});
            rows.push(self.row(sub, s.subscription_id.as_str(), ""));
        }
        for rg in &t.resource_groups {
            let scope = ArmId::from_canonical(&format!(
                "/subscriptions/{}/resourcegroups/{}",
                rg.subscription_id,
                rg.name.to_ascii_lowercase()
            ));
            if self.allowed("Microsoft.Resources/subscriptions/resourceGroups/read", &scope) {
                let mut group = self.rg_json(rg);
                group["type"] = json!("microsoft.resources/subscriptions/resourcegroups");
                rows.push(self.row(group, rg.subscription_id.as_str(), &rg.name));
            }
        }
        rows
    }

    fn authorization_rows(&self) -> Vec<Map<String, Value>> {
        let t = &self.world.tenant;
        let mut rows = Vec::new();
        for a in &t.role_assignments {
            let Ok(scope) = a.scope.parse::<ArmId>() else { continue };
            if !self.allowed("Microsoft.Authorization/roleAssignments/read", &scope) {
                continue;
            }
            let (sub, rg) = scope_names(&a.scope);
            rows.push(self.row(self.assignment_json(a, None), sub, rg));
        }
        for d in &t.role_definitions {
            let Some(first) = d.assignable_scopes.first() else { continue };
            let Ok(scope) = first.parse::<ArmId>() else { continue };
            if !self.allowed("Microsoft.Authorization/roleDefinitions/read", &scope) {
                continue;
            }
            let (sub, _) = scope_names(first);
            let definition = self
                .role_definition_items(&scope)
                .into_iter()
                .find(|item| item["name"].as_str() == Some(d.name.as_str()))
                .unwrap_or(Value::Null);
            rows.push(self.row(definition, sub, ""));
        }
        rows
    }
}

/// The subscription id and resource group name in an ARM scope (empty where it has none).
fn scope_names(scope: &str) -> (&str, &str) {
    let segments: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
    let after = |key: &str| {
        segments.iter().position(|s| s.eq_ignore_ascii_case(key)).and_then(|i| segments.get(i + 1)).copied()
    };
    (after("subscriptions").unwrap_or(""), after("resourceGroups").unwrap_or(""))
}

/// Resource Graph's answer to a query it cannot run.
fn invalid_query(why: &str) -> ApiResponse {
    ApiResponse::json(
        400,
        json!({"error": {
            "code": "BadRequest",
            "message": "Please provide below info when asking for support: the query and the time it was sent.",
            "details": [
                {"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying."},
                {"code": "ParserFailure", "message": why},
            ],
        }}),
    )
}

/// `resultFormat: table`: columns named and typed from the rows, and each row as a list.
fn table(rows: &[Map<String, Value>]) -> Value {
    let mut columns: Vec<(String, &'static str)> = Vec::new();
    for r in rows {
        for (k, v) in r {
            if !columns.iter().any(|(c, _)| c == k) {
                let kind = match v {
                    Value::String(_) => "string",
                    Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                    Value::Number(_) => "real",
                    Value::Bool(_) => "boolean",
                    _ => "object",
                };
                columns.push((k.clone(), kind));
            }
        }
    }
    let cells: Vec<Value> = rows
        .iter()
        .map(|r| Value::Array(columns.iter().map(|(c, _)| r.get(c).cloned().unwrap_or(Value::Null)).collect()))
        .collect();
    json!({
        "columns": columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
        "rows": cells,
    })
}
