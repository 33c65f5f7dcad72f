//! The token endpoint (client credentials, secret or federated assertion) and bearer-token checks.
//!
//! Tokens are JWT-shaped (HS256 with a key only the emulator holds), bound to one audience (Graph or ARM), expire
//! after `--token-lifetime`, and carry `tid`, `oid`, `appid` and, for Graph, the granted permissions in `roles`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::http::{ApiRequest, ApiResponse, aad_error, arm_error, graph_error};
use crate::tenant::{AppRegistration, TenantFile};

/// The two resources a token can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    Graph,
    Arm,
}

/// ARM's two documented audiences: a token carries the one that was asked for, and ARM accepts either.
const ARM_AUDIENCES: [&str; 2] = ["https://management.azure.com", "https://management.core.windows.net/"];

/// The scopes MSAL adds to every request (`openid profile offline_access`); for client credentials the service
/// accepts them beside a `.default` scope and ignores them.
const RESERVED_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

impl Audience {
    /// Which audience a resource (`https://management.azure.com/`) or `.default` scope asks for, and the `aud` claim
    /// its token carries.
    fn from_resource(resource: &str) -> Option<(Self, &'static str)> {
        let resource = resource.strip_suffix("/.default").unwrap_or(resource).trim_end_matches('/');
        let host = resource.strip_prefix("https://")?;
        match host.to_ascii_lowercase().as_str() {
            "graph.microsoft.com"
            | "graph.microsoft.us"
            | "dod-graph.microsoft.us"
            | "microsoftgraph.chinacloudapi.cn" => Some((Audience::Graph, "https://graph.microsoft.com")),
            "management.core.windows.net" => Some((Audience::Arm, ARM_AUDIENCES[1])),
            "management.azure.com" | "management.usgovcloudapi.net" | "management.chinacloudapi.cn" => {
                Some((Audience::Arm, ARM_AUDIENCES[0]))
            }
            _ => None,
        }
    }

    /// The audience of a client-credentials `scope` parameter: one `.default` scope, with or without the reserved
    /// OpenID scopes beside it.
    fn from_scopes(scope: &str) -> Option<(Self, &'static str)> {
        let mut resources =
            scope.split_whitespace().filter(|s| !RESERVED_SCOPES.iter().any(|r| s.eq_ignore_ascii_case(r)));
        match (resources.next(), resources.next()) {
            (Some(one), None) if one.ends_with("/.default") => Self::from_resource(one),
            _ => None,
        }
    }

    /// Whether a token's `aud` claim is for this audience.
    fn accepts(self, aud: &str) -> bool {
        match self {
            Audience::Graph => aud == "https://graph.microsoft.com",
            Audience::Arm => ARM_AUDIENCES.contains(&aud),
        }
    }
}

/// Who is calling, from a valid token.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub tenant_id: String,
    pub object_id: String,
    pub app_id: String,
    pub roles: Vec<String>,
}

impl Caller {
    pub(crate) fn has_any(&self, permissions: &[&str]) -> bool {
        self.roles.iter().any(|r| permissions.iter().any(|p| r.eq_ignore_ascii_case(p)))
    }
}

/// Signs and checks tokens.
#[derive(Debug, Clone)]
pub(crate) struct TokenIssuer {
    /// HMAC-SHA256 keyed with a secret derived from the seed.
    key: Hmac<Sha256>,
    pub lifetime_secs: u64,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl TokenIssuer {
    pub(crate) fn new(seed: u64, lifetime_secs: u64) -> Self {
        let secret = Sha256::digest(format!("azsnap-emulator-signing-key:{seed}").as_bytes());
        let key = Hmac::new_from_slice(&secret).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        TokenIssuer { key, lifetime_secs }
    }

    /// HMAC-SHA256 of `data` under the emulator's key, ready to finish or to check.
    fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.key.clone();
        mac.update(data);
        mac
    }

