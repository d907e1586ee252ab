//! A dissemination protocol of your own, in one file, run through the
//! deterministic simulator: `cargo run --release --example custom_protocol`.
//!
//! The protocol here is *recent push*: every round a node pushes only the
//! updates it learned in the last `WINDOW` rounds (Demers et al.'s "push
//! of recent updates"), instead of its whole view (anti-entropy push) or
//! until a stop rule cools them (rumor mongering). It is a
//! [`Dissemination`]: what to do when the gossip timer fires and which
//! messages it sends and accepts, and nothing else, because the defaults
//! say the rest (a message is handled by the store's shared rules, fresh
//! updates wait for the rounds, always busy). Everything a node knows, and the
//! rules that change it (the merge rule, the seen cache, self-claims), are
//! the node's store's; the protocol only decides what to send to whom.
//!
//! The simulator runs any such protocol on full core nodes
//! ([`FullPopulation::running`]), with the same networks, faults and
//! metrics as the registry's protocols. To make it a first-class protocol
//! of the lab (on `gossip sim --protocol`, in the page, in the parameter
//! table), move this file to `src/core/protocols/` and add one line to the
//! `registry!` in `src/core/protocols/mod.rs` with its `Info`.

use gossip::core::{
    Config, Cx, Digest, Dissemination, Kinds, Message, MessageKind, NodeId, Out, Peers, Speaks, Transmit,
};
use gossip::sim::population::FullPopulation;
use gossip::sim::{self, Model, SimConfig};

/// Rounds an update stays "recent" after a node learned it.
const WINDOW: u64 = 4;

/// Push what you learned in the last `WINDOW` rounds to `fanout` peers.
#[derive(Clone, Copy, Debug)]
struct RecentPush {
    /// How long an update stays recent, ms.
    window_ms: u64,
}

impl Dissemination for RecentPush {
    fn from_config(cfg: &Config) -> Self {
        RecentPush { window_ms: WINDOW * cfg.interval_ms }
    }

    fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let store = cx.store();
        let recent: Vec<_> = store
            .view()
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.learned_at) < self.window_ms)
            .filter_map(|(origin, _)| store.stored_update(origin))
            .collect();
        if recent.is_empty() {
            return;
        }
        let targets = cx.sample(peers, cx.fanout());
        for t in &targets {
            let msg = Message::Delta { updates: recent.clone(), request: Digest::default() };
            out.sends.push(Transmit { to: t.clone(), msg });
        }
        cx.done(targets);
    }

    /// It sends deltas (its rounds, and the store's answer to a digest) and
    /// takes the store's state messages.
    fn speaks(self) -> Speaks {
        Speaks { sends: Kinds::NONE.with(MessageKind::Delta), accepts: Kinds::STATE }
    }
}

/// One run of `cfg` with the protocol `P` on full core nodes.
fn run<P: Dissemination + Send + Sync>(cfg: &SimConfig) -> sim::Report {
    let pop = FullPopulation::<P>::running(cfg.nodes, cfg.node_config(), cfg.seed);
    let mut runner = sim::runner(cfg, pop);
    let (stop, time_ms) = runner.run(&mut |_| {});
    sim::report(cfg, &runner.w, stop, time_ms)
}

fn main() {
    // one update at node 0, 10,000 nodes, synchronous rounds, 5 % loss
    let mut cfg = SimConfig { nodes: 10_000, seed: 7, model: Model::Rounds, ..SimConfig::default() };
    cfg.node.fanout = 2;
    cfg.net.loss = 0.05;
    cfg.duration_ms = Some(60_000);
    cfg.validate().expect("a valid configuration");

    println!("one update, {} nodes, fanout {}, loss {}", cfg.nodes, cfg.node.fanout, cfg.net.loss);
    println!("{:<14} {:>9} {:>12} {:>9} {:>10}", "protocol", "informed", "rounds_full", "messages", "duplicates");
    let recent = run::<RecentPush>(&cfg);
    // the registry's protocols, for comparison, on the same seed
    let push = run::<gossip::core::protocols::anti_entropy::Push>(&cfg);
    let push_pull = run::<gossip::core::protocols::anti_entropy::PushPull>(&cfg);
    for (name, r) in [("recent push", &recent), ("push", &push), ("push-pull", &push_pull)] {
        let full = r.rounds_full.map_or("never".to_string(), |k| k.to_string());
        println!("{name:<14} {:>9} {full:>12} {:>9} {:>10}", r.informed, r.messages, r.duplicates);
    }
    // pushing only what is recent costs far fewer messages than pushing the
    // whole view every round, and with this window still informs nearly all
    assert!(recent.messages < push.messages);
    assert!(recent.informed as f64 >= 0.99 * f64::from(cfg.nodes), "{} informed", recent.informed);
}
