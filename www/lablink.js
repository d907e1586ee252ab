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
  return null;
}

/** The lab's URL fragment (without `#`) for `{ name: value }` pairs, as the lab writes it (`:` and `,` left readable). */
export function labHash(pairs) {
  return (Array.isArray(pairs) ? pairs : Object.entries(pairs)).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%3A/g, ':').replace(/%2C/g, ',')}`).join('&');
}
