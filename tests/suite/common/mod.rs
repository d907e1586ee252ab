//! Helpers shared by the integration tests.
#![allow(dead_code)]

use gossip::core::{Protocol, StopKind, StopRule};
use gossip::sim::{self, Model, Report, Scenario, SimConfig};

/// A configuration for `n` nodes with the simulator's literature defaults.
pub fn cfg(n: u32, protocol: Protocol, model: Model, seed: u64) -> SimConfig {
    let mut c = SimConfig { nodes: n, seed, model, ..SimConfig::default() };
    c.node.protocol = protocol;
    c
}

/// The same, running the course app.
pub fn movies(n: u32, model: Model, seed: u64) -> SimConfig {
    let mut c = cfg(n, Protocol::PushPull, model, seed);
    c.scenario = Scenario::Movies;
    c.node.eager_push = true;
    c.node.fanout = 2;
    c
}

/// A rumor-mongering configuration.
pub fn rumor(n: u32, feedback: bool, kind: StopKind, seed: u64) -> SimConfig {
    let mut c = cfg(n, Protocol::Rumor, Model::Rounds, seed);
    c.node.stop = StopRule { feedback, kind };
    c
}

/// Run, panicking with the reason if the configuration is rejected.
pub fn run(c: &SimConfig) -> Report {
    sim::run(c, &mut |_| {}).expect("valid configuration")
}

/// Mean of `f` over runs with seeds `1..=seeds`.
pub fn mean_over_seeds(c: &SimConfig, seeds: u64, f: impl Fn(&Report) -> f64) -> f64 {
    (1..=seeds)
        .map(|s| {
            let mut c = c.clone();
            c.seed = s;
            f(&run(&c))
        })
        .sum::<f64>()
        / seeds as f64
}
