//! # gossip — a gossip-protocol lab
//!
//! One sans-IO protocol core ([`core`]) and the drivers that run it: a
//! deterministic simulator ([`sim`]), the browser lab's bindings (`wasm`,
//! on wasm32 only) and the native HTTP node.
//!
//! # Layout
//!
//! * [`core`]: the sans-IO protocol core. No clock, no OS randomness, no IO.
//!   - `core::protocols`: one file per dissemination protocol (`flood`,
//!     `anti_entropy`: push, pull, push-pull; `rumor`; `eager`, a wrapper),
//!     and the registry that generates [`core::Protocol`] and the static
//!     dispatch of [`core::Rules`];
//!   - `core::node`: a [`core::Node`] hosts one protocol over one
//!     [`core::Store`] (what it knows and the shared rules that change it:
//!     merge, seen cache, view cap, seal gate, self-claims, digest answers),
//!     with its named timers (`core::timer`) and its partners;
//!   - `core::membership` and `core::peers`: where partners come from, as a
//!     protocol (uniform, the course's bootstrap membership, the native
//!     node's peer table);
//!   - the data: `message` (updates, digests, messages), `view` and
//!     `version` (what a node holds, the merge rule), `seen`, `auth` (seals),
//!     `config`, `spares` (buffer reuse).
//! * [`sim`]: the deterministic simulator: `engine` (rounds and events,
//!   run in slices), `population` and `compact` (how nodes are held),
//!   `network`, `timeline` (what happens from outside the nodes, on one
//!   timeline: the `faults` and the `workload`, single rumor, movies or
//!   broadcast), `metrics`, `membership` (the roster), `params`
//!   (parameters by name), `live` (a run a viewer drives), `viewer` (its
//!   bookkeeping over full nodes), `remote` (indices that stand for nodes
//!   outside the run), `window` and `pool` (threads).
//! * `server` and `node_cli` (native): the HTTP node; `cli`: `gossip sim`;
//!   `experiment` (native): `gossip sweep` (parameters times seeds, in
//!   parallel, to CSV, summaries, SVG plots, shards, baselines);
//!   `conformance` (native): `gossip test-node`, which checks a course
//!   implementation against `PROTOCOL.md`.
//! * [`mixed`]: the sans-IO bridge between the page's run and real nodes.
//! * `wasm` and `fetch` (wasm32): the browser lab's bindings and transport.
//! * [`wire`] (the JSON of `POST /gossip/`), [`rng`], [`movies`], [`hint`];
//!   `huge` (native): the binary's allocator, large blocks on huge pages.
//!
//! "Native" above is the cargo feature `native` (on by default) on a
//! native target: the program around the library and its dependencies
//! (tokio, axum, hyper, reqwest, rustls, clap, tracing). Without it
//! (`default-features = false`, as the fuzz targets build) the library is
//! the core, the simulator, the wire format and the bridge, 50 crates
//! instead of about 200.
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

#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod check;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod cli;
// the binary's allocator: large blocks on huge pages
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod huge;

// the native HTTP node
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod node_cli;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod server;

// `gossip sweep`: many runs over parameters and seeds, CSV, summary, plots
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod experiment;

// `gossip test-node`: the conformance test for course implementations
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod conformance;

// the browser lab's bindings, and their fetch transport to real nodes
#[cfg(target_arch = "wasm32")]
pub mod fetch;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
