//! Bandwidth limits: a token bucket shared by every transfer it governs (the global limit) or
//! owned by one request (`--limit`). Waiting happens in the transfer task, never in the UI.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Bytes per second, with up to a quarter second of burst. A rate of 0 lets everything pass
/// (the global limit can be changed while transfers run).
#[derive(Debug)]
pub struct RateLimiter {
    rate: AtomicU64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A limiter of `rate` bytes per second; None for 0 (unlimited).
    pub fn new(rate: u64) -> Option<RateLimiter> {
        (rate > 0).then(|| RateLimiter::adjustable(rate))
    }

    /// A limiter whose rate may change later; 0 is no limit.
    pub fn adjustable(rate: u64) -> RateLimiter {
        RateLimiter {
            rate: AtomicU64::new(rate),
            state: Mutex::new(Bucket {
                tokens: rate as f64 / 4.0,
                last: Instant::now(),
            }),
        }
    }

    pub fn rate(&self) -> u64 {
        self.rate.load(Ordering::Relaxed)
    }

    /// Changes the rate from now on (0: no limit).
    pub fn set_rate(&self, rate: u64) {
        self.rate.store(rate, Ordering::Relaxed);
        let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
        bucket.tokens = bucket.tokens.min(rate as f64 / 4.0);
        bucket.last = Instant::now();
    }

    /// Waits until `bytes` may pass.
    pub async fn acquire(&self, bytes: u64) {
        let rate = self.rate();
        if rate == 0 {
            return;
        }
        let wait = {
            let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let burst = (rate as f64 / 4.0).max(bytes as f64);
            let elapsed = now.duration_since(bucket.last).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * rate as f64).min(burst);
            bucket.last = now;
            bucket.tokens -= bytes as f64;
            if bucket.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-bucket.tokens / rate as f64)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limits_average_rate() {
        let limiter = RateLimiter::new(1_000_000).unwrap();
        let start = Instant::now();
        for _ in 0..20 {
            limiter.acquire(100_000).await;
        }
        // 2 MB at 1 MB/s, minus the initial quarter-second burst (virtual time: deterministic).
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(1700), "{elapsed:?}");
        assert!(elapsed <= Duration::from_millis(2100), "{elapsed:?}");
        assert!(RateLimiter::new(0).is_none());
    }
}
