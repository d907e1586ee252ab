//! Static overlays: graphs built once from a seeded RNG, and a membership
//! whose neighbours never change.
//!
//! Gossip theory assumes a well-mixed graph (every node can pick any other,
//! or at least a random regular graph). Real deployments and Maelstrom's
//! exercises often run on fixed topologies instead: a line, a grid, a tree,
//! a ring lattice. Building those here, as membership sources for the
//! simulator's overlay population, lets people see where the theory's
//! curves stop holding (a line's last delivery hop is n − 1, not log n).
//!
//! Builders (all undirected, no self-loops, no multi-edges, nodes `0..n`):
//! ring lattice (each node linked to `k/2` neighbours on each side), random
//! k-out (each node picks `k` others; links are symmetric, so degrees are at
//! least `k`), Watts–Strogatz (a ring lattice whose edges are rewired with
//! probability `p`), Barabási–Albert (preferential attachment, `m` links
//! per new node), and Maelstrom's grid (√n columns, 4-neighbour), line and
//! tree (node `i`'s parent is `(i − 1) / arity`).
//!
//! [`Graph`] also measures a graph as the overlay report does: degrees,
//! symmetry (always true here), connectivity, average shortest path
//! (breadth-first search from sampled sources) and clustering coefficient.
//! [`StaticOverlay`] is a node's [`Membership`]: its neighbours, no
//! messages, no timers.

use super::{Membership, NoMsg};
use crate::core::peers::Peers;
use crate::rng::{sample_indices, Rng};

/// A static overlay's shape and its parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Topology {
    /// Ring lattice: each node linked to the `k / 2` nearest on each side (`k` even).
    Ring {
        /// Degree (even, at least 2).
        k: u32,
    },
    /// Random k-out: each node links to `k` uniformly chosen others (links symmetric).
    KOut {
        /// Links each node makes.
        k: u32,
    },
    /// Watts–Strogatz: a ring lattice of degree `k`, each edge's far end
    /// rewired to a uniform node with probability `p`.
    WattsStrogatz {
        /// The lattice's degree (even, at least 2).
        k: u32,
        /// Rewiring probability.
        p: f64,
    },
    /// Barabási–Albert: from a clique of `m + 1` nodes, each new node links
    /// to `m` distinct nodes chosen with probability proportional to degree.
    BarabasiAlbert {
        /// Links each new node makes.
        m: u32,
    },
    /// Maelstrom's grid: `ceil(sqrt(n))` columns, each node linked to its
    /// left, right, upper and lower neighbour.
    Grid,
    /// Maelstrom's line: node `i` linked to `i − 1` and `i + 1`.
    Line,
    /// Maelstrom's tree: node `i > 0` linked to its parent `(i − 1) / arity`.
    Tree {
        /// Children per node (Maelstrom's tree2, tree3, tree4).
        arity: u32,
    },
}

/// Why a topology cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyError(pub String);

impl std::fmt::Display for TopologyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TopologyError {}

