//! National clouds and the endpoints a collection talks to. The login host, Graph host, ARM host and token scopes
//! always move together; `--endpoint` points all three at one base URL (the emulator, a proxy) and keeps the
//! cloud's scopes, so tokens are still requested for the real resources.

use std::fmt;

/// A national cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    Public,
    Usgov,
    UsgovDod,
    China,
}

impl Cloud {
    /// (login host, Graph root, ARM root).
    fn hosts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Cloud::Public => {
                ("https://login.microsoftonline.com", "https://graph.microsoft.com", "https://management.azure.com")
            }
            Cloud::Usgov => (
                "https://login.microsoftonline.us",
                "https://graph.microsoft.us",
                "https://management.usgovcloudapi.net",
            ),
            Cloud::UsgovDod => (
                "https://login.microsoftonline.us",
                "https://dod-graph.microsoft.us",
                "https://management.usgovcloudapi.net",
            ),
            Cloud::China => (
                "https://login.chinacloudapi.cn",
                "https://microsoftgraph.chinacloudapi.cn",
                "https://management.chinacloudapi.cn",
            ),
        }
    }

    /// The cloud whose Graph host is `domain`, if any.
    pub fn from_graph_domain(domain: &str) -> Option<Cloud> {
        [Cloud::Public, Cloud::Usgov, Cloud::UsgovDod, Cloud::China]
            .into_iter()
            .find(|c| c.hosts().1.trim_start_matches("https://").eq_ignore_ascii_case(domain.trim_end_matches('/')))
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cloud::Public => "public",
            Cloud::Usgov => "usgov",
            Cloud::UsgovDod => "usgov-dod",
            Cloud::China => "china",
        })
    }
}

/// Where requests go, and which scopes tokens are requested for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Endpoints {
    pub cloud: Cloud,
    /// The login host of the cloud (what the credential library is configured with).
    pub authority: String,
    /// Where token requests really go when they are redirected (a loopback `--endpoint`), else `None`.
    pub token_redirect: Option<String>,
    /// Graph base URL, without the version (e.g. `https://graph.microsoft.com`).
    pub graph: String,
    /// ARM base URL (e.g. `https://management.azure.com`).
    pub arm: String,
    pub graph_scope: String,
    pub arm_scope: String,
    /// Whether `--endpoint` moved every host to one base URL.
    pub custom: bool,
}

/// Why an endpoint setting is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("'{0}' is not a URL of the form http(s)://host[:port]")]
    NotUrl(String),
    #[error(
        "'{0}' uses plain http; only loopback addresses (127.0.0.1, ::1, localhost) may, anything else needs https"
    )]
    PlainHttp(String),
    #[error(
        "'{0}' is not a Graph host of a known cloud (graph.microsoft.com, graph.microsoft.us, dod-graph.microsoft.us, microsoftgraph.chinacloudapi.cn)"
    )]
    UnknownGraphDomain(String),
}

/// `url` parsed and checked to be a bare origin: `http(s)://host[:port]` with nothing after it but a `/`.
/// Returns whether it is https, whether its host is loopback, and its canonical `scheme://host[:port]`.
fn origin(url: &str) -> Result<(bool, bool, String), EndpointError> {
    let bad = || EndpointError::NotUrl(url.to_owned());
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    let https = match parsed.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(bad()),
    };
    if parsed.host().is_none()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.path() != "/"
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err(bad());
    }
    Ok((https, is_loopback(&parsed), parsed.origin().ascii_serialization()))
}