    fn issue(&self, claims: &Value) -> String {
        let header = B64.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
        let payload = B64.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let sig = B64.encode(self.mac(signing_input.as_bytes()).finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Checks a bearer token for `audience`; the error is the service's own 401 answer.
    pub(crate) fn check(&self, req: &ApiRequest, audience: Audience) -> Result<Caller, ApiResponse> {
        let fail = |code: &str, graph_msg: &str, arm_msg: String| match audience {
            Audience::Graph => graph_error(401, "InvalidAuthenticationToken", graph_msg),
            Audience::Arm => arm_error(401, code, &arm_msg),
        };
        let Some(token) = req.header("authorization").and_then(|h| {
            h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")).map(str::trim).filter(|t| !t.is_empty())
        }) else {
            return Err(fail(
                "AuthenticationFailed",
                "Access token is empty.",
                "Authentication failed. The 'Authorization' header is missing.".to_owned(),
            ));
        };
        let invalid = || {
            fail(
                "InvalidAuthenticationToken",
                "Access token validation failure.",
                "The access token is invalid.".to_owned(),
            )
        };
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let sig = B64.decode(s).map_err(|_| invalid())?;
        self.mac(format!("{h}.{p}").as_bytes()).verify_slice(&sig).map_err(|_| invalid())?;
        let claims: Value = B64.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(invalid)?;
        let exp = claims["exp"].as_u64().unwrap_or(0);
        let now = unix_now();
        if exp <= now {
            return Err(fail(
                "ExpiredAuthenticationToken",
                "Access token has expired or is not yet valid.",
                format!("The access token expiry UTC time '{exp}' is earlier than current UTC time '{now}'."),
            ));
        }
        if !claims["aud"].as_str().is_some_and(|aud| audience.accepts(aud)) {
            return Err(fail(
                "InvalidAuthenticationTokenAudience",
                "Access token validation failure. Invalid audience.",
                format!(
                    "The access token has been obtained for wrong audience or resource '{}'. It should exactly match \
                     with one of the allowed audiences 'https://management.core.windows.net/',\
                     'https://management.azure.com/'.",
                    claims["aud"].as_str().unwrap_or("")
                ),
            ));
        }
        let text = |k: &str| claims[k].as_str().unwrap_or_default().to_owned();
        Ok(Caller {
            tenant_id: text("tid"),
            object_id: text("oid"),
            app_id: text("appid"),
            roles: claims["roles"]
                .as_array()
                .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
        })
    }

    /// `GET /msi/token?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER`: the App Service managed identity
    /// protocol, issuing tokens as the tenant file's app marked `managedIdentity`.
    pub(crate) fn managed_identity_endpoint(&self, tenant: &TenantFile, req: &ApiRequest) -> ApiResponse {
        if req.header("x-identity-header").is_none_or(str::is_empty) {
            return ApiResponse::json(
                401,
                json!({"statusCode": 401, "message": "The X-IDENTITY-HEADER header is missing."}),
            );
        }
        let Some(app) = tenant.apps.iter().find(|a| a.managed_identity) else {
            return ApiResponse::json(
                400,
                json!({"statusCode": 400, "message": "No managed identity is assigned to this resource."}),
            );
        };
        let resource = req.param("resource").unwrap_or_default();
        let Some((audience, aud)) = Audience::from_resource(resource) else {
            return ApiResponse::json(
                400,
                json!({"statusCode": 400, "message": format!("Unknown resource '{resource}'.")}),
            );
        };
        let now = unix_now();
        let claims = self.claims(tenant, app, (audience, aud), now);
        ApiResponse::ok(json!({
            "access_token": self.issue(&claims),
            "expires_on": (now + self.lifetime_secs).to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": app.client_id.as_str(),
        }))
    }

    fn claims(&self, tenant: &TenantFile, app: &AppRegistration, (audience, aud): (Audience, &str), now: u64) -> Value {
        let roles: Vec<&String> = match audience {
            Audience::Graph => app.graph_permissions.iter().collect(),
            Audience::Arm => Vec::new(),
        };
        json!({
            "aud": aud,
            "iss": format!("https://sts.windows.net/{}/", tenant.tenant.id),
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_secs,
            "appid": app.client_id.as_str(),
            "oid": app.service_principal_id.as_str(),
            "sub": app.service_principal_id.as_str(),
            "tid": tenant.tenant.id.as_str(),
            "idtyp": "app",
            "roles": roles,
        })
    }

    /// `POST /{tenant}/oauth2/v2.0/token`.
    pub(crate) fn token_endpoint(&self, tenant: &TenantFile, tenant_segment: &str, req: &ApiRequest) -> ApiResponse {
        let t = &tenant.tenant;
        if !names_tenant(tenant, tenant_segment) {
            return tenant_not_found("invalid_request", tenant_segment);
        }
        let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
        let field = |k: &str| form_field(&form, k);
        if field("grant_type") != Some("client_credentials") {
            return aad_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type. Only client_credentials is served here.",
            );
        }
        let Some(client_id) = field("client_id") else {
            return aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            );
        };
        let Some(app) = tenant.apps.iter().find(|a| a.client_id.as_str().eq_ignore_ascii_case(client_id)) else {
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen \
                     if the application has not been installed by the administrator of the tenant or consented to \
                     by any user in the tenant.",
                    t.display_name
                ),
            );
        };
        if let Err(e) = check_credential(app, &form, req, client_id) {
            return e;
        }
        let scope = field("scope").unwrap_or_default();
        let Some(audience) = Audience::from_scopes(scope) else {
            return aad_error(
                400,
                "invalid_scope",
                70011,
                &format!(
                    "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
                ),
            );
        };
        let claims = self.claims(tenant, app, audience, unix_now());
        ApiResponse::ok(json!({
            "token_type": "Bearer",
            "expires_in": self.lifetime_secs,
            "ext_expires_in": self.lifetime_secs,
            "access_token": self.issue(&claims),
        }))
    }
}

