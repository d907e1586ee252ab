// The guided lessons, as data: each is a link (`#lesson=ID`) that sets a
// scenario (`params`, named as gossip sim's flags in snake_case, every one
// given so `gossip sim` with the same flags and `--engine full` runs the
// same run), optionally a second configuration run beside it (`compare`:
// the parameters B changes), and steps saying what to watch at which
// virtual time (shown at `speed`: 10 for a long run, else 1×). `outcome`
// states what the run shows; `check(a, b)` checks it on the reports
// (`gossip sim --json`'s keys; `b` the compared run's, or null) and returns
// the claims that do not hold (empty: all hold).
// tests/e2e/teach.test.mjs runs every lesson natively with `gossip sim` and
// in the page, and runs `check` on both.
// `figures` are the numbers the text states, by report path (`a.rounds`,
// `b.partition.repair_ms`, `a.coverage.5.1`), each to the precision it is
// written with: the test compares them with the seeded run's reports, so
// a change in the simulator that moves a number fails until the text is
// brought up to date.
// No DOM here: node imports this file too.

const within = (name, x, lo, hi) => (x !== null && x !== undefined && x >= lo && x <= hi ? [] : [`${name} = ${x}, expected ${lo}..${hi}`]);
const equal = (name, x, want) => (x === want ? [] : [`${name} = ${JSON.stringify(x)}, expected ${JSON.stringify(want)}`]);

