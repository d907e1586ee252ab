//! The `gossip` binary: a thin wrapper over [`gossip::cli`].

/// mimalloc, not the system's: see BENCHMARKS.md ("Two threads").
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    gossip::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