impl Topology {
    /// Its name on command lines and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Topology::Ring { .. } => "ring",
            Topology::KOut { .. } => "k-out",
            Topology::WattsStrogatz { .. } => "watts-strogatz",
            Topology::BarabasiAlbert { .. } => "barabasi-albert",
            Topology::Grid => "grid",
            Topology::Line => "line",
            Topology::Tree { .. } => "tree",
        }
    }

    /// Whether `n` nodes can take it with its parameter; the error says why not.
    pub fn check(self, n: u32) -> Result<(), TopologyError> {
        let err = |s: String| Err(TopologyError(s));
        match self {
            Topology::Ring { k } | Topology::WattsStrogatz { k, .. } => {
                if k < 2 || k % 2 == 1 || k >= n {
                    return err(format!(
                        "{} needs an even degree from 2 to nodes - 1 ({}), got {k}",
                        self.name(),
                        n.saturating_sub(1)
                    ));
                }
                if let Topology::WattsStrogatz { p, .. } = self {
                    if !(0.0..=1.0).contains(&p) {
                        return err(format!("watts-strogatz needs a rewiring probability from 0 to 1, got {p}"));
                    }
                }
            }
            Topology::KOut { k } if k == 0 || k >= n => {
                return err(format!("k-out needs a degree from 1 to nodes - 1 ({}), got {k}", n.saturating_sub(1)));
            }
            Topology::BarabasiAlbert { m } if m == 0 || m >= n => {
                return err(format!(
                    "barabasi-albert needs a degree (links per new node) from 1 to nodes - 1 ({}), got {m}",
                    n.saturating_sub(1)
                ));
            }
            Topology::Tree { arity: 0 } => return err("tree needs an arity (degree) of at least 1".into()),
            _ => {}
        }
        Ok(())
    }

    /// The graph on nodes `0..n`, drawing from `rng` (builders without
    /// randomness draw nothing).
    pub fn build(self, n: u32, rng: &mut Rng) -> Result<Graph, TopologyError> {
        self.check(n)?;
        let mut g = Graph::empty(n);
        match self {
            Topology::Ring { k } => ring(&mut g, k),
            Topology::WattsStrogatz { k, p } => {
                ring(&mut g, k);
                // each lattice edge (i, i + d), d = 1..=k/2, in order: keep
                // it, or move its far end to a uniform node that is neither
                // i nor already linked to i (Watts and Strogatz 1998)
                for d in 1..=k / 2 {
                    for i in 0..n {
                        let j = (i + d) % n;
                        if !rng.chance(p) || g.adj[i as usize].len() as u32 >= n - 1 {
                            continue;
                        }
                        let t = loop {
                            let t = rng.below(u64::from(n)) as u32;
                            if t != i && !g.has(i, t) {
                                break t;
                            }
                        };
                        g.remove(i, j);
                        g.link(i, t);
                    }
                }
            }
            Topology::KOut { k } => {
                let mut picks = Vec::with_capacity(k as usize);
                for i in 0..n {
                    picks.clear();
                    sample_indices(rng, n as usize, Some(i as usize), k as usize, &mut picks);
                    for &j in &picks {
                        g.link(i, j as u32);
                    }
                }
            }
            Topology::BarabasiAlbert { m } => {
                // every edge's two ends, so that a uniform draw from it is a
                // draw proportional to degree
                let mut ends: Vec<u32> = Vec::new();
                for i in 0..=m {
                    for j in 0..i {
                        g.link(i, j);
                        ends.extend([i, j]);
                    }
                }
                let mut chosen = Vec::with_capacity(m as usize);
                for i in m + 1..n {
                    chosen.clear();
                    while chosen.len() < m as usize {
                        let t = ends[rng.below(ends.len() as u64) as usize];
                        if !chosen.contains(&t) {
                            chosen.push(t);
                        }
                    }
                    for &t in &chosen {
                        g.link(i, t);
                        ends.extend([i, t]);
                    }
                }
            }
            Topology::Grid => {
                let cols = (1..=n).find(|c| u64::from(*c) * u64::from(*c) >= u64::from(n)).unwrap_or(1);
                for i in 0..n {
                    if (i + 1) % cols != 0 && i + 1 < n {
                        g.link(i, i + 1);
                    }
                    if i + cols < n {
                        g.link(i, i + cols);
                    }
                }
            }
            Topology::Line => {
                for i in 1..n {
                    g.link(i - 1, i);
                }
            }
            Topology::Tree { arity } => {
                for i in 1..n {
                    g.link(i, (i - 1) / arity);
                }
            }
        }
        for a in &mut g.adj {
            a.sort_unstable();
        }
        Ok(g)
    }
}

fn ring(g: &mut Graph, k: u32) {
    let n = g.len();
    for d in 1..=k / 2 {
        for i in 0..n {
            g.link(i, (i + d) % n);
        }
    }
}

/// A graph on nodes `0..n` as adjacency lists (undirected graphs list each
/// edge at both ends; an overlay's views may be asymmetric, see
/// [`Graph::symmetric`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    /// `adj[i]`: the nodes `i` links to.
    pub adj: Vec<Vec<u32>>,
}

impl Graph {
    /// `n` nodes, no edges.
    pub fn empty(n: u32) -> Graph {
        Graph { adj: vec![Vec::new(); n as usize] }
    }

