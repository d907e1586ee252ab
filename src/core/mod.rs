//! The sans-IO protocol core.
//!
//! Pure state machines: nothing here reads a clock, draws OS randomness,
//! spawns, awaits or does IO. Time in milliseconds and seeded RNGs come in
//! from the driver; messages to send and events come out as data. The same
//! code runs in the simulator, in the browser (wasm32) and in native nodes.

pub mod auth;
pub mod config;
pub mod membership;
pub mod message;
pub mod node;
pub mod peers;
pub mod protocols;
pub mod seen;
mod spares;
pub mod store;
pub mod timer;
pub mod vector;
pub mod version;
pub mod view;

pub use auth::{Passage, Policy, PublicKey, Refusal, RefusalReason, Refusals, Seal, Signer};
pub use config::{Config, ConfigError, Protocol, RumorState, StopError, StopKind, StopRule};
pub use membership::{MemberEvent, MemberOut, Membership, NoMsg};
pub use message::{Digest, Kinds, Message, MessageKind, NodeId, Payload, Record, Update, Uuid};
pub use node::{Cx, Entry, Event, Node, NodeStats, Out, Transmit, Via};
pub use peers::{NoPeers, PeerList, PeerTable, Peers};
pub use protocols::{Dissemination, Rules, Speaks};
pub use seen::SeenCache;
pub use store::{Store, Tomb};
pub use timer::{Timer, Timers};
pub use version::{supersedes, Version, MAX_COUNTER};
