//! Remote nodes: indices of a run that stand for nodes outside it.
//!
//! The page's mixed mode (`src/mixed/`, through [`super::live::Live`]) lets
//! real nodes (reached over HTTP) and other pages' virtual nodes take part
//! in a simulated run. Each gets an index of the run, so that its updates
//! can be origins in the simulated nodes' views and a viewer can draw and
//! inspect it, but it never runs here: it is not a member (nobody samples
//! it), is not counted as live, and whatever a simulated node sends to it
//! is kept for the driver that talks to it instead of entering the network.
//!
//! Everything the simulator knows of those nodes lives here, in
//! [`Remotes`], owned by the engine's `World`: which indices are remote,
//! what each is and whether it answers, and the messages addressed to
//! them. The engine's send paths make one call ([`Remotes::takes`]), the
//! population holds a mirror node per index (`Population::add_mirror`) and
//! the live run reads [`Remotes::get`]. A run without remote nodes pays one
//! length check per message sent.
//!
//! Such an index is what the bridge (`src/mixed/`) and the page's JSON call
//! a node's *slot*; the word means nothing else in the code (a view's
//! entries are at *positions*, a hash table has *cells*, the server hands
//! out connection *permits*).

use std::collections::BTreeMap;

use serde::Serialize;

/// What a node in a live run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// Simulated here.
    Virtual,
    /// A real node reached over HTTP (it has a base URL).
    Native,
    /// A node elsewhere that cannot be dialed (another page's virtual node),
    /// known only from the updates it made.
    RemoteVirtual,
}

/// What the run knows of one remote node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remote {
    /// `Native` or `RemoteVirtual`.
    pub kind: NodeKind,
    /// Whether it answers (a native node; a remote virtual one cannot be dialed).
    pub reachable: bool,
}

/// The remote nodes of a run, and what simulated nodes sent them.
#[derive(Debug)]
pub struct Remotes<M> {
    /// `marked[i]`: node `i` is remote (the engine's fast test). Empty while there are none.
    marked: Vec<bool>,
    /// Kind and reachability of each remote node, by index.
    known: BTreeMap<u32, Remote>,
    /// Messages addressed to remote nodes, `(from, to, message)`, kept for
    /// the driver that talks to them.
    outbox: Vec<(u32, u32, M)>,
}

impl<M> Default for Remotes<M> {
    fn default() -> Self {
        Remotes { marked: Vec::new(), known: BTreeMap::new(), outbox: Vec::new() }
    }
}

impl<M> Remotes<M> {
    /// Whether any remote node exists (messages may need diverting).
    #[inline]
    pub fn any(&self) -> bool {
        !self.marked.is_empty()
    }

    /// Whether node `i` is remote.
    #[inline]
    pub fn contains(&self, i: u32) -> bool {
        self.marked.get(i as usize).copied().unwrap_or(false)
    }

    /// Whether a message to `to` is diverted here (see [`Remotes::keep`])
    /// rather than entering the network.
    #[inline]
    pub fn takes(&self, to: u32) -> bool {
        self.any() && self.contains(to)
    }

    /// Keep a message a simulated node addressed to remote node `to`.
    pub fn keep(&mut self, from: u32, to: u32, msg: M) {
        self.outbox.push((from, to, msg));
    }

    /// Messages simulated nodes addressed to remote nodes since the last
    /// call: `(from, to, message)`.
    pub fn drain(&mut self) -> Vec<(u32, u32, M)> {
        std::mem::take(&mut self.outbox)
    }

    /// Node `i` (an index the population just made) stands for a node of
    /// `kind` outside the run; a native node starts unreachable until it answers.
    pub fn insert(&mut self, i: u32, kind: NodeKind) {
        let k = i as usize;
        if self.marked.len() <= k {
            self.marked.resize(k + 1, false);
        }
        self.marked[k] = true;
        self.known.insert(i, Remote { kind, reachable: kind != NodeKind::Native });
    }

    /// What the run knows of node `i`, if it is remote.
    pub fn get(&self, i: u32) -> Option<Remote> {
        self.known.get(&i).copied()
    }

    /// What node `i` is (`Virtual` unless it is remote).
    pub fn kind(&self, i: u32) -> NodeKind {
        self.get(i).map_or(NodeKind::Virtual, |r| r.kind)
    }

    /// Mark remote node `i` answering or not (nothing if it is not remote).
    pub fn set_reachable(&mut self, i: u32, reachable: bool) {
        if let Some(r) = self.known.get_mut(&i) {
            r.reachable = reachable;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_nodes_take_messages_and_drain_empties_the_outbox() {
        let mut r: Remotes<&str> = Remotes::default();
        assert!(!r.any() && !r.takes(0));
        r.insert(3, NodeKind::Native);
        assert!(r.any() && r.takes(3) && !r.takes(2) && !r.takes(4));
        r.keep(1, 3, "a");
        r.keep(2, 3, "b");
        assert_eq!(r.drain(), vec![(1, 3, "a"), (2, 3, "b")]);
        assert!(r.drain().is_empty());
    }

    #[test]
    fn a_native_node_starts_unreachable_and_a_remote_virtual_one_reachable() {
        let mut r: Remotes<()> = Remotes::default();
        r.insert(0, NodeKind::Native);
        r.insert(1, NodeKind::RemoteVirtual);
        assert_eq!(r.get(0), Some(Remote { kind: NodeKind::Native, reachable: false }));
        assert_eq!(r.get(1), Some(Remote { kind: NodeKind::RemoteVirtual, reachable: true }));
        r.set_reachable(0, true);
        r.set_reachable(7, true);
        assert!(r.get(0).unwrap().reachable);
        assert_eq!((r.kind(7), r.get(7)), (NodeKind::Virtual, None));
    }
}