    /// Nodes.
    pub fn len(&self) -> u32 {
        self.adj.len() as u32
    }

    /// Whether it has no nodes.
    pub fn is_empty(&self) -> bool {
        self.adj.is_empty()
    }

    /// Whether `i` links to `j`.
    pub fn has(&self, i: u32, j: u32) -> bool {
        self.adj[i as usize].contains(&j)
    }

    /// Link `i` and `j` both ways (nothing if `i == j` or already linked).
    pub fn link(&mut self, i: u32, j: u32) {
        if i != j && !self.has(i, j) {
            self.adj[i as usize].push(j);
            self.adj[j as usize].push(i);
        }
    }

    /// Unlink `i` and `j` both ways.
    pub fn remove(&mut self, i: u32, j: u32) {
        self.adj[i as usize].retain(|&x| x != j);
        self.adj[j as usize].retain(|&x| x != i);
    }

    /// Undirected edges: the links counted once (for a symmetric graph, half
    /// the sum of the degrees).
    pub fn edges(&self) -> u64 {
        self.adj.iter().map(|a| a.len() as u64).sum::<u64>() / 2
    }

    /// Whether every link `i → j` has its `j → i`.
    pub fn symmetric(&self) -> bool {
        self.adj.iter().enumerate().all(|(i, a)| a.iter().all(|&j| self.adj[j as usize].contains(&(i as u32))))
    }

    /// The graph restricted to the nodes `keep` says yes to (others lose
    /// every link; they stay as isolated indices).
    pub fn induced(&self, keep: impl Fn(u32) -> bool) -> Graph {
        let adj =
            (0..self.len())
                .map(|i| {
                    if keep(i) {
                        self.adj[i as usize].iter().copied().filter(|&j| keep(j)).collect()
                    } else {
                        Vec::new()
                    }
                })
                .collect();
        Graph { adj }
    }

    /// Hop distances from `src` along links (`u32::MAX`: unreachable).
    pub fn distances(&self, src: u32, dist: &mut Vec<u32>, queue: &mut Vec<u32>) {
        dist.clear();
        dist.resize(self.adj.len(), u32::MAX);
        queue.clear();
        dist[src as usize] = 0;
        queue.push(src);
        let mut head = 0;
        while let Some(&u) = queue.get(head) {
            head += 1;
            let d = dist[u as usize] + 1;
            for &v in &self.adj[u as usize] {
                if dist[v as usize] == u32::MAX {
                    dist[v as usize] = d;
                    queue.push(v);
                }
            }
        }
    }

    /// Whether the nodes `among` says yes to are all reachable from one
    /// another (following links; true for fewer than two).
    pub fn connected(&self, among: impl Fn(u32) -> bool) -> bool {
        let Some(start) = (0..self.len()).find(|&i| among(i)) else { return true };
        let (mut dist, mut queue) = (Vec::new(), Vec::new());
        self.distances(start, &mut dist, &mut queue);
        (0..self.len()).filter(|&i| among(i)).all(|i| dist[i as usize] != u32::MAX)
    }

    /// The mean hop distance between reachable pairs, from up to `sources`
    /// sources drawn from the nodes `among` says yes to (all of them if
    /// fewer), and the largest distance seen. `(0, 0)` without pairs.
    pub fn shortest_paths(&self, among: impl Fn(u32) -> bool, sources: usize, rng: &mut Rng) -> (f64, u32) {
        let nodes: Vec<u32> = (0..self.len()).filter(|&i| among(i)).collect();
        let mut picks = Vec::new();
        sample_indices(rng, nodes.len(), None, sources, &mut picks);
        let (mut dist, mut queue) = (Vec::new(), Vec::new());
        let (mut sum, mut pairs, mut max) = (0u64, 0u64, 0u32);
        for &p in &picks {
            let src = nodes[p];
            self.distances(src, &mut dist, &mut queue);
            for &v in &nodes {
                let d = dist[v as usize];
                if v != src && d != u32::MAX {
                    sum += u64::from(d);
                    pairs += 1;
                    max = max.max(d);
                }
            }
        }
        if pairs == 0 {
            (0.0, 0)
        } else {
            (sum as f64 / pairs as f64, max)
        }
    }

