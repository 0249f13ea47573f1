//! When to try a failed transfer again: transient failures (dropped connection, timeout) retry
//! with exponential backoff and jitter; auth, permission, not-found, no-space and protocol errors
//! (a malformed reply, an unsupported request: they recur) fail at once.
//! The budget counts only attempts that moved nothing: an attempt that carried the file further
//! than any before starts the count and the backoff again, so a flaky link that keeps making
//! progress never gives up (and the file's size bounds how often that can happen).

use std::time::Duration;

use rand::Rng;

use crate::config::TransferConfig;
use crate::remote::RemoteError;

/// Attempts and delays for one transfer.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub fn from_config(config: &TransferConfig) -> RetryPolicy {
        RetryPolicy {
            attempts: config.retry_attempts,
            min_delay: config.retry_min_delay.0,
            max_delay: config.retry_max_delay.0,
        }
    }

    /// The wait before attempt `next` (2, 3, …) after `error`, or None to give up.
    pub fn delay_before(&self, next: u32, error: &RemoteError) -> Option<Duration> {
        if !error.is_transient() || next > self.attempts {
            return None;
        }
        let exponent = next.saturating_sub(2).min(20);
        let base = self
            .min_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        // Full jitter in the upper half keeps many failed transfers from retrying in lockstep.
        let jitter = rand::rng().random_range(0.5..=1.0);
        Some(
            base.mul_f64(jitter)
                .max(self.min_delay.min(self.max_delay) / 2),
        )
    }
}

/// One transfer's spent budget: attempts since the last one that carried the file further.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Failed attempts in a row that ended no further than `reached`.
    fruitless: u32,
    /// The furthest offset any attempt reached.
    reached: u64,
}

impl Budget {
    /// A full budget for a transfer that starts (again) at `done` bytes.
    pub fn new(done: u64) -> Budget {
        Budget {
            fruitless: 0,
            reached: done,
        }
    }

    /// Counts a failed attempt that left the file at `done` bytes; returns the number of the
    /// next attempt as the policy counts it (2 right after an attempt that made progress).
    pub fn failed(&mut self, done: u64) -> u32 {
        if done > self.reached {
            self.reached = done;
            self.fruitless = 1;
        } else {
            self.fruitless += 1;
        }
        self.fruitless + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::ErrorKind;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }

    fn err(kind: ErrorKind) -> RemoteError {
        RemoteError::new(kind, &Default::default(), "")
    }

    #[test]
    fn transient_errors_back_off_exponentially_up_to_the_limit() {
        let p = policy();
        let lost = err(ErrorKind::ConnectionLost);
        let d2 = p.delay_before(2, &lost).unwrap();
        assert!(d2 >= Duration::from_millis(500) && d2 <= Duration::from_secs(1));
        let d5 = p.delay_before(5, &lost).unwrap();
        assert!(
            d5 >= Duration::from_secs(4) && d5 <= Duration::from_secs(8),
            "{d5:?}"
        );
        assert!(p.delay_before(6, &lost).is_none(), "5 attempts in all");
        let long = RetryPolicy { attempts: 30, ..p };
        assert!(long.delay_before(25, &lost).unwrap() <= Duration::from_secs(60));
    }

    #[test]
    fn attempts_that_make_progress_start_the_count_again() {
        let p = policy();
        let lost = err(ErrorKind::ConnectionLost);
        let mut budget = Budget::new(0);
        for done in 1..=50u64 {
            let next = budget.failed(done * 1000);
            assert_eq!(next, 2, "progress resets the count");
            let delay = p.delay_before(next, &lost).expect("keeps going");
            assert!(
                delay <= Duration::from_secs(1),
                "and the backoff: {delay:?}"
            );
        }
        let nexts: Vec<u32> = (0..4).map(|_| budget.failed(50_000)).collect();
        assert_eq!(nexts, [3, 4, 5, 6], "no progress counts");
        assert!(
            p.delay_before(6, &lost).is_none(),
            "five fruitless attempts in all"
        );
        assert_eq!(budget.failed(40_000), 7, "going back is no progress");
        assert_eq!(budget.failed(50_001), 2);
    }

    #[test]
    fn permanent_errors_fail_at_once() {
        for kind in [
            ErrorKind::Auth,
            ErrorKind::Permission,
            ErrorKind::NotFound,
            ErrorKind::NoSpace,
            // The same malformed reply or refused request comes back on every attempt.
            ErrorKind::Protocol,
            ErrorKind::Unsupported,
        ] {
            assert!(policy().delay_before(2, &err(kind)).is_none(), "{kind:?}");
        }
    }
}
