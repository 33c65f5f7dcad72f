//! Errors from Graph, ARM and the login endpoint, classified the way the collector needs to act on them.

use crate::azure::credential::TokenFailure;

/// A request that did not succeed (after any retries).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{service} answered {status} {code}: {message} ({url})")]
    Status { service: &'static str, status: u16, code: String, message: String, url: String },
    #[error("{service} could not be reached: {message}")]
    Transport { service: &'static str, message: String },
    #[error("authentication failed: {}", describe_auth(.0))]
    Auth(TokenFailure),
    #[error("refusing to follow a link to another host: {0}")]
    ForeignLink(String),
    #[error("{service} answered something azsnap will not act on: {message}")]
    Untrusted { service: &'static str, message: String },
    #[error("{url}: unreadable answer: {message}")]
    Json { url: String, message: String },
    #[error("{service}: gave up: {message}")]
    Limit { service: &'static str, message: String },
    #[error("{service}: gave up after {attempts} attempts ({last})")]
    RetriesExhausted { service: &'static str, attempts: u32, last: String },
}

fn describe_auth(f: &TokenFailure) -> String {
    match f {
        TokenFailure::Refused { message, .. } => message.clone(),
        TokenFailure::Unreachable(m) => format!("the login endpoint could not be reached: {m}"),
    }
}

impl ApiError {
    /// The service error code (`Authorization_RequestDenied`, `AadPremiumLicenseRequired`, …), if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Status { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The tenant lacks the license the request needs (P2 for PIM, P1/P2 for sign-in activity).
    pub fn is_license(&self) -> bool {
        matches!(
            self.code(),
            Some("AadPremiumLicenseRequired" | "Authentication_RequestFromNonPremiumTenantOrB2CTenant")
        )
    }

    /// The credentials lack a permission for this request.
    pub fn is_denied(&self) -> bool {
        matches!(self.status(), Some(403)) && !self.is_license()
            || matches!(self.code(), Some("Authorization_RequestDenied" | "AuthorizationFailed"))
    }

    /// Nothing answered, or the retry budget ran out: the run cannot go on meaningfully.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ApiError::Transport { .. }
                | ApiError::RetriesExhausted { .. }
                | ApiError::Limit { .. }
                | ApiError::Auth(TokenFailure::Unreachable(_))
        )
    }
}
