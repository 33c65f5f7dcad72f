//! The token endpoint's answers and the audience, expiry and tenant checks on bearer tokens.

use azsnap_emulator::EmulatorOptions;

use crate::common::emulator::{ARM_SCOPE, Emu, GRAPH_SCOPE, READER, READER_SECRET, TENANT};

#[test]
fn good_secret_gets_a_bearer_token() {
    let emu = Emu::contoso();
    let r = emu.token(READER, READER_SECRET, GRAPH_SCOPE);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3599);
    assert!(r.body["access_token"].as_str().unwrap().split('.').count() == 3, "JWT-shaped");
}

#[test]
fn each_credential_error_is_the_real_aadsts_answer() {
    let emu = Emu::contoso();
    let cases: [(&str, &str, &str, &str, u16, &str, u64); 5] = [
        (TENANT, READER, "wrong-secret", GRAPH_SCOPE, 401, "invalid_client", 7000215),
        (
            TENANT,
            "a1b2c3d4-0000-4000-8000-0000000000ff",
            READER_SECRET,
            GRAPH_SCOPE,
            400,
            "unauthorized_client",
            700016,
        ),
        ("00000000-0000-4000-8000-00000000dead", READER, READER_SECRET, GRAPH_SCOPE, 400, "invalid_request", 90002),
        (TENANT, READER, READER_SECRET, "https://foo.microsoft.com/.default", 400, "invalid_scope", 70011),
        (
            TENANT,
            READER,
            READER_SECRET,
            "https://graph.microsoft.com/.default https://management.azure.com/.default",
            400,
            "invalid_scope",
            70011,
        ),
    ];
    for (tenant, client, secret, scope, status, error, code) in cases {
        let r = emu.token_form(
            tenant,
            &[("grant_type", "client_credentials"), ("client_id", client), ("client_secret", secret), ("scope", scope)],
        );
        assert_eq!(r.status, status, "{client} {scope}: {:?}", r.body);
        assert_eq!(r.body["error"], error);
        assert_eq!(r.body["error_codes"][0], code);
        let description = r.body["error_description"].as_str().unwrap();
        assert!(description.starts_with(&format!("AADSTS{code}:")), "{description}");
        assert!(!description.contains(READER_SECRET) && !description.contains("wrong-secret"), "a secret leaked");
    }
}

#[test]
fn tenant_may_be_named_by_domain() {
    let emu = Emu::contoso();
    let r = emu.token_form(
        "contoso.com",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", READER),
            ("client_secret", READER_SECRET),
            ("scope", ARM_SCOPE),
        ],
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[test]
fn federated_assertion_is_accepted_and_a_wrong_one_refused() {
    let emu = Emu::contoso();
    let form = |assertion: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", READER),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion),
            ("scope", GRAPH_SCOPE),
        ]
    };
    assert_eq!(emu.token_form(TENANT, &form("contoso-ci-federated-token")).status, 200);
    let r = emu.token_form(TENANT, &form("someone-elses-token"));
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error_codes"][0], 70021);
}

#[test]
fn tokens_are_bound_to_their_audience() {
    let emu = Emu::contoso();
    let graph = emu.reader(GRAPH_SCOPE);
    let arm = emu.reader(ARM_SCOPE);
    let r = emu.get("/subscriptions?api-version=2022-12-01", &graph);
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationTokenAudience"));
    let r = emu.get("/v1.0/users", &arm);
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));
    assert_eq!(emu.get("/v1.0/users", &graph).status, 200);
    assert_eq!(emu.get("/subscriptions?api-version=2022-12-01", &arm).status, 200);
}

#[test]
fn missing_or_forged_tokens_are_refused() {
    let emu = Emu::contoso();
    let r = emu.get("/v1.0/users", "");
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));
    assert!(r.body["error"]["message"].as_str().unwrap().contains("empty"));
    let good = emu.reader(GRAPH_SCOPE);
    let mut forged = good.clone();
    forged.pop();
    forged.push(if good.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(emu.get("/v1.0/users", &forged).status, 401);
    let r = emu.get("/subscriptions?api-version=2022-12-01", "not-a-token");
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));
}

#[test]
fn tokens_expire() {
    let emu = Emu::with(EmulatorOptions { token_lifetime_secs: 0, ..EmulatorOptions::default() });
    let graph = emu.reader(GRAPH_SCOPE);
    let r = emu.get("/v1.0/users", &graph);
    assert_eq!(r.status, 401);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("expired"), "{:?}", r.body);
    let arm = emu.reader(ARM_SCOPE);
    let r = emu.get("/subscriptions?api-version=2022-12-01", &arm);
    assert_eq!((r.status, r.code()), (401, "ExpiredAuthenticationToken"));
}
