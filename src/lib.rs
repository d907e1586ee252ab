//! # gossip — a gossip-protocol lab
//!
//! One sans-IO protocol core ([`core`]) and the drivers that run it: a
//! deterministic simulator ([`sim`]), and (in later modules) the browser
//! bindings and the native HTTP node.

pub mod core;
pub mod movies;
pub mod rng;
pub mod sim;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
