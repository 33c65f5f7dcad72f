//! Injected faults: 5xx, 429 with and without `Retry-After`, dropped connections and slow pages, at given rates,
//! drawn from a seeded generator so the same seed gives the same sequence of faults.

use crate::rng::Rng;

/// The fault a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ServerError,
    Throttle,
    ThrottleWithoutRetryAfter,
    Reset,
    Slow,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::ServerError => "5xx",
            Fault::Throttle => "429",
            Fault::ThrottleWithoutRetryAfter => "429-no-retry-after",
            Fault::Reset => "reset",
            Fault::Slow => "slow",
        }
    }
}

/// Rates of each fault, from `5xx=0.05,429=0.05,429-no-retry-after=0.02,reset=0.01,slow=0.01`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultRates(pub Vec<(Fault, f64)>);

impl std::str::FromStr for FaultRates {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut rates = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = part.split_once('=').ok_or_else(|| format!("'{part}' is not NAME=RATE"))?;
            let fault = match name.trim() {
                "5xx" => Fault::ServerError,
                "429" => Fault::Throttle,
                "429-no-retry-after" => Fault::ThrottleWithoutRetryAfter,
                "reset" => Fault::Reset,
                "slow" => Fault::Slow,
                other => return Err(format!("unknown fault '{other}' (5xx, 429, 429-no-retry-after, reset, slow)")),
            };
            let rate: f64 = rate.trim().parse().map_err(|_| format!("'{rate}' is not a rate between 0 and 1"))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("'{rate}' is not a rate between 0 and 1"));
            }
            rates.push((fault, rate));
        }
        let total: f64 = rates.iter().map(|(_, r)| r).sum();
        if total > 1.0 {
            return Err(format!("the rates add up to {total}, more than 1"));
        }
        Ok(FaultRates(rates))
    }
}

/// A seeded stream of fault decisions.
#[derive(Debug, Clone)]
pub struct FaultStream {
    rates: FaultRates,
    rng: Rng,
}

impl FaultStream {
    pub fn new(rates: FaultRates, seed: u64) -> Self {
        FaultStream { rates, rng: Rng::new(seed) }
    }

    /// The next request's fault, if any.
    pub fn draw(&mut self) -> Option<Fault> {
        if self.rates.0.is_empty() {
            return None;
        }
        let u = self.rng.unit();
        let mut acc = 0.0;
        for (fault, rate) in &self.rates.0 {
            acc += rate;
            if u < acc {
                return Some(*fault);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults_and_rates_roughly_hold() {
        let rates: FaultRates = "5xx=0.1,429=0.05,reset=0.05".parse().unwrap();
        let a: Vec<_> = {
            let mut s = FaultStream::new(rates.clone(), 7);
            (0..1000).map(|_| s.draw()).collect()
        };
        let b: Vec<_> = {
            let mut s = FaultStream::new(rates.clone(), 7);
            (0..1000).map(|_| s.draw()).collect()
        };
        let c: Vec<_> = {
            let mut s = FaultStream::new(rates, 8);
            (0..1000).map(|_| s.draw()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        let server = a.iter().filter(|f| **f == Some(Fault::ServerError)).count();
        assert!((60..140).contains(&server), "{server} of 1000 at rate 0.1");
    }

    #[test]
    fn bad_specs_are_refused() {
        for bad in ["5xx", "5xx=2", "boom=0.1", "5xx=0.6,429=0.6", "5xx=x"] {
            assert!(bad.parse::<FaultRates>().is_err(), "{bad}");
        }
        assert_eq!("".parse::<FaultRates>().unwrap(), FaultRates::default());
    }
}
