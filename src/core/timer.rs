//! A node's named timers: one enum, one table of deadlines.
//!
//! A node has a few periodic duties (re-sample its favorite, run a gossip
//! round, run a backup anti-entropy exchange). Instead of a deadline field
//! per duty folded by hand into `poll_timeout`, each duty is a [`Timer`]
//! and the [`Timers`] table holds when each is next due (`None`: off), as
//! quinn-proto keeps a connection's timers. The driver only ever sees the
//! earliest deadline; the node asks the table which timers have expired.
//!
//! [`next_after`] is the one catch-up rule every periodic timer follows,
//! in full nodes and in the simulator's compact population alike: a timer
//! that fires late (the driver called in after several periods) runs once
//! and moves to its next period after `now`, skipping the missed ones.

/// A node's timers, in the order they are handled when several are due at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// Pick a new favorite (the course app's re-sampling).
    Resample,
    /// The protocol's periodic round.
    Gossip,
    /// The backup anti-entropy exchange (`Config::anti_entropy_ms`).
    AntiEntropy,
}

impl Timer {
    /// Every timer, in handling order.
    pub const ALL: [Timer; 3] = [Timer::Resample, Timer::Gossip, Timer::AntiEntropy];
}

/// When each [`Timer`] is next due, in milliseconds (`None`: not armed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timers {
    due: [Option<u64>; 3],
}

impl Timers {
    /// When `timer` is due, if armed.
    #[inline]
    pub fn get(&self, timer: Timer) -> Option<u64> {
        self.due[timer as usize]
    }

    /// Arm `timer` at `at`, or disarm it with `None`.
    #[inline]
    pub fn set(&mut self, timer: Timer, at: Option<u64>) {
        self.due[timer as usize] = at;
    }

    /// Whether `timer` is armed and due at `now`.
    #[inline]
    pub fn expired(&self, timer: Timer, now: u64) -> bool {
        self.get(timer).is_some_and(|due| now >= due)
    }

    /// The earliest deadline of any armed timer (`u64::MAX` if none is).
    #[inline]
    pub fn next(&self) -> u64 {
        self.due.iter().flatten().copied().fold(u64::MAX, u64::min)
    }
}

/// The next deadline of a timer of period `period` that was due at `due`
/// and fired at `now` (`now >= due`): the first `due + k * period` after
/// `now`. Missed periods are skipped, not made up.
// (always inlined: at the page's opt-level "z" it was a call per node per
// round of the compact population's rounds)
#[inline(always)]
pub fn next_after(due: u64, now: u64, period: u64) -> u64 {
    let late = now - due;
    // the common case, a timer on time, without a division
    due + if late < period { period } else { (late / period + 1) * period }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_timer_skips_the_periods_it_missed() {
        assert_eq!(next_after(1000, 1000, 1000), 2000);
        assert_eq!(next_after(1000, 1999, 1000), 2000);
        assert_eq!(next_after(1000, 2000, 1000), 3000);
        assert_eq!(next_after(1000, 4500, 1000), 5000);
        assert_eq!(next_after(7, 7, 1), 8);
    }

    #[test]
    fn the_table_reports_the_earliest_armed_deadline() {
        let mut t = Timers::default();
        assert_eq!(t.next(), u64::MAX);
        t.set(Timer::Gossip, Some(500));
        t.set(Timer::AntiEntropy, Some(300));
        assert_eq!(t.next(), 300);
        assert!(t.expired(Timer::AntiEntropy, 300) && !t.expired(Timer::Gossip, 300));
        assert!(!t.expired(Timer::Resample, u64::MAX), "an unarmed timer never expires");
        t.set(Timer::AntiEntropy, None);
        assert_eq!(t.next(), 500);
    }
}
