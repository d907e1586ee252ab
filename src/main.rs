//! The `gossip` binary: a thin wrapper over [`gossip::cli`].

/// Large blocks on huge pages (see `gossip::huge`): the simulator's member
/// arrays are read at random places.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOC: gossip::huge::HugeAlloc = gossip::huge::HugeAlloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    // reqwest has no crypto provider of its own here (see server::tls)
    gossip::server::tls::install_default_provider();
    gossip::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