    /// The mean local clustering coefficient over the nodes `among` says
    /// yes to (Watts and Strogatz: the fraction of a node's neighbour pairs
    /// that are linked; 0 for a node with fewer than two neighbours).
    pub fn clustering(&self, among: impl Fn(u32) -> bool) -> f64 {
        let (mut sum, mut count) = (0.0, 0u64);
        for i in 0..self.len() {
            if !among(i) {
                continue;
            }
            count += 1;
            let a = &self.adj[i as usize];
            if a.len() < 2 {
                continue;
            }
            let mut linked = 0u64;
            for (x, &u) in a.iter().enumerate() {
                for &v in &a[x + 1..] {
                    if self.has(u, v) {
                        linked += 1;
                    }
                }
            }
            let pairs = (a.len() * (a.len() - 1) / 2) as f64;
            sum += linked as f64 / pairs;
        }
        if count == 0 {
            0.0
        } else {
            sum / count as f64
        }
    }
}

/// A node's membership in a static overlay: its neighbours, fixed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaticOverlay<Id> {
    neighbours: Vec<Id>,
}

impl<Id> StaticOverlay<Id> {
    /// A membership of exactly `neighbours`.
    pub fn new(neighbours: Vec<Id>) -> Self {
        StaticOverlay { neighbours }
    }

    /// Its neighbours.
    pub fn neighbours(&self) -> &[Id] {
        &self.neighbours
    }
}

impl<Id: Clone + PartialEq> Peers<Id> for StaticOverlay<Id> {
    fn sample(&self, rng: &mut Rng, me: &Id, k: usize, out: &mut Vec<Id>) {
        let skip = self.neighbours.iter().position(|p| p == me);
        let mut idx = Vec::with_capacity(k);
        sample_indices(rng, self.neighbours.len(), skip, k, &mut idx);
        out.extend(idx.into_iter().map(|i| self.neighbours[i].clone()));
    }

    fn all(&self, me: &Id, out: &mut Vec<Id>) {
        out.extend(self.neighbours.iter().filter(|p| *p != me).cloned());
    }
}

/// Neighbours never change: no messages, no timers, no events.
impl<Id: Clone + PartialEq> Membership<Id> for StaticOverlay<Id> {
    type Msg = NoMsg;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(t: Topology, n: u32, seed: u64) -> Graph {
        let g = t.build(n, &mut Rng::new(seed)).expect("valid");
        assert!(g.symmetric(), "{t:?}: links both ways");
        for (i, a) in g.adj.iter().enumerate() {
            assert!(!a.contains(&(i as u32)), "{t:?}: no self-loop");
            let mut s = a.clone();
            s.dedup();
            assert_eq!(s.len(), a.len(), "{t:?}: no multi-edge");
        }
        g
    }

    fn degrees(g: &Graph) -> Vec<usize> {
        g.adj.iter().map(Vec::len).collect()
    }

    #[test]
    fn a_ring_lattice_is_k_regular_with_n_k_over_2_edges_and_lattice_clustering() {
        let g = build(Topology::Ring { k: 4 }, 100, 1);
        assert!(degrees(&g).iter().all(|&d| d == 4));
        assert_eq!(g.edges(), 200);
        assert!(g.connected(|_| true));
        // a ring lattice's clustering is 3(k - 2) / (4(k - 1)) = 0.5 for k = 4
        assert!((g.clustering(|_| true) - 0.5).abs() < 1e-12);
        // mean distance on a ring of degree 4: about n / (2k) = 12.5
        let (asp, max) = g.shortest_paths(|_| true, 100, &mut Rng::new(1));
        assert!((12.0..13.0).contains(&asp) && max == 25, "{asp} {max}");
    }

