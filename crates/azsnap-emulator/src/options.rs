//! How the emulator behaves, beyond the tenant it serves.

use crate::faults::FaultRates;
use crate::limits::Limits;
use crate::tenant::License;

/// How the emulator behaves, beyond the tenant it serves.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Overrides the tenant file's license.
    pub license: Option<License>,
    pub token_lifetime_secs: u64,
    /// Seed for the signing key and everything random.
    pub seed: u64,
    /// Items per ARM list page.
    pub arm_page_size: usize,
    /// Added delay before every answer.
    pub latency_ms: u64,
    /// Throttling limits; `None` serves without throttling.
    pub throttle: Option<Limits>,
    /// Injected fault rates (none by default).
    pub faults: FaultRates,
    /// How long a "slow" fault delays its answer.
    pub slow_ms: u64,
    /// Age at which a delta token expires (410); Graph documents 7 days.
    pub delta_token_max_age_secs: u64,
    /// Connections served at once; more are closed as they arrive.
    pub max_connections: usize,
    /// Seconds a connection may take to send a request's headers, or stay idle between requests.
    pub idle_timeout_secs: u64,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            license: None,
            token_lifetime_secs: 3599,
            seed: 1,
            arm_page_size: 100,
            latency_ms: 0,
            throttle: None,
            faults: FaultRates::default(),
            slow_ms: 1_500,
            max_connections: 512,
            idle_timeout_secs: 30,
            delta_token_max_age_secs: 7 * 24 * 3600,
        }
    }
}
