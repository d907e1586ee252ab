// The convergence chart as an SVG document (the "Chart SVG" export and
// gossipLab.chartSvg()): the scene chart.js lays out (chartScene), written
// as vector elements instead of painted on the canvas, so a report or a
// slide gets the chart at any size. The picture is the canvas's: the same
// grid, labels, band, curves, theory line and compared run, with the PNG's
// title line above it.
//
// Curves are paths in data coordinates (`M age_ms fraction L ...`) inside a
// group whose transform maps them onto the plot, with strokes that do not
// scale (vector-effect), so the numbers in a path are the run's own
// (ages in ms, fractions of live nodes) and can be read back. Each curve
// path has a class saying what it is: `update`, `band-median`, `theory` or
// `compare` (the band's area is `band`).

const ANCHOR = { left: 'start', center: 'middle', right: 'end' };
const BASELINE = { top: 'hanging', middle: 'central', bottom: 'text-after-edge' };
const FONT = 'ui-sans-serif, system-ui, sans-serif';

/** Title bar height above the plot, px (the PNG's). */
const HEAD = 26;

/** `x` with at most `d` decimals, no trailing zeros. */
const num = (x, d = 2) => String(+Number(x).toFixed(d));

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** A path's `d` for `[[age_ms, fraction]]` points (ages clamped to `maxAge`, as the canvas draws them). */
function pathData(points, maxAge) {
  return points.map(([t, f], j) => `${j ? 'L' : 'M'}${num(Math.min(t, maxAge), 3)} ${num(f, 6)}`).join(' ');
}

/**
 * The SVG text of `scene` (chart.js's `chartScene`) under a `title` line,
 * on the panel's `background`.
 */
export function chartSvg(scene, title, background = '#121a2e') {
  const { w, h, plot, maxAge } = scene;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(w)}" height="${num(h + HEAD)}" viewBox="0 0 ${num(w)} ${num(h + HEAD)}" font-family="${FONT}" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="${esc(background)}"/>`,
    `<text class="title" x="10" y="${HEAD / 2}" fill="#e6ebf5" font-size="12" dominant-baseline="central">${esc(title)}</text>`,
    `<g transform="translate(0 ${HEAD})">`,
  ];
  const data = `<g class="data" transform="translate(${num(plot.x)} ${num(plot.y + plot.h)}) scale(${plot.w / maxAge} ${-plot.h})">`;
  let inData = false;
  const enter = (want) => {
    if (want !== inData) out.push(want ? data : '</g>');
    inData = want;
  };
  const stroke = (it) => `fill="none" stroke="rgb(${it.color})" stroke-opacity="${num(it.alpha, 3)}" stroke-width="${it.width}" vector-effect="non-scaling-stroke" stroke-linejoin="round"${it.dash ? ` stroke-dasharray="${it.dash.join(' ')}"` : ''}`;
  for (const it of scene.items) {
    if (it.type === 'grid') {
      enter(false);
      out.push(`<line class="grid" x1="${num(it.x1)}" y1="${num(it.y1)}" x2="${num(it.x2)}" y2="${num(it.y2)}" stroke="rgb(31, 42, 68)" stroke-width="1"/>`);
    } else if (it.type === 'text') {
      enter(false);
      out.push(`<text class="label" x="${num(it.x)}" y="${num(it.y)}" fill="rgb(${it.color})" text-anchor="${ANCHOR[it.align]}" dominant-baseline="${BASELINE[it.base]}">${esc(it.text)}</text>`);
    } else if (it.type === 'area') {
      enter(true);
      const d = `${pathData(it.upper, maxAge)} ${pathData([...it.lower].reverse(), maxAge).replace(/^M/, 'L')} Z`;
      out.push(`<path class="band" d="${d}" fill="rgb(${it.color})" fill-opacity="${num(it.alpha, 3)}" stroke="none"/>`);
    } else if (it.type === 'line') {
      enter(true);
      out.push(`<path class="${it.role}" d="${pathData(it.points, maxAge)}" ${stroke(it)}/>`);
    }
  }
  enter(false);
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}
