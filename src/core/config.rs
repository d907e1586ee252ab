//! Protocol selection and parameters, shared by every driver.

use serde::{Deserialize, Serialize};

/// Which dissemination protocol a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// The course's literal version: forward every fresh update to all known peers while TTL lasts.
    Flood,
    /// Anti-entropy push: every interval, send your whole view to `fanout` random peers.
    Push,
    /// Anti-entropy pull: every interval, send your digest; peers answer with what you lack.
    Pull,
    /// Scuttlebutt push-pull: digest, then deltas both ways; only what the other side lacks travels.
    PushPull,
    /// Rumor mongering (Demers et al. 1987): push hot rumors until the stop rule cools them.
    Rumor,
}

impl Protocol {
    /// Every protocol, in the order the UIs list them.
    pub const ALL: [Protocol; 5] =
        [Protocol::Flood, Protocol::Push, Protocol::Pull, Protocol::PushPull, Protocol::Rumor];

    /// The name used on command lines, in JSON and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Flood => "flood",
            Protocol::Push => "push",
            Protocol::Pull => "pull",
            Protocol::PushPull => "push-pull",
            Protocol::Rumor => "rumor",
        }
    }

    /// Parse a protocol name (`push_pull` and `pushpull` are accepted too).
    pub fn parse(s: &str) -> Option<Protocol> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        Protocol::ALL.into_iter().find(|p| p.name() == norm || p.name().replace('-', "") == norm)
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// When a rumor-mongering node loses interest in a rumor (Demers et al. 1987, section 1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StopRule {
    /// `true`: only contacts that already knew the rumor count ("feedback");
    /// `false`: every contact counts ("blind").
    pub feedback: bool,
    /// How counted contacts cool a rumor.
    pub kind: StopKind,
}

/// Counter or coin, each with its parameter `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopKind {
    /// Lose interest after `k` counted contacts.
    Counter(u8),
    /// Lose interest with probability `1/k` at each counted contact.
    Coin(u8),
}

impl Default for StopRule {
    fn default() -> Self {
        StopRule { feedback: true, kind: StopKind::Coin(1) }
    }
}

impl StopRule {
    /// The rule as the command lines and the lab spell it: `stop` is
    /// `feedback` or `blind`, with a `counter` k or a `coin` 1/k (default
    /// coin 1). The error names what is wrong.
    pub fn from_flags(stop: &str, counter: Option<u8>, coin: Option<u8>) -> Result<StopRule, String> {
        let feedback = match stop {
            "feedback" => true,
            "blind" => false,
            s => return Err(format!("stop must be feedback or blind, got {s:?}")),
        };
        let kind = match (counter, coin) {
            (Some(_), Some(_)) => return Err("give the rumor stop rule a counter or a coin, not both".into()),
            (Some(0), _) | (_, Some(0)) => return Err("counter and coin must be at least 1".into()),
            (Some(k), None) => StopKind::Counter(k),
            (None, Some(k)) => StopKind::Coin(k),
            (None, None) => StopKind::Coin(1),
        };
        Ok(StopRule { feedback, kind })
    }
}

impl std::fmt::Display for StopRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.feedback { "feedback" } else { "blind" };
        match self.kind {
            StopKind::Counter(k) => write!(f, "{mode}, counter k={k}"),
            StopKind::Coin(k) => write!(f, "{mode}, coin 1/{k}"),
        }
    }
}

/// Per-rumor state of a rumor-mongering node: hot (still spreading) and how
/// many counted contacts it has had. One byte each, so the simulator can keep
/// one per node for a million nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RumorState {
    /// Still spreading this rumor.
    pub hot: bool,
    /// Counted contacts so far (for the counter rule).
    pub count: u8,
}

impl RumorState {
    /// A freshly learned rumor: hot, nothing counted.
    pub const HOT: RumorState = RumorState { hot: true, count: 0 };

    /// Apply the stop rule after one counted contact. `coin` is drawn only for
    /// the coin rule, so the random stream is consumed identically by every
    /// implementation of the rule. Returns whether the rumor is still hot.
    pub fn count_contact(&mut self, kind: StopKind, coin: impl FnOnce(f64) -> bool) -> bool {
        if !self.hot {
            return false;
        }
        match kind {
            StopKind::Counter(k) => {
                self.count = self.count.saturating_add(1);
                if self.count >= k.max(1) {
                    self.hot = false;
                }
            }
            StopKind::Coin(k) => {
                if coin(1.0 / k.max(1) as f64) {
                    self.hot = false;
                }
            }
        }
        self.hot
    }
}

