//! The native integration tests, one binary: each file of this folder is a
//! module (`cargo test --release --test suite sim_swim::` runs one file's
//! tests; a plain name filter still works). `tests/web.rs` is apart: it runs
//! in the browser (`wasm-pack test`).
//!
//! Why one binary: each integration test file used to be its own crate,
//! linked (thin LTO, one codegen unit, as the release profile builds) with
//! the library and its dependencies, and each re-instantiated the same
//! generic code (tokio, axum, reqwest, rustls). The 29 binaries took about
//! 19 minutes of CPU to build from scratch, a third of the whole suite's
//! time on a fresh machine. One binary also shares one port counter
//! (`support::free_ports`) among all the tests that start real nodes.
#![cfg(not(target_arch = "wasm32"))]

mod common;
mod support;

mod check;
mod cli;
mod cli_flags;
mod conformance;
mod hostile_corpus;
mod merge_props;
mod mixed_bridge;
mod node_faults;
mod node_flags;
mod node_overload;
mod node_poisoning;
mod node_processes;
mod node_router;
mod node_swim;
mod node_tls;
mod sim_broadcast;
mod sim_golden;
mod sim_live;
mod sim_live_members;
mod sim_overlay;
mod sim_scenarios;
mod sim_swim;
mod sim_theory;
mod sim_threads;
mod sim_told;
mod sim_workload;
mod soak;
mod sweep;
mod sweep_baseline;
