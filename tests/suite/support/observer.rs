//! A cluster observer for tests with real `gossip` processes: it polls
//! `GET /state` of every node, remembers every update any node reports
//! (*acknowledged* updates: `(origin, epoch, version, uuid)`), and answers
//! the two questions a fault or soak test ends with:
//!
//! * [`Observer::lost_updates`]: did every update acknowledged so far reach
//!   (or get superseded at) every live node?
//! * [`Observer::identical_views`]: do all nodes, at one polling instant,
//!   hold the same view, each with its own current favorite in it?
//!
//! Polling is sequential over fresh loopback connections (a few ms for five
//! nodes); both waits are bounded by the deadline they are given.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gossip::server::state::StateView;

use super::state;

/// An update as `/state` shows it: `(epoch, version)` of one origin, and the UUID.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seen {
    /// The origin's incarnation.
    pub epoch: u32,
    /// Its counter within the epoch.
    pub version: u64,
    /// The update's UUID, canonical.
    pub uuid: String,
}

/// A view as compared across nodes: origin -> `(epoch, version, uuid)`.
pub type View = BTreeMap<String, (u32, u64, String)>;

/// Watches a cluster through `GET /state`; see the module documentation.
#[derive(Debug, Default)]
pub struct Observer {
    /// origin -> every `(epoch, version)` reported for it, with the first UUID seen.
    acked: BTreeMap<String, BTreeMap<(u32, u64), String>>,
    /// The same `(origin, epoch, version)` reported with two different UUIDs.
    conflicts: Vec<(String, u32, u64, String, String)>,
    polls: u64,
    answers: u64,
}

impl Observer {
    /// An observer that has seen nothing yet.
    pub fn new() -> Observer {
        Observer::default()
    }

    /// Poll `/state` of every port once and record what the answering nodes
    /// report. Returns the states, `None` for nodes that did not answer.
    pub fn poll(&mut self, ports: &[u16]) -> Vec<Option<StateView>> {
        let states: Vec<Option<StateView>> = ports.iter().map(|p| state(*p)).collect();
        self.polls += 1;
        for s in states.iter().flatten() {
            self.record(s);
        }
        states
    }

    /// Poll every `every` for `during`, recording.
    pub fn watch(&mut self, ports: &[u16], during: Duration, every: Duration) {
        let start = Instant::now();
        while start.elapsed() < during {
            let tick = Instant::now();
            self.poll(ports);
            std::thread::sleep(every.saturating_sub(tick.elapsed()).min(during.saturating_sub(start.elapsed())));
        }
    }

    /// Record every update in one node's state.
    pub fn record(&mut self, s: &StateView) {
        self.answers += 1;
        for (origin, e) in &s.view {
            let versions = self.acked.entry(origin.clone()).or_default();
            match versions.get(&(e.epoch, e.version)) {
                None => {
                    versions.insert((e.epoch, e.version), e.uuid.clone());
                }
                Some(u) if *u != e.uuid => {
                    self.conflicts.push((origin.clone(), e.epoch, e.version, u.clone(), e.uuid.clone()))
                }
                Some(_) => {}
            }
        }
    }

    /// Distinct updates acknowledged so far, over every origin.
    pub fn acknowledged(&self) -> usize {
        self.acked.values().map(BTreeMap::len).sum()
    }

    /// How many polling rounds ran, and how many `/state` answers were recorded.
    pub fn polls(&self) -> (u64, u64) {
        (self.polls, self.answers)
    }

    /// The highest acknowledged `(epoch, version)` of each origin.
    pub fn highest(&self) -> BTreeMap<String, (u32, u64)> {
        self.acked.iter().filter_map(|(o, v)| Some((o.clone(), *v.keys().next_back()?))).collect()
    }

    /// `(origin, epoch, version, uuid, other uuid)`: one version of an origin
    /// reported under two UUIDs (an origin that restarted within the same
    /// second announces above it, so these should stay rare and harmless).
    pub fn conflicts(&self) -> &[(String, u32, u64, String, String)] {
        &self.conflicts
    }

    /// Wait, at most `within`, until every live node (one that answers
    /// `/state`) holds, for each origin, a version at least as high as the
    /// highest one acknowledged before this call; keeps polling (and
    /// recording) meanwhile. Returns the `(origin, port)` pairs that never got
    /// there: empty when no acknowledged update was lost.
    pub fn lost_updates(&mut self, ports: &[u16], within: Duration) -> Vec<(String, u16)> {
        let target = self.highest();
        let start = Instant::now();
        loop {
            let states = self.poll(ports);
            let mut behind = Vec::new();
            for (port, s) in ports.iter().zip(&states) {
                let Some(s) = s else { continue }; // not live: nothing to hold
                for (origin, want) in &target {
                    let has = s.view.get(origin).map(|e| (e.epoch, e.version));
                    if has.is_none_or(|h| h < *want) {
                        behind.push((origin.clone(), *port));
                    }
                }
            }
            if behind.is_empty() || start.elapsed() >= within {
                return behind;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait, at most `within`, until one polling instant finds every node
    /// answering with the same view (origin -> epoch, version, UUID), each
    /// node's own entry being its current favorite and version. Returns how
    /// long it took, or the last difference seen.
    pub fn identical_views(&mut self, ports: &[u16], within: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let states = self.poll(ports);
            let why = match differences(ports, &states) {
                None => return Ok(start.elapsed()),
                Some(why) => why,
            };
            if start.elapsed() >= within {
                return Err(format!("views not identical after {within:?}: {why}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A node's view as compared across nodes.
pub fn view_of(s: &StateView) -> View {
    s.view.iter().map(|(o, e)| (o.clone(), (e.epoch, e.version, e.uuid.clone()))).collect()
}

/// `None` when every node answered with the same view and its own current
/// favorite in it; otherwise what differs.
fn differences(ports: &[u16], states: &[Option<StateView>]) -> Option<String> {
    let mut views = Vec::with_capacity(states.len());
    for (port, s) in ports.iter().zip(states) {
        let Some(s) = s else { return Some(format!("port {port} does not answer")) };
        let own = s.view.get(&s.id).map(|e| (Some(&e.movie), e.epoch, e.version));
        if own != Some((s.movie.as_ref(), s.epoch, s.version)) {
            return Some(format!(
                "port {port}: its own entry {own:?} is not its current favorite ({:?}, {}, {})",
                s.movie, s.epoch, s.version
            ));
        }
        views.push((port, view_of(s)));
    }
    let (p0, first) = views.first()?;
    for (port, v) in &views[1..] {
        if v != first {
            let keys: std::collections::BTreeSet<&String> = first.keys().chain(v.keys()).collect();
            let diff: Vec<String> = keys
                .into_iter()
                .filter(|k| first.get(*k) != v.get(*k))
                .map(|k| format!("{k}: {:?} at {p0}, {:?} at {port}", first.get(k), v.get(k)))
                .collect();
            return Some(diff.join("; "));
        }
    }
    None
}
