// What the lab page can run and how a link to a run is spelled, shared by
// the lab (app.js) and the sweep viewer (sweep.js), so a viewer's link
// reproduces a run exactly as the lab's own "Copy link" does, and a row the
// lab would refuse says why instead of linking.

// The page's limits on top of gossip sim's own checks: full nodes up to
// PAGE_MAX_NODES; past that a single rumor on the compact engine (a few
// bytes a node) up to PAGE_MAX_COMPACT_NODES (Lab.check_param refuses the
// runs the compact engine cannot take, naming why).
export const PAGE_MAX_NODES = 20000;
export const PAGE_MAX_COMPACT_NODES = 1000000;
// The course app keeps every node's view of every node: n² entries (about
// 250 bytes each once spread), so 2,000 nodes take ~1 GB and 10,000 would
// need ~25 GB, past what a tab (and wasm32) can hold, and n² work a second.
export const PAGE_MAX_MOVIES_NODES = 2000;

// Flooding over everyone sends each update from every node to every other,
// n(n-1) messages, and the movies scenario starts with every node's
// favorite at once: n^2(n-1) messages in flight together (1,000 nodes: a
// billion; the tab ran out of memory after 7 s, at 100-250 bytes a message
// in flight). The lab keeps a flooding run under this many messages in
// flight at once, as estimated by floodBurst.
export const PAGE_MAX_FLOOD_MESSAGES = 4e6;

/**
 * About how many messages a flooding run over everyone (`membership` full
 * or bootstrap) has in flight at once: n(n-1) an update, times the updates
 * spreading together (movies: all n first favorites; broadcast: the values
 * handed out in about 0.2 s, two link latencies; single: one). 0 for runs
 * that do not flood everyone.
 */
export function floodBurst(params) {
  const n = Number(params.nodes);
  const membership = params.membership || 'full';
  if (params.protocol !== 'flood' || !Number.isFinite(n) || !(membership === 'full' || membership === 'bootstrap')) return 0;
  const scenario = params.scenario || 'single';
  const rate = Number(params.rate ?? 100);
  const together = scenario === 'movies' ? n : scenario === 'broadcast' ? Math.max(1, (Number.isFinite(rate) ? rate : 100) * 0.2) : 1;
  return n * (n - 1) * together;
}

/** Why the page cannot run `params` (`{ param, message }`), or null; gossip sim's own checks are Lab.check_param's. */
export function pageLimit(params) {
  const n = Number(params.nodes);
  // movies and broadcast keep a view of every origin (or value) at every node (gossip sim's default is single)
  const fullViews = params.scenario === 'movies' || params.scenario === 'broadcast';
  const given = params.nodes !== undefined && params.nodes !== '' && Number.isFinite(n) && n <= 50e6;
  if (given && n > PAGE_MAX_COMPACT_NODES) {
    return { param: 'nodes', message: `nodes: the lab shows at most ${PAGE_MAX_COMPACT_NODES.toLocaleString()} nodes (a single rumor on the compact engine; ${PAGE_MAX_NODES.toLocaleString()} on full nodes); run bigger networks with gossip sim (got ${n.toLocaleString()})` };
  }
  if (given && fullViews && n > PAGE_MAX_NODES) {
    return { param: 'nodes', message: `nodes: the lab shows at most ${PAGE_MAX_NODES.toLocaleString()} nodes; run bigger networks with gossip sim (got ${n.toLocaleString()})` };
  }
  if (fullViews && Number.isFinite(n) && n > PAGE_MAX_MOVIES_NODES && n <= PAGE_MAX_NODES) {
    return { param: 'nodes', message: `nodes: the ${params.scenario} scenario runs in the lab up to ${PAGE_MAX_MOVIES_NODES.toLocaleString()} nodes (every node keeps a view of every node: ${n.toLocaleString()} nodes would need about ${Math.max(1, Math.round((n * n * 250) / 1e9))} GB); choose the single rumor scenario for bigger networks, or run gossip sim (got ${n.toLocaleString()})` };
  }
  const burst = floodBurst(params);
  if (given && burst > PAGE_MAX_FLOOD_MESSAGES) {
    let most = 2;
    while (floodBurst({ ...params, nodes: most + 1 }) <= PAGE_MAX_FLOOD_MESSAGES) most++;
    const why = (params.scenario || 'single') === 'movies' ? `, and the movies scenario starts with all ${n.toLocaleString()} favorites at once` : '';
    return { param: 'nodes', message: `nodes: flooding over everyone sends each update from every node to every other (${(n * (n - 1)).toLocaleString()} messages an update${why}): about ${Math.round(burst).toLocaleString()} messages in flight together, more than the lab can hold; it floods up to ${most.toLocaleString()} nodes in this scenario. Choose ${why ? '' : 'an overlay membership (ring, k-out, ...), '}another protocol (push-pull, rumor, ...), or gossip sim (got ${n.toLocaleString()})` };
  }
  return null;
}

/** The lab's URL fragment (without `#`) for `{ name: value }` pairs, as the lab writes it (`:` and `,` left readable). */
export function labHash(pairs) {
  return (Array.isArray(pairs) ? pairs : Object.entries(pairs)).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%3A/g, ':').replace(/%2C/g, ',')}`).join('&');
}