/// The value of form field `name`.
fn form_field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Checks the client's credential: a federated assertion it was given, or its secret (in the form or as HTTP Basic).
fn check_credential(
    app: &AppRegistration,
    form: &[(String, String)],
    req: &ApiRequest,
    client_id: &str,
) -> Result<(), ApiResponse> {
    if let Some(assertion) = form_field(form, "client_assertion") {
        if form_field(form, "client_assertion_type") != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
            return Err(aad_error(
                400,
                "invalid_request",
                90014,
                "The request body must contain the following parameter: 'client_assertion_type'.",
            ));
        }
        if !app.federated_assertions.iter().any(|a| a == assertion.trim()) {
            return Err(aad_error(
                400,
                "invalid_client",
                70021,
                "No matching federated identity record found for presented assertion.",
            ));
        }
    } else {
        let secret = form_field(form, "client_secret").map(str::to_owned).or_else(|| basic_secret(req, client_id));
        if secret.is_none() || secret.as_deref() != app.secret.as_deref() {
            return Err(aad_error(
                401,
                "invalid_client",
                7000215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client \
                     secret value, not the client secret ID, for a secret added to app '{}'.",
                    app.client_id
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a login path's tenant segment names the served tenant: its id, its domain or its initial domain.
pub(crate) fn names_tenant(tenant: &TenantFile, segment: &str) -> bool {
    let t = &tenant.tenant;
    segment.eq_ignore_ascii_case(t.id.as_str())
        || segment.eq_ignore_ascii_case(&t.domain)
        || segment.eq_ignore_ascii_case(&t.initial_domain())
}

/// AADSTS90002, the login service's answer for a tenant it does not know.
pub(crate) fn tenant_not_found(error: &str, segment: &str) -> ApiResponse {
    aad_error(
        400,
        error,
        90002,
        &format!(
            "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into \
             the correct cloud."
        ),
    )
}

/// The secret from `Authorization: Basic base64(client_id:secret)`, when the client authenticates that way.
fn basic_secret(req: &ApiRequest, client_id: &str) -> Option<String> {
    let encoded = req.header("authorization")?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    (decode(id) == client_id).then(|| decode(secret))
}
