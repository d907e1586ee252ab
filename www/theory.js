// Mean-field curves of the fraction of nodes that know one update, as a
// function of its age, for the chosen protocol (Demers et al. 1987, Karp et
// al. 2000). s is the fraction that does not know it yet, i = 1 - s.
//   push:       s' = s * exp(-f i)          (each informed node pushes to f peers)
//   pull:       s' = s * s^f                (each uninformed node asks f peers)
//   push-pull:  s' = s * s^f * exp(-f i)
//   flood:      everyone one latency later (TTL permitting)
//   rumor:      push, levelling off at Demers' residue s = exp(-(k+1)(1-s))
// With eager push, a fresh update first spreads in hops of one latency
// (fanout peers per hop, up to TTL hops), then by the protocol per round.

export function theoryName(p) {
  const names = { push: 'push', pull: 'pull', 'push-pull': 'push-pull', rumor: 'rumor', flood: 'flood' };
  return `mean-field ${names[p.protocol] || p.protocol}${eagerOn(p) ? ' + eager push' : ''}, n=${p.nodes}`;
}

function eagerOn(p) {
  return p.eager === 'on' || (p.eager === 'auto' && p.scenario === 'movies');
}

function rumorResidue(k) {
  let s = 0.2;
  for (let j = 0; j < 200; j++) s = Math.exp(-(k + 1) * (1 - s));
  return s;
}

// Points [age_ms, fraction] up to maxAge.
export function theoryCurve(p, maxAge) {
  const n = Math.max(2, Number(p.nodes) || 2);
  const f = Math.max(1, Number(p.fanout) || 1);
  const interval = Math.max(1, Number(p.interval_ms) || 1000);
  const events = p.model === 'events';
  const hop = events ? Math.max(1, Number(p.latency_ms) + Number(p.jitter_ms) / 2) : interval;
  const ttl = Number.isFinite(Number(p.ttl)) ? Number(p.ttl) : 32;
  const k = Number(p.counter || p.coin || 1);
  const floor = p.protocol === 'rumor' ? rumorResidue(k) : 0;
  const pts = [[0, 1 / n]];
  let s = 1 - 1 / n;
  let t = 0;
  // eager phase (and flood): hops of one latency
  if (p.protocol === 'flood' || eagerOn(p)) {
    for (let h = 0; h <= ttl && t < maxAge; h++) {
      const i = 1 - s;
      s = p.protocol === 'flood' ? 0 : s * Math.exp(-f * i);
      t += hop;
      pts.push([t, 1 - s]);
      if (s * n < 0.5) break;
    }
    if (p.protocol === 'flood') return pts;
  }
  // gossip rounds (events: a round is an interval, plus the latency of an exchange)
  const round = interval;
  const start = t;
  for (let r = 1; t < maxAge && r < 10000; r++) {
    const i = 1 - s;
    if (p.protocol === 'pull') s = s * Math.pow(s, f);
    else if (p.protocol === 'push-pull') s = s * Math.pow(s, f) * Math.exp(-f * i);
    else s = s * Math.exp(-f * i);
    if (floor > 0) s = Math.max(s, floor);
    t = start + r * round + (events ? 2 * Number(p.latency_ms || 0) : 0);
    pts.push([t, 1 - s]);
    if (s * n < 0.5 && floor === 0) { pts.push([maxAge, 1]); break; }
  }
  return pts;
}
