//! Protocol selection and parameters, shared by every driver.

use serde::{Deserialize, Serialize};

pub use super::protocols::{Protocol, RumorState, StopError, StopKind, StopRule};

/// The largest TTL a default configuration accepts ([`Config::max_ttl`]).
pub const MAX_TTL: u32 = 64;

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
            max_ttl: MAX_TTL,
            max_payload: 512,
            max_view: 100_000,
            auth: super::auth::Policy::Welcome,
            anti_entropy_ms: None,
            round_robin: false,
        }
    }
}

impl Config {
    /// Why this configuration cannot run, if it cannot: a combination that
    /// makes no sense (eager push over a protocol that already pushes every
    /// fresh update) is refused with the reason, never silently dropped.
    /// Drivers call it before they make nodes; a [`super::Node`] made from a
    /// configuration that fails it runs the protocol without the option.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.protocol.check(self)
    }
}

/// A configuration that cannot run: an option that makes no sense with
/// the protocol chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Eager push over a protocol that already decides what it pushes.
    EagerDoesNotApply {
        /// The protocol's name.
        protocol: &'static str,
        /// Why it does not apply (the registry's reason).
        why: &'static str,
    },
    /// Round-robin targets for a protocol that picks no partners unless its
    /// backup exchange runs (flood sends to every peer).
    NoPartnersToTake {
        /// The protocol's name.
        protocol: &'static str,
    },
}

impl ConfigError {
    /// The option to mark (`eager`).
    pub fn param(&self) -> &'static str {
        match self {
            ConfigError::EagerDoesNotApply { .. } => "eager",
            ConfigError::NoPartnersToTake { .. } => "targets",
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::EagerDoesNotApply { protocol, why } => {
                write!(f, "eager push does not apply to {protocol}: {why} (turn eager push off)")
            }
            ConfigError::NoPartnersToTake { protocol } => write!(
                f,
                "round-robin targets do not apply to {protocol} without a backup exchange: it sends to every peer \
                 (add an anti-entropy period or leave targets at random)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
