//! The login host's public documents, which MSAL and the Azure SDKs read before they ask for a token: OpenID
//! Connect discovery (`/{tenant}/v2.0/.well-known/openid-configuration`, and the v1 form without `v2.0`),
//! instance discovery (`/common/discovery/instance`) and the signing-key list. No token is needed for any of them.
//!
//! Every endpoint the documents name is on the host the request came to, so a client that discovers its way
//! from the authority ends up back at the emulator.

use serde_json::{Value, json};

use crate::auth::{names_tenant, tenant_not_found};
use crate::http::{ApiRequest, ApiResponse, aad_error};
use crate::tenant::TenantFile;

/// The tenant-independent authorities: the documents keep `{tenantid}` in the issuer, as the service does.
const MULTI_TENANT: [&str; 2] = ["common", "organizations"];

/// Answers `GET` of a login document, or `None` when `segments` name none.
pub(crate) fn answer(tenant: &TenantFile, req: &ApiRequest, segments: &[&str]) -> Option<ApiResponse> {
    if req.method != "GET" {
        return None;
    }
    let answer = match segments {
        [t, "v2.0", ".well-known", "openid-configuration"] => openid_configuration(tenant, req, t, true),
        [t, ".well-known", "openid-configuration"] => openid_configuration(tenant, req, t, false),
        [t, "discovery", "instance"] => instance_discovery(tenant, req, t),
        [t, "discovery", "v2.0", "keys"] | [t, "discovery", "keys"] => keys(tenant, t),
        _ => return None,
    };
    Some(answer)
}

/// The tenant id the documents show for a path's tenant segment, or the service's error for an unknown one.
fn tenant_id(tenant: &TenantFile, segment: &str) -> Result<String, ApiResponse> {
    if MULTI_TENANT.iter().any(|m| segment.eq_ignore_ascii_case(m)) {
        Ok("{tenantid}".to_owned())
    } else if names_tenant(tenant, segment) {
        Ok(tenant.tenant.id.to_string())
    } else {
        Err(tenant_not_found("invalid_tenant", segment))
    }
}

/// OpenID Connect discovery for `segment`: the v2.0 document, or the v1 one.
fn openid_configuration(tenant: &TenantFile, req: &ApiRequest, segment: &str, v2: bool) -> ApiResponse {
    let tid = match tenant_id(tenant, segment) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let base = format!("{}/{segment}", req.base_url);
    let (oauth, issuer, keys) = if v2 {
        (format!("{base}/oauth2/v2.0"), format!("{}/{tid}/v2.0", req.base_url), format!("{base}/discovery/v2.0/keys"))
    } else {
        (format!("{base}/oauth2"), format!("https://sts.windows.net/{tid}/"), format!("{base}/discovery/keys"))
    };
    ApiResponse::ok(json!({
        "token_endpoint": format!("{oauth}/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": keys,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{oauth}/authorize"),
        "device_authorization_endpoint": format!("{oauth}/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{oauth}/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host",
            "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
            "c_hash", "email"
        ],
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
}

/// Instance discovery: the emulator's host is a known instance; the tenant discovery endpoint is derived from the
/// `authorization_endpoint` the client names, which must be on this host (AADSTS50049 otherwise).
fn instance_discovery(tenant: &TenantFile, req: &ApiRequest, segment: &str) -> ApiResponse {
    if let Err(e) = tenant_id(tenant, segment) {
        return e;
    }
    let host = req.base_url.split_once("://").map_or(req.base_url.as_str(), |(_, h)| h).to_owned();
    let metadata = json!([{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]);
    let mut body = json!({"api-version": req.param("api-version").unwrap_or("1.1"), "metadata": metadata});
    if let Some(endpoint) = req.param("authorization_endpoint") {
        let Some(authority) = authority_on(endpoint, &host) else {
            return aad_error(400, "invalid_instance", 50049, "Unknown or invalid instance.");
        };
        body["tenant_discovery_endpoint"] =
            Value::String(format!("{}/{authority}/v2.0/.well-known/openid-configuration", req.base_url));
    }
    ApiResponse::ok(body)
}

/// The tenant segment of an `https://HOST/{tenant}/oauth2[/v2.0]/authorize` URL, if HOST is the emulator's host.
/// Ports are not compared: MSAL names the instance by host name alone.
fn authority_on(endpoint: &str, host: &str) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    let own = url::Url::parse(&format!("https://{host}/")).ok()?;
    if !url.host_str()?.eq_ignore_ascii_case(own.host_str()?) {
        return None;
    }
    let tenant = url.path_segments()?.next().filter(|t| !t.is_empty())?;
    Some(tenant.to_owned())
}

/// The signing keys. The emulator signs its tokens with a symmetric key only it holds, so there is no public key
/// to publish: the list is empty, and a client that validates access tokens itself cannot check them.
fn keys(tenant: &TenantFile, segment: &str) -> ApiResponse {
    match tenant_id(tenant, segment) {
        Ok(_) => ApiResponse::ok(json!({"keys": []})),
        Err(e) => e,
    }
}
