//! When a client reconnects after its connection closed: the web client's
//! schedule, shared with the benchmark that brings a thousand clients back
//! after a restart, so the figure it measures is the web client's.

/// First wait before reconnecting, before jitter, in milliseconds.
pub const BACKOFF_BASE_MS: f64 = 500.0;
/// Longest wait before reconnecting, in milliseconds.
pub const BACKOFF_CAP_MS: f64 = 30_000.0;
/// A connection open this long counts as stable: the next drop starts the
/// backoff afresh.
pub const STABLE_MS: f64 = 10_000.0;
/// After the server closed a connection for breaking its rules (1008,
/// 1003), the client waits at least this long, and up to twice this long,
/// before it connects again: long enough that a client in a loop costs the
/// server little, short enough that nothing it holds stays stuck.
pub const REFUSED_BACKOFF_MS: f64 = 10_000.0;

/// How long to wait before reconnection attempt number `attempt` (0 for the
/// first): "full jitter", a uniformly random wait up to an exponentially
/// growing, capped limit, so that many clients dropped at once do not all
/// come back at the same moment. `random` is in `[0, 1)`.
pub fn backoff_ms(attempt: u32, random: f64) -> f64 {
    let limit = BACKOFF_BASE_MS * 2f64.powi(i32::try_from(attempt.min(16)).unwrap_or(16));
    random.clamp(0.0, 1.0) * limit.min(BACKOFF_CAP_MS)
}

/// How long to wait before reconnecting after a close with `code`. Every
/// close is followed by a reconnection: one refused for its behaviour
/// waits longer, but what the client holds (its outbox) is never stuck.
pub fn reconnect_after_ms(code: u16, attempt: u32, random: f64) -> f64 {
    if refused(code) {
        REFUSED_BACKOFF_MS * (1.0 + random.clamp(0.0, 1.0))
    } else {
        backoff_ms(attempt, random)
    }
}

/// Close codes by which the server refused the connection's behaviour:
/// 1008 (policy: it kept sending requests that were refused) and 1003
/// (data it cannot accept).
pub fn refused(code: u16) -> bool {
    matches!(code, 1003 | 1008)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_full_jitter() {
        assert_eq!(backoff_ms(0, 0.0), 0.0);
        assert_eq!(backoff_ms(0, 1.0), BACKOFF_BASE_MS);
        assert_eq!(backoff_ms(3, 1.0), 4_000.0);
        assert_eq!(backoff_ms(3, 0.5), 2_000.0);
        assert_eq!(
            backoff_ms(6, 1.0),
            BACKOFF_CAP_MS,
            "0.5 s × 64 is past the cap"
        );
        assert_eq!(backoff_ms(u32::MAX, 0.99), 0.99 * BACKOFF_CAP_MS);
        let limits: Vec<f64> = (0..8).map(|a| backoff_ms(a, 1.0)).collect();
        assert!(limits.windows(2).all(|w| w[1] >= w[0]));
    }

    #[test]
    fn refusals_wait_longer_and_every_close_reconnects() {
        for code in [1000, 1001, 1006, 1011, 1012, 4008] {
            assert!(!refused(code), "{code}");
            assert_eq!(reconnect_after_ms(code, 2, 0.5), backoff_ms(2, 0.5));
        }
        for code in [1003, 1008] {
            assert!(refused(code));
            let wait = reconnect_after_ms(code, 0, 0.25);
            assert!((REFUSED_BACKOFF_MS..=2.0 * REFUSED_BACKOFF_MS).contains(&wait));
        }
    }
}