    #[test]
    fn watts_strogatz_keeps_the_edge_count_and_rewiring_shortens_paths_and_lowers_clustering() {
        let lattice = build(Topology::WattsStrogatz { k: 6, p: 0.0 }, 1000, 3);
        let small = build(Topology::WattsStrogatz { k: 6, p: 0.1 }, 1000, 3);
        let random = build(Topology::WattsStrogatz { k: 6, p: 1.0 }, 1000, 3);
        for g in [&lattice, &small, &random] {
            assert_eq!(g.edges(), 3000);
        }
        let cl = |g: &Graph| g.clustering(|_| true);
        let asp = |g: &Graph| g.shortest_paths(|_| true, 50, &mut Rng::new(2)).0;
        // the small world: paths nearly as short as random, clustering nearly a lattice's
        assert!(asp(&small) < asp(&lattice) / 5.0, "{} vs {}", asp(&small), asp(&lattice));
        assert!(cl(&small) > 0.4 && cl(&random) < 0.05, "{} {}", cl(&small), cl(&random));
    }

    #[test]
    fn k_out_gives_every_node_at_least_k_links_and_at_most_n_k_edges() {
        let g = build(Topology::KOut { k: 3 }, 2000, 5);
        assert!(degrees(&g).iter().all(|&d| d >= 3));
        // k n picks, minus the few that picked each other
        let e = g.edges();
        assert!((5_990..=6_000).contains(&e), "{e}");
        assert!(g.connected(|_| true));
    }

    #[test]
    fn barabasi_albert_has_m_links_per_new_node_and_a_heavy_tailed_degree() {
        let (n, m) = (5000, 2);
        let g = build(Topology::BarabasiAlbert { m }, n, 7);
        let clique = u64::from(m) * u64::from(m + 1) / 2;
        assert_eq!(g.edges(), clique + u64::from(n - m - 1) * u64::from(m));
        let d = degrees(&g);
        assert!(d.iter().all(|&x| x >= m as usize));
        // hubs: the largest degree far above the mean (about 2m), as a power law has
        assert!(*d.iter().max().unwrap() > 20 * m as usize, "max degree {}", d.iter().max().unwrap());
        assert!(g.connected(|_| true));
    }

    #[test]
    fn maelstrom_grid_line_and_tree_have_their_exact_shapes() {
        let grid = build(Topology::Grid, 25, 0);
        // a 5 x 5 grid: 2 * 5 * 4 edges, corners of degree 2, inside 4
        assert_eq!(grid.edges(), 40);
        assert_eq!((grid.adj[0].len(), grid.adj[12].len(), grid.adj[24].len()), (2, 4, 2));
        assert_eq!(grid.shortest_paths(|_| true, 25, &mut Rng::new(1)).1, 8, "corner to corner");
        let line = build(Topology::Line, 10, 0);
        assert_eq!((line.edges(), line.shortest_paths(|_| true, 10, &mut Rng::new(1)).1), (9, 9));
        let tree = build(Topology::Tree { arity: 2 }, 15, 0);
        assert_eq!(tree.edges(), 14);
        assert_eq!(tree.adj[0], vec![1, 2]);
        assert_eq!(tree.adj[6], vec![2, 13, 14]);
        assert!(tree.connected(|_| true) && tree.clustering(|_| true) == 0.0);
        // a grid of a non-square count still connects every node
        assert!(build(Topology::Grid, 23, 0).connected(|_| true));
    }

    #[test]
    fn bad_parameters_are_refused_with_the_reason() {
        let e = Topology::Ring { k: 3 }.check(10).unwrap_err().to_string();
        assert!(e.contains("even degree"), "{e}");
        assert!(Topology::KOut { k: 10 }.check(10).is_err());
        assert!(Topology::WattsStrogatz { k: 4, p: 1.5 }.check(10).unwrap_err().0.contains("probability"));
        assert!(Topology::Tree { arity: 0 }.check(10).is_err());
        assert!(Topology::BarabasiAlbert { m: 0 }.check(10).is_err());
    }

    #[test]
    fn a_static_overlay_offers_its_neighbours_only() {
        let s = StaticOverlay::new(vec![3u32, 5, 9]);
        let mut out = Vec::new();
        s.all(&5, &mut out);
        assert_eq!(out, vec![3, 9]);
        out.clear();
        s.sample(&mut Rng::new(4), &1, 2, &mut out);
        assert!(out.len() == 2 && out.iter().all(|x| [3, 5, 9].contains(x)));
        assert_eq!(s.poll_timeout(), u64::MAX, "no timers");
    }
}
