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
  // as the core: rumor mongering spreads fresh updates as hot rumors, never eagerly
  if (p.protocol === 'rumor') return false;
  return p.eager === 'on' || (p.eager === 'auto' && p.scenario !== 'single');
}

function rumorResidue(k) {
  let s = 0.2;
  for (let j = 0; j < 200; j++) s = Math.exp(-(k + 1) * (1 - s));
  return s;
}

// Points [age_ms, fraction] up to maxAge. Time advances in steps of one
// hop (events: one latency; rounds: one round). Per step, a node's gossip
// round comes with probability step/interval (random phases); with eager
// push (or flood) the nodes informed in the last step push once more.
export function theoryCurve(p, maxAge) {
  const n = Math.max(2, Number(p.nodes) || 2);
  const f = Math.max(1, Number(p.fanout) || 1);
  const interval = Math.max(1, Number(p.interval_ms) || 1000);
  const events = p.model === 'events';
  const dt = events ? Math.max(1, Number(p.latency_ms) + Number(p.jitter_ms) / 2) : interval;
  const share = Math.min(1, dt / interval);
  const ttl = Number.isFinite(Number(p.ttl)) ? Number(p.ttl) : 32;
  const k = Number(p.counter || p.coin || 1);
  const floor = p.protocol === 'rumor' ? rumorResidue(k) : 0;
  const eager = eagerOn(p) || p.protocol === 'flood';
  let s = 1 - 1 / n;
  let fresh = 1 / n;
  const pts = [[0, 1 / n]];
  for (let step = 1, t = 0; t < maxAge && step < 20000; step++) {
    const i = 1 - s;
    let keep;
    if (p.protocol === 'flood') keep = 1;
    else if (p.protocol === 'pull') keep = Math.pow(s, f);
    else if (p.protocol === 'push-pull') keep = Math.pow(s, f) * Math.exp(-f * i);
    else keep = Math.exp(-f * i);
    keep = Math.pow(keep, share);
    let push = 1;
    if (eager && step <= ttl + 1) push = p.protocol === 'flood' ? (step === 1 ? 0 : 1) : Math.exp(-f * fresh);
    let next = s * keep * push;
    if (floor > 0) next = Math.max(next, Math.min(s, floor));
    fresh = s - next;
    s = next;
    t = step * dt;
    pts.push([t, 1 - s]);
    if (s * n < 0.5) { pts.push([Math.max(t, maxAge), 1]); break; }
  }
  return pts;
}
