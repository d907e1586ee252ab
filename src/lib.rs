//! # gossip — a gossip-protocol lab
//!
//! One sans-IO protocol core ([`core`]) and the drivers that run it: a
//! deterministic simulator ([`sim`]), the browser lab's bindings (`wasm`,
//! on wasm32 only) and the native HTTP node.
//!
//! ```
//! use gossip::core::Protocol;
//! use gossip::sim::{self, SimConfig};
//!
//! // Karp et al.: push-pull informs n nodes in about log3 n + log2 ln n rounds.
//! let mut cfg = SimConfig { nodes: 10_000, seed: 7, ..SimConfig::default() };
//! cfg.node.protocol = Protocol::PushPull;
//! let report = sim::run(&cfg, &mut |_progress| {}).unwrap();
//! assert_eq!(report.residue, 0.0);
//! assert!((10..=14).contains(&report.rounds_full.unwrap()));
//! ```

pub mod core;
pub mod hint;
pub mod mixed;
pub mod movies;
pub mod rng;
pub mod sim;
pub mod wire;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

// the native HTTP node
#[cfg(not(target_arch = "wasm32"))]
pub mod node_cli;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;

// the browser lab's bindings, and their fetch transport to real nodes
#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