export const LESSONS = [
  {
    id: 'doubling',
    title: 'Doubling: log n rounds',
    params: { nodes: 1024, seed: 1, scenario: 'single', model: 'rounds', protocol: 'push', fanout: 1 },
    compare: { fanout: 2 },
    summary: 'One rumor at node 0, push to one random peer per round. While few know it, almost every push lands on a node that did not: the informed count doubles each round, so reaching n takes about log2 n rounds, plus ln n more to find the last ones (Pittel: log2 n + ln n + O(1), 10 + 6.9 for n = 1024). B pushes to two peers: the count triples.',
    steps: [
      { at_ms: 0, text: 'Round 0: only node 0 knows the rumor. Watch the counter "up to date" and the chart.' },
      { at_ms: 5000, text: 'Round 5: 32 of 1,024 (A) know it, 2^5: hardly any push was wasted yet. B (fanout 2) at 217: less than 3^5 = 243, as its pushes already start to collide.' },
      { at_ms: 10000, text: 'Round 10: A passes half. From here pushes land more and more on nodes that already know (the duplicates counter climbs).' },
      { at_ms: 18000, text: 'A converges at round 18 (log2 1024 + ln 1024 = 16.9); B at round 10. The last few nodes take the longest: each round only a fraction of the pushes find them.' },
    ],
    figures: { 'a.rounds': 18, 'b.rounds': 10, 'a.coverage.5.1': 0.03125, 'b.coverage.5.1': 0.2119140625 },
    outcome: 'A converges in 18 rounds, B (fanout 2) in 10.',
    check: (a, b) => [
      ...equal('A stop_reason', a.stop_reason, 'converged'),
      ...within('A rounds', a.rounds, 14, 22),
      // the first rounds double exactly or nearly (coverage at round k ≈ 2^k / n)
      ...[1, 2, 3, 4, 5].flatMap((k) => within(`A coverage at round ${k}`, a.coverage[k][1] * 1024, 0.75 * 2 ** k, 2 ** k)),
      ...(b ? [...equal('B stop_reason', b.stop_reason, 'converged'), ...within('B rounds', b.rounds, 7, 13)] : []),
    ],
  },
  {
    id: 'ttl',
    title: 'TTL too small',
    params: { nodes: 200, seed: 1, scenario: 'single', model: 'rounds', protocol: 'rumor', counter: 20, ttl: 1 },
    compare: { ttl: 3 },
    summary: 'Rumor mongering with a patient stop rule (a node keeps pushing until 20 of its contacts already knew the rumor) but TTL 1. The origin holds its rumor at TTL 1, so its pushes carry TTL 0; a node holding a rumor at TTL 0 keeps it but never passes it on. Only node 0 ever pushes, one peer a round. B has TTL 3: the rumor travels three hops and reaches everyone.',
    speed: 10, // a long run: shown at 10× (Next still stops at each step)
    steps: [
      { at_ms: 0, text: 'Node 0 starts pushing, one random peer a round (fanout 1).' },
      { at_ms: 10000, text: 'A: about one new node a round, all told by node 0 itself; B: the nodes node 0 told push too, and the count grows geometrically.' },
      { at_ms: 43000, text: 'B is quiescent with all 200 nodes told. A is still crawling: node 0 is the only pusher.' },
      { at_ms: 96000, text: 'A stops ("quiescent": 20 of node 0\'s contacts already knew) with 123 of 200 nodes never told: a residue of 0.615.' },
    ],
    figures: { 'a.residue': 0.615, 'a.informed': 77, 'a.time_ms': 96000, 'b.informed': 200, 'b.time_ms': 43000 },
    outcome: 'A goes quiescent after 96 rounds with a residue of 0.615 (77 of 200 informed); B (TTL 3) informs all 200 in 43 rounds.',
    check: (a, b) => [
      ...equal('A stop_reason', a.stop_reason, 'quiescent'),
      ...within('A residue', a.residue, 0.5, 0.75),
      ...(b ? [...within('B residue', b.residue, 0, 0), ...equal('B informed', b.informed, 200)] : []),
    ],
  },
  {
    id: 'residue',
    title: "Rumor mongering's residue (Demers)",
    params: { nodes: 1000, seed: 1, scenario: 'single', model: 'rounds', protocol: 'rumor', stop: 'feedback', coin: 1 },
    compare: { coin: 2 },
    summary: 'Rumor mongering with feedback and a coin: a node that pushes to someone who already knew loses interest with probability 1/k. Rumors die out before everyone has heard: Demers et al. derive that a fraction s with s = e^{-(k+1)(1-s)} stays uninformed (0.203 for k = 1, 0.060 for k = 2, in their asynchronous model). In synchronous rounds the lab measures a little less: about 0.17 for k = 1 (tests/suite/sim_theory.rs) and 0.05 for k = 2.',
    steps: [
      { at_ms: 0, text: 'Node 0 pushes the rumor; every node that learns it becomes a pusher too ("hot").' },
      { at_ms: 12000, text: 'Three nodes in four know it now (76.7 % in A), so most pushes meet a node that already knew: coins are tossed, pushers go cold, and the curve flattens below 100 %.' },
      { at_ms: 24000, text: 'Both runs are quiescent (A after 18 rounds, B after 24): nobody is hot any more, and the uninformed nodes (amber) will never hear the rumor. A leaves 17.5 % (k = 1), B 5.7 % (k = 2): a larger k buys a smaller residue with more messages.' },
    ],
    figures: { 'a.residue': 0.175, 'b.residue': 0.057, 'a.rounds': 18, 'b.rounds': 24, 'a.coverage.12.1': 0.767 },
    outcome: 'A (coin k = 1) leaves a residue of 0.175, B (k = 2) 0.057; both go quiescent.',
    check: (a, b) => [
      ...equal('A stop_reason', a.stop_reason, 'quiescent'),
      ...within('A residue', a.residue, 0.13, 0.22),
      ...(b ? [...equal('B stop_reason', b.stop_reason, 'quiescent'), ...within('B residue', b.residue, 0.03, 0.09), ...(b.messages > a.messages ? [] : ['B should send more messages than A'])] : []),
    ],
  },
  {
    id: 'loss',
    title: 'Loss and anti-entropy',
    params: { nodes: 200, seed: 1, scenario: 'single', model: 'rounds', protocol: 'rumor', loss: 0.3 },
    compare: { anti_entropy_ms: 1000 },
    summary: 'Three messages in ten are lost. Rumor mongering alone leaves nodes uninformed (lost pushes count for nothing, and pushers still cool down). B adds a backup push-pull exchange with one random peer every second (anti-entropy, Demers\' "backup"): it repairs whatever rumor mongering left out, and the run converges.',
    steps: [
      { at_ms: 0, text: 'Watch "msgs lost": about 30 % of all messages.' },
      { at_ms: 6000, text: 'A: pushers cool down while some nodes still wait. B: the backup exchanges carry the rumor to them.' },
      { at_ms: 9000, text: 'B converges at round 9. A ends quiescent with 18 nodes (9 %) uninformed, for good.' },
    ],
    figures: { 'a.residue': 0.09, 'a.informed': 182, 'b.rounds': 9 },
    outcome: 'A (rumor only) goes quiescent with a residue of 0.09; B (plus anti-entropy every second) converges in 9 rounds.',
    check: (a, b) => [
      ...equal('A stop_reason', a.stop_reason, 'quiescent'),
      ...within('A residue', a.residue, 0.02, 0.2),
      ...within('A lost_messages / messages', a.lost_messages / a.messages, 0.25, 0.35),
      ...(b ? [...equal('B stop_reason', b.stop_reason, 'converged'), ...within('B rounds', b.rounds, 5, 15)] : []),
    ],
  },
  {
    id: 'partition',
    title: 'Partition and heal',
    params: { nodes: 50, seed: 1, scenario: 'movies', model: 'events', protocol: 'push-pull', duration_s: 30, faults: '5000:partition:2,15000:heal' },
    summary: 'The course app with push-pull. At 5 s the network splits in two groups (the coloured outlines): messages between them are cut, so a favorite changed in one group cannot reach the other. At 15 s the partition heals and anti-entropy repairs the difference: no update is lost.',
    steps: [
      { at_ms: 0, text: 'Before the partition a new favorite reaches every node in about 3 s (the report\'s latency of the updates the cut did not catch: median 2.9 s).' },
      { at_ms: 5000, text: 'Partitioned: watch nodes stay amber (behind) for updates made in the other group. Messages cut by the partition show red.' },
      { at_ms: 15000, text: 'Healed: the first push-pull exchanges across the old cut carry whole deltas; the amber nodes turn green within a few seconds.' },
      { at_ms: 30000, text: 'The run converges with 0 lost updates. The report\'s partition figures: 50 updates were caught by the cut, and the last of them arrived 4.2 s after the heal.' },
    ],
    figures: { 'a.partition.updates_caught': 50, 'a.partition.repair_ms': 4188, 'a.partition.latency_ms_clear.median': 2897, 'a.lost_updates': 0 },
    outcome: 'Converges with 0 lost updates; partitioned messages > 0; repair 4.2 s after the heal.',
    check: (a) => [
      ...equal('stop_reason', a.stop_reason, 'converged'),
      ...equal('lost_updates', a.lost_updates, 0),
      ...(a.partitioned_messages > 0 ? [] : ['messages should be cut by the partition']),
      ...within('partition.repair_ms', a.partition?.repair_ms, 1000, 8000),
      ...within('partition.latency_ms_clear.median', a.partition?.latency_ms_clear?.median, 1500, 4500),
      ...within('partition.updates_caught', a.partition?.updates_caught, 30, 70),
    ],
  },
  {
    id: 'epoch',
    title: 'Restart with and without state (epochs)',
    params: { nodes: 30, seed: 1, scenario: 'movies', model: 'events', protocol: 'push-pull', duration_s: 20, faults: '4000:crash:3,4000:crash:7,8000:restart:3,8000:restart-fresh:7' },
    summary: 'Nodes 3 and 7 crash at 4 s and come back at 8 s. Node 3 restarts with its state: it goes on counting its versions. Node 7 restarts fresh: it lost its counter and starts again at 1, but in a new epoch; versions compare as (epoch, counter), so its new favorite (epoch 1, counter 1) beats the old one (epoch 0, counter n) everywhere. Without an epoch, every node would keep node 7\'s old favorite and drop its new ones until the counter caught up.',
    steps: [
      { at_ms: 0, text: 'Thirty nodes share their favorites with push-pull; each re-samples its favorite now and then, raising its version.' },
      { at_ms: 4000, text: 'Nodes 3 and 7 are down (grey, crossed).' },
      { at_ms: 8000, text: 'Both back. Click node 7: its version reads "epoch 1, 1", and it lacks the other 29 favorites, which push-pull brings back. Click node 3: epoch 0, its counter where it was.' },
      { at_ms: 20000, text: 'The run converges: every node holds node 7\'s new favorite, and no update was lost.' },
    ],
    figures: { 'a.lost_updates': 0 },
    outcome: 'Converges with 0 lost updates; node 7 ends in epoch 1, node 3 in epoch 0.',
    check: (a) => [...equal('stop_reason', a.stop_reason, 'converged'), ...equal('lost_updates', a.lost_updates, 0)],
  },
  {
    id: 'swim',
    title: 'SWIM: detecting a crash',
    params: { preset: 'swim-paper', nodes: 50, seed: 1, duration_s: 60, faults: '10000:crash:5' },
    summary: 'SWIM members probe one member per period (1 s): ping, then ping-req through k helpers, then suspicion, then dead. Node 5 crashes at 10 s. A member probes it within e/(e-1) = 1.58 periods on average (SWIM §3.1) and suspects it; it is declared dead when the suspicion times out (3 ceil(ln 51) = 12 periods in the paper\'s formula); then the news spreads by piggybacking on pings and acks.',
    speed: 10, // a long run: shown at 10× (Next still stops at each step)
    steps: [
      { at_ms: 0, text: 'Fifty members probe each other, one probe per member per 1 s period; the messages counter grows by about 2 per member per period.' },
      { at_ms: 10000, text: 'Node 5 crashes. Click node 5: every member still holds it alive.' },
      { at_ms: 15000, text: 'Members whose probe of node 5 failed suspect it (47 of the 49 live members by now): an amber ring with a count marks it. The suspicion lasts a timeout of several periods, so node 5 could still refute it if it were only slow.' },
      { at_ms: 23678, text: 'The first suspicion ran out: a member declares node 5 dead, 13.7 s after the crash.' },
      { at_ms: 25822, text: 'Every live member holds node 5 dead, 15.8 s after the crash. No healthy member was ever declared dead: false positives 0.' },
    ],
    figures: { 'a.detection.first_ms.mean': 13678, 'a.detection.full_ms.mean': 15822, 'a.false_positives': 0, 'a.messages_per_member_per_period': 2.0 },
    outcome: 'The crash is detected (first 13.7 s after it, by every member 15.8 s after it) with 0 false positives, at about 2 messages per member per period.',
    check: (a) => [
      ...equal('detection.crashed', a.detection?.crashed, 1),
      ...equal('detection.undetected', a.detection?.undetected, 0),
      ...equal('false_positives', a.false_positives, 0),
      ...within('detection.first_ms.mean', a.detection?.first_ms?.mean, 8000, 20000),
      ...within('messages_per_member_per_period', a.messages_per_member_per_period, 1.5, 2.5),
    ],
  },
  {
    id: 'plumtree',
    title: 'HyParView + Plumtree: the tree repairs itself',
    params: { membership: 'hyparview', protocol: 'plumtree', scenario: 'broadcast', nodes: 50, seed: 1, model: 'events', faults: '60000:crash:3,60000:crash:4' },
    summary: 'HyParView keeps a small symmetric active view (5 links) per node; Plumtree sends payloads on a spanning tree of "eager" links and only IHAVE announcements on the others ("lazy"). When tree nodes crash, a node that hears an IHAVE but no payload in time GRAFTs the announcer: the tree grows around the hole, and every broadcast still reaches every live node.',
    speed: 10, // a long run: shown at 10× (Next still stops at each step)
    steps: [
      { at_ms: 0, text: 'Warm-up: HyParView builds the overlay over 50 cycles; the bold links are Plumtree\'s eager ones.' },
      { at_ms: 50000, text: 'Broadcasts start, one per cycle. After the first, the eager links form a tree: 49 edges for 50 nodes ("a tree" in the counters).' },
      { at_ms: 60000, text: 'Nodes 3 and 4 crash. HyParView replaces the links it loses from the passive views, Plumtree grafts; watch the eager links re-form.' },
      { at_ms: 70000, text: 'Converged: reliability 1.0 for every broadcast (every live node delivered each one); rmr peaks at 3.1 for the broadcast that repaired the tree.' },
    ],
    figures: { 'a.reliability.min': 1, 'a.updates': 20, 'a.rmr.max': 3.1, 'a.live': 48, 'a.overlay.active_mean': 5 },
    outcome: 'Reliability 1.0 for all 20 broadcasts despite the two crashes; 48 live nodes all informed.',
    check: (a) => [
      ...equal('stop_reason', a.stop_reason, 'converged'),
      ...within('reliability.min', a.reliability?.min, 1, 1),
      ...equal('live', a.live, 48),
      ...equal('informed', a.informed, 48),
    ],
  },
];

/**
 * The figures of `lesson` that the reports `a` and `b` do not give, as
 * messages (empty: every number in the text is the run's). A figure
 * matches to the precision it is written with (0.615: within 0.0005).
 */
export function wrongFigures(lesson, a, b) {
  const out = [];
  for (const [path, want] of Object.entries(lesson.figures || {})) {
    const [run, ...keys] = path.split('.');
    let x = run === 'a' ? a : b;
    for (const k of keys) x = x === null || x === undefined ? undefined : x[k];
    const decimals = (String(want).split('.')[1] || '').length;
    if (typeof x !== 'number' || Math.abs(x - want) > 0.5 * 10 ** -decimals + 1e-12) out.push(`${path} = ${x}, the text says ${want}`);
  }
  return out;
}

/** The lesson named `id`, or undefined. */
export const lessonById = (id) => LESSONS.find((l) => l.id === id);

/** A compare spec (`{ fanout: 2 }`) as the link carries it: `fanout:2,protocol:push`. */
export const compareText = (spec) => Object.entries(spec).map(([k, v]) => `${k}:${v}`).join(',');