/// Whether `url`'s host is a loopback address: an IPv4 address in 127.0.0.0/8, `::1`, or `localhost` — as parsed
/// addresses, never as a prefix of a name (`127.evil.example` is a name like any other).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl Endpoints {
    /// The endpoints of `cloud`, moved to `graph_domain`'s cloud if given, or all pointed at `endpoint`.
    pub fn new(cloud: Cloud, graph_domain: Option<&str>, endpoint: Option<&str>) -> Result<Self, EndpointError> {
        let cloud = match graph_domain {
            Some(d) => Cloud::from_graph_domain(d).ok_or_else(|| EndpointError::UnknownGraphDomain(d.to_owned()))?,
            None => cloud,
        };
        let (login, graph, arm) = cloud.hosts();
        let scope = |root: &str| format!("{root}/.default");
        let mut e = Endpoints {
            cloud,
            authority: login.to_owned(),
            token_redirect: None,
            graph: graph.to_owned(),
            arm: arm.to_owned(),
            graph_scope: scope(graph),
            arm_scope: scope(arm),
            custom: false,
        };
        if let Some(url) = endpoint {
            let (https, loopback, base) = origin(url)?;
            if !https && !loopback {
                return Err(EndpointError::PlainHttp(url.to_owned()));
            }
            if https {
                e.authority = base.clone();
            } else {
                e.token_redirect = Some(base.clone());
            }
            e.graph = base.clone();
            e.arm = base;
            e.custom = true;
        }
        Ok(e)
    }

    /// What a snapshot records as its cloud: the cloud's name, or `custom` with `--endpoint`.
    pub fn cloud_name(&self) -> String {
        if self.custom { "custom".to_owned() } else { self.cloud.to_string() }
    }

    /// The login base token requests really go to (the loopback `--endpoint` when they are redirected there).
    pub fn login_base(&self) -> &str {
        self.token_redirect.as_deref().unwrap_or(&self.authority)
    }

    /// Whether `url` is on one of the configured hosts (nextLinks are followed only there).
    pub fn owns(&self, url: &str) -> bool {
        [&self.graph, &self.arm].iter().any(|base| {
            url.len() > base.len()
                && url[..base.len()].eq_ignore_ascii_case(base)
                && matches!(url.as_bytes()[base.len()], b'/' | b'?')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_move_every_host_and_scope_together() {
        let e = Endpoints::new(Cloud::China, None, None).unwrap();
        assert_eq!(e.authority, "https://login.chinacloudapi.cn");
        assert_eq!(e.graph_scope, "https://microsoftgraph.chinacloudapi.cn/.default");
        assert_eq!(e.arm_scope, "https://management.chinacloudapi.cn/.default");
        let d = Endpoints::new(Cloud::Public, Some("dod-graph.microsoft.us"), None).unwrap();
        assert_eq!(d.cloud, Cloud::UsgovDod);
        assert_eq!(d.arm, "https://management.usgovcloudapi.net");
        assert!(Endpoints::new(Cloud::Public, Some("graph.example.com"), None).is_err());
    }

    #[test]
    fn endpoint_override_and_plain_http_rules() {
        let e = Endpoints::new(Cloud::Public, None, Some("http://127.0.0.1:8080/")).unwrap();
        assert_eq!(e.graph, "http://127.0.0.1:8080");
        assert_eq!(e.token_redirect.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(e.authority, "https://login.microsoftonline.com", "the library still sees an https authority");
        assert_eq!(e.graph_scope, "https://graph.microsoft.com/.default");
        assert!(matches!(
            Endpoints::new(Cloud::Public, None, Some("http://proxy.corp:8080")),
            Err(EndpointError::PlainHttp(_))
        ));
        let p = Endpoints::new(Cloud::Public, None, Some("https://proxy.corp:8443")).unwrap();
        assert_eq!((p.authority.as_str(), p.token_redirect.as_deref()), ("https://proxy.corp:8443", None));
        for bad in ["ftp://x", "http://", "https://a/b", "127.0.0.1:80", "https://u:p@host", "https://h/?q"] {
            assert!(Endpoints::new(Cloud::Public, None, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_only_for_literal_loopback_addresses() {
        for ok in
            ["http://127.0.0.1:1", "http://127.5.6.7", "http://[::1]:8080", "http://localhost:9", "http://LOCALHOST"]
        {
            assert!(Endpoints::new(Cloud::Public, None, Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://127.evil.example",
            "http://127.0.0.1.evil.example:80",
            "http://localhost.evil.example",
            "http://128.0.0.1",
            "http://[::2]",
            "http://0.0.0.0",
        ] {
            assert!(
                matches!(Endpoints::new(Cloud::Public, None, Some(bad)), Err(EndpointError::PlainHttp(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_configured_hosts_are_owned() {
        let e = Endpoints::new(Cloud::Public, None, None).unwrap();
        assert!(e.owns("https://graph.microsoft.com/v1.0/users?$skiptoken=x"));
        assert!(e.owns("https://management.azure.com/subscriptions?api-version=1"));
        assert!(!e.owns("https://graph.microsoft.com.evil.example/v1.0/users"));
        assert!(!e.owns("http://graph.microsoft.com/v1.0/users"));
        assert!(!e.owns("https://evil.example/?https://graph.microsoft.com/"));
    }
}
