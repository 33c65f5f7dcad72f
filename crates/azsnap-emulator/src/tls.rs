//! HTTPS for the emulator (`mock serve --tls`): the server's certificate, either issued at start by a certificate
//! authority generated for this run (rcgen), or read from PEM files; and the rustls configuration that serves it.
//!
//! Clients that refuse plain http (MSAL, the Azure SDKs, `azure_identity`) are pointed at the emulator by trusting
//! the generated authority (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`), which only ever signs this one certificate.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

/// Why the emulator cannot serve HTTPS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the emulator's certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{what} is not PEM: {why}")]
    Pem { what: &'static str, why: String },
    #[error("the TLS certificate and key do not work together: {0}")]
    Config(#[from] rustls::Error),
}

/// The names the generated certificate is valid for: the emulator only listens on loopback.
const NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// The certificate the emulator serves, its key, and the authority that issued it when the emulator generated it.
pub struct TlsIdentity {
    config: Arc<rustls::ServerConfig>,
    ca_pem: Option<String>,
}

impl std::fmt::Debug for TlsIdentity {
    // The private key stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").field("generated", &self.ca_pem.is_some()).finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A new certificate authority for this run, and a server certificate it issues for `127.0.0.1`, `localhost`
    /// and `::1`. The authority's key is dropped once the certificate is signed.
    pub fn generate() -> Result<Self, TlsError> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.distinguished_name.push(DnType::CommonName, "azsnap emulator CA");
        ca.distinguished_name.push(DnType::OrganizationName, "azsnap emulator");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate()?;
        let mut leaf = CertificateParams::new(NAMES.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
        leaf.distinguished_name.push(DnType::CommonName, "azsnap emulator");
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // Strict verifiers (Python 3.13's default context) require it on every certificate an authority issues.
        leaf.use_authority_key_identifier_extension = true;
        let cert = leaf.signed_by(&key, &issuer)?;
        let chain = vec![cert.der().clone(), ca_cert.der().clone()];
        let config = server_config(chain, PrivateKeyDer::Pkcs8(key.serialize_der().into()))?;
        Ok(TlsIdentity { config, ca_pem: Some(ca_cert.pem()) })
    }

    /// A certificate chain (leaf first) and its private key, in PEM (`--tls-cert`, `--tls-key`).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        let pem =
            |what: &'static str| move |e: rustls_pki_types::pem::Error| TlsError::Pem { what, why: e.to_string() };
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(pem("the certificate file"))?;
        if chain.is_empty() {
            return Err(TlsError::Pem { what: "the certificate file", why: "it holds no certificate".to_owned() });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(pem("the key file"))?;
        Ok(TlsIdentity { config: server_config(chain, key)?, ca_pem: None })
    }

    /// The generated authority's certificate in PEM, for clients to trust; `None` for a certificate from files.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub(crate) fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }
}

/// The rustls configuration that serves `chain` over HTTP/1.1 (TLS 1.2 and 1.3).
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