/// Everything that parameterises a node's behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Dissemination protocol.
    pub protocol: Protocol,
    /// Peers contacted per interval (and per eager push).
    pub fanout: u32,
    /// Hops a pushed update may still travel; forwarded only while > 0.
    pub ttl: u32,
    /// Gossip interval in milliseconds (one round).
    pub interval_ms: u64,
    /// Start the periodic timer at a random phase in the interval (event
    /// model, real nodes) rather than exactly at `interval_ms` (rounds model).
    pub random_phase: bool,
    /// Immediately push fresh updates (own and newly learned by push) to
    /// `fanout` random peers, as well as running the periodic protocol.
    pub eager_push: bool,
    /// Rumor mongering's stop rule.
    pub stop: StopRule,
    /// Re-sample the favorite movie this often (None: never).
    pub resample_ms: Option<u64>,
    /// Uniform jitter added to each re-sample delay, in milliseconds.
    pub resample_jitter_ms: u64,
    /// Remember a seen UUID for this long.
    pub seen_ttl_ms: u64,
    /// Hard cap on remembered UUIDs (oldest forgotten first).
    pub seen_cap: usize,
    /// Largest TTL accepted; larger ones are clamped.
    pub max_ttl: u32,
    /// Longest payload accepted, in bytes; longer updates are dropped.
    pub max_payload: usize,
    /// Most origins a view holds; updates about new origins beyond it are dropped.
    pub max_view: usize,
    /// Origin authenticity: whether updates must carry a valid Ed25519 seal.
    #[serde(default)]
    pub auth: super::auth::Policy,
    /// A backup anti-entropy exchange (push-pull digest with one random
    /// peer) this often, besides the protocol's own rounds: Demers et al.'s
    /// remedy for what rumor mongering misses, and how updates cross a
    /// healed partition. `None`: only the protocol's rounds.
    #[serde(default)]
    pub anti_entropy_ms: Option<u64>,
    /// Choose partners by walking a shuffled list of all peers (reshuffled
    /// after each pass) instead of drawing each one independently: every
    /// peer is contacted once per pass, so no node waits long for a push by
    /// bad luck (as SWIM picks its probe targets).
    #[serde(default)]
    pub round_robin: bool,
}

impl Default for Config {
    /// The app's defaults: push-pull digests plus eager push of fresh updates,
    /// one exchange a second, a new favorite about every 10 s, and every
    /// update signed by its origin (the simulator turns the checks off).
    fn default() -> Self {
        Config {
            protocol: Protocol::PushPull,
            fanout: 2,
            ttl: 6,
            interval_ms: 1_000,
            random_phase: true,
            eager_push: true,
            stop: StopRule::default(),
            resample_ms: Some(10_000),
            resample_jitter_ms: 2_000,
            seen_ttl_ms: 120_000,
            seen_cap: 100_000,
            max_ttl: 64,
            max_payload: 512,
            max_view: 100_000,
            auth: super::auth::Policy::Required,
            anti_entropy_ms: None,
            round_robin: false,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stop_rules_from_flags_and_their_errors() {
        assert_eq!(StopRule::from_flags("feedback", None, None), Ok(StopRule::default()));
        assert_eq!(
            StopRule::from_flags("blind", Some(3), None),
            Ok(StopRule { feedback: false, kind: StopKind::Counter(3) })
        );
        assert!(StopRule::from_flags("feedback", Some(2), Some(2)).unwrap_err().contains("not both"));
        assert!(StopRule::from_flags("feedback", None, Some(0)).unwrap_err().contains("at least 1"));
        assert!(StopRule::from_flags("loud", None, None).unwrap_err().starts_with("stop must be"));
    }

    use super::*;

    #[test]
    fn protocol_names_round_trip() {
        for p in Protocol::ALL {
            assert_eq!(Protocol::parse(p.name()), Some(p));
        }
        assert_eq!(Protocol::parse("push_pull"), Some(Protocol::PushPull));
        assert_eq!(Protocol::parse("PushPull"), Some(Protocol::PushPull));
        assert_eq!(Protocol::parse("gossip"), None);
    }

    #[test]
    fn counter_rule_cools_after_k_contacts() {
        let mut r = RumorState::HOT;
        assert!(r.count_contact(StopKind::Counter(3), |_| unreachable!()));
        assert!(r.count_contact(StopKind::Counter(3), |_| unreachable!()));
        assert!(!r.count_contact(StopKind::Counter(3), |_| unreachable!()));
        assert!(!r.hot);
    }

    #[test]
    fn coin_rule_uses_probability_one_over_k() {
        let mut asked = 0.0;
        let mut r = RumorState::HOT;
        assert!(r.count_contact(StopKind::Coin(4), |p| {
            asked = p;
            false
        }));
        assert_eq!(asked, 0.25);
        assert!(!r.count_contact(StopKind::Coin(4), |_| true));
    }
}
