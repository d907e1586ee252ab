// How often the frame loop draws while a run plays at max speed. Reading a
// big network's state and drawing it (a million nodes: the status array,
// the cells, the counters) costs far more than a frame; drawn every frame,
// a 1,000,000-node run got one round per frame and spent four fifths of its
// time drawing (BENCHMARKS.md, "Issue 22 item 8: the million-node page
// within 2x native"). At max speed the run is what the user asked for, so
// a frame whose drawing would take more than a share of the time since the
// last drawing only advances the run; the picture then comes a few times a
// second instead of every frame, and each frame stays short (one advance
// budget), so the page keeps answering. At other speeds, after a seek or a
// control, and once the run stops, every frame draws, as before. A small
// network (drawing in a millisecond or two) draws every frame at any speed.
// Also here: the drawn frame's passes over every node as plain indexed
// loops (a million nodes: for-of and callbacks cost several times more).

/**
 * At most this share of the wall time goes to drawing at max speed (a
 * million nodes: a drawn frame takes 30-40 ms, so one every 300-400 ms;
 * at 0.2 the drawings took a third of the page's million-node run once
 * the run itself had got faster).
 */
export const DRAW_SHARE = 0.1;

/**
 * A drawing that takes at most this (ms, a quarter of a frame) is drawn
 * every frame at any speed: a small network's animation stays smooth even
 * when a busy machine makes one drawing slower than DRAW_SHARE of a frame
 * (a 50-node run at max speed skipped a quarter of its frames so).
 */
export const CHEAP_DRAW_MS = 4;

/**
 * While the run does not move (paused, or ended), a picture whose last two
 * drawings each took more than STILL_COST_MS is drawn again only when what it shows changed (the
 * run's time, the zoom or pan, the node selected or hovered: `key`), after
 * an input (`reset`), or every STILL_EVERY_MS (fading message flows, a
 * panel's change). A paused million-node page drew every frame, 30-40 ms
 * each, for a picture that did not change.
 */
export const STILL_COST_MS = 8;
export const STILL_EVERY_MS = 250;

/** Decides, frame by frame, whether to draw (see the header). */
export class DrawPacer {
  constructor() {
    this.lastDrawn = -Infinity; // wall time of the last drawn frame
    this.cost = 0; // what that drawing took, ms (reading, drawing, counters)
    this.before = 0; // what the drawing before it took
    this.fastCost = 0; // what the fast rule weighs (see drawn)
    this.fresh = true; // no drawing since the last reset
    this.key = ''; // what the last drawn frame showed, when still
  }

  /**
   * Whether the frame at `wall` draws: always unless `fast` (playing at
   * max speed, the run not stopped) and a drawing costs more than
   * CHEAP_DRAW_MS and DRAW_SHARE of the time since the last one (its cost:
   * the lesser of the last two, or the first after a reset), or `still` (the run
   * does not move: `key` says what the picture shows) and the picture is
   * costly, unchanged and younger than STILL_EVERY_MS.
   */
  draws(wall, fast, still = false, key = '') {
    // (costly: the last two drawings were, so that one slow frame of a
    // small network, a collection or a layout, does not freeze it)
    const costly = Math.min(this.cost, this.before) > STILL_COST_MS;
    if (still && costly && key === this.key && wall - this.lastDrawn < STILL_EVERY_MS) return false;
    this.key = key;
    return !fast || this.fastCost <= Math.max(CHEAP_DRAW_MS, DRAW_SHARE * (wall - this.lastDrawn));
  }

  /** Record a drawn frame at `wall` that took `cost` ms. */
  drawn(wall, cost) {
    this.lastDrawn = wall;
    this.before = this.cost;
    this.cost = cost;
    // at max speed the lesser of the last two drawings: one slow drawing (a
    // collection, the counters' or the series' refresh a few times a
    // second) held a 50-node picture back for the next dozen frames; the
    // first drawing after a reset (a new run) weighs alone, so that a
    // million-node run's first picture is not drawn twice
    this.fastCost = this.fresh ? cost : Math.min(cost, this.before);
    this.fresh = false;
  }

  /** Draw the next frame whatever it costs (after a seek, a new run, a control). */
  reset() {
    this.lastDrawn = -Infinity;
    this.key = '';
    this.fresh = true;
  }
}

/** How many codes of `status` (Status codes) are not `down`, and how many are `current`. */
export function upAndCurrent(status, down, current) {
  let up = 0, cur = 0;
  for (let i = 0; i < status.length; i++) {
    const s = status[i];
    if (s !== down) up++;
    if (s === current) cur++;
  }
  return { up, current: cur };
}

/** The largest of `xs` (0 when empty). */
export function maxOf(xs) {
  let m = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  return m;
}

/** Whether any of `xs` is not 0 (a partition: some node outside group 0). */
export function anyNonZero(xs) {
  for (let i = 0; i < xs.length; i++) if (xs[i] !== 0) return true;
  return false;
}
