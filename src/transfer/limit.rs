//! Bandwidth limits: a token bucket shared by every transfer it governs (the global limit) or
//! owned by one request (`--limit`). Waiting happens in the transfer task, never in the UI.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Bytes per second, with up to a quarter second of burst.
#[derive(Debug)]
pub struct RateLimiter {
    rate: u64,
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
        (rate > 0).then(|| RateLimiter {
            rate,
            state: Mutex::new(Bucket {
                tokens: rate as f64 / 4.0,
                last: Instant::now(),
            }),
        })
    }

    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Waits until `bytes` may pass.
    pub async fn acquire(&self, bytes: u64) {
        let wait = {
            let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let burst = (self.rate as f64 / 4.0).max(bytes as f64);
            let elapsed = now.duration_since(bucket.last).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * self.rate as f64).min(burst);
            bucket.last = now;
            bucket.tokens -= bytes as f64;
            if bucket.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-bucket.tokens / self.rate as f64)
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
