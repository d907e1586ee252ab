//! The `gossip` binary: a thin wrapper over [`gossip::cli`].

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    gossip::cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
