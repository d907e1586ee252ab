// The page's layout where CSS alone cannot keep it right, at 1440×900 and
// 1280×720 as on a phone-free laptop:
// - the node inspector opens beside the network, on the clicked node's
//   side, and the network is laid out again in the rest of its canvas, so
//   no node hides under it (zoomed in or on a narrow canvas it floats
//   beside the node clicked instead, on the side with more room), its
//   table narrow enough that every column shows;
//   × or Escape closes it, and it goes back to its place in the grid;
// - a form field whose chosen option does not fit its half-width box
//   ("movies (course app)") takes the whole row, so no label is cut;
// - the network canvas is resized whenever its box changes (the legend
//   under it wraps to two lines for some kinds of run).
// It reads NetView's drawn positions (`sx`, `sy`, `rr`) and never draws.
// `window.gossipLab.layoutBoxes()` gives the end-to-end tests what they
// check: the legend's box, every node's drawn disk, the inspector's box.

const GAP = 16; // px between the node and the floating inspector
const MIN_NETWORK_PX = 320; // narrowest band the network is laid out in beside the inspector

export function installLayout({ net, api, renderInspector }) {
  const insp = document.getElementById('inspector');
  const canvas = document.getElementById('net');
  const form = document.getElementById('params');
  let placed = -1; // the node the inspector floats beside, -1: in the grid

  // a close button in the inspector's title, shown while it floats
  const close = document.createElement('button');
  close.id = 'insp-close';
  close.className = 'insp-close';
  close.title = 'Close (Esc)';
  close.setAttribute('aria-label', 'Close the inspector');
  close.textContent = '×';
  insp.querySelector('h2').append(close);
  const dismiss = () => { net.selected = -1; renderInspector(true); dock(); };
  close.onclick = dismiss;
  window.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && placed >= 0) dismiss(); });

  function dock() {
    placed = -1;
    insp.classList.remove('floating');
    insp.style.left = insp.style.top = insp.style.maxHeight = '';
    net.setReserve(0, 0);
  }

  // Beside the whole network: when the canvas is wide enough, the
  // inspector takes a band of it on the clicked node's side (left when real
  // nodes stand in a column on the right) and the network is laid out again
  // in the rest, so every node stays in view and the clicked one faces the
  // inspector. Returns false when there is no such room (a narrow canvas,
  // or zoomed in: then it floats beside the node).
  function placeBeside(i, c, vw, vh, head) {
    const w = insp.offsetWidth;
    const col = net.column ? net.column.w : 0;
    if (net.view.k > 1 || c.width - col - w - GAP < MIN_NETWORK_PX) return false;
    const mid = net.disk.cx * net.view.k + net.view.tx;
    const right = !col && net.sx[i] >= mid;
    net.setReserve(right ? 0 : w + GAP, right ? w + GAP : 0);
    // next to the network's disk, inside the canvas and the viewport
    const { cx, R } = net.disk;
    const edge = right ? c.left + cx + R + net.rr + GAP : c.left + cx - R - net.rr - GAP - w;
    const at = right ? Math.min(edge, c.right - col - w, vw - w - 8) : Math.max(edge, c.left, 8);
    const top = Math.max(head + 8, c.top);
    insp.style.maxHeight = `${Math.max(160, vh - top - 8)}px`;
    insp.style.left = `${Math.round(at)}px`;
    insp.style.top = `${Math.round(top)}px`;
    return true;
  }

  // beside node i, on the side with more room (so it covers as little of
  // the network around the node as it can); when neither side has room,
  // above or below it, whichever has more. It stays
  // inside the viewport and, horizontally, over the network's column, never
  // over the side panel (whose controls, Disconnect among them, stay within
  // reach).
  function place(i) {
    const c = canvas.getBoundingClientRect();
    const x = c.left + net.sx[i], y = c.top + net.sy[i];
    const r = net.isOutside(i) ? net.sq * 1.42 : net.rr;
    const vh = document.documentElement.clientHeight;
    const vw = Math.min(document.documentElement.clientWidth, document.querySelector('.stage').getBoundingClientRect().right + 8);
    const head = document.querySelector('.bar')?.getBoundingClientRect().bottom ?? 0;
    insp.classList.add('floating');
    if (placeBeside(i, c, vw, vh, head)) { placed = i; return; }
    net.setReserve(0, 0);
    insp.style.maxHeight = `${Math.max(160, vh - head - 16)}px`;
    const w = insp.offsetWidth;
    const right = x + r + GAP, left = x - r - GAP - w;
    let at, top;
    const fitsRight = right + w <= vw - 8, fitsLeft = left >= 8;
    if (fitsRight || fitsLeft) {
      // both fit: the side with more network beyond the box stays in view
      at = fitsRight && (!fitsLeft || vw - x >= x - c.left) ? right : left;
      top = Math.max(head + 8, Math.min(vh - insp.offsetHeight - 8, y - 48));
    } else {
      at = Math.max(8, Math.min(vw - w - 8, x - w / 2));
      const below = vh - 8 - (y + r + GAP), above = y - r - GAP - (head + 8);
      insp.style.maxHeight = `${Math.max(160, Math.max(below, above))}px`;
      const h = insp.offsetHeight;
      top = below >= above ? y + r + GAP : Math.max(head + 8, y - r - GAP - h);
    }
    insp.style.left = `${Math.round(at)}px`;
    insp.style.top = `${Math.round(top)}px`;
    placed = i;
  }

  function follow() {
    const i = net.selected;
    if (i < 0 || i >= net.n) { if (placed >= 0) dock(); return; }
    place(i);
  }

  // a select whose chosen option is wider than its box takes the whole row
  const measure = document.createElement('canvas').getContext('2d');
  function fitSelects() {
    for (const el of form.querySelectorAll('select')) {
      const label = el.closest('label');
      if (!label || !el.offsetParent) continue;
      const text = el.selectedOptions[0]?.text ?? '';
      const cs = getComputedStyle(el);
      measure.font = cs.font;
      // padding, border and the drop-down arrow (~20 px)
      const need = measure.measureText(text).width + parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) + 24;
      const wide = label.classList.contains('wide');
      if (!wide && need > el.clientWidth) label.classList.add('wide');
      // back to half width only when it fits there with room to spare
      else if (wide && need < (el.clientWidth - 10) / 2) label.classList.remove('wide');
    }
  }

  canvas.addEventListener('click', () => setTimeout(follow, 0));
  window.addEventListener('scroll', () => { if (placed >= 0) follow(); }, { passive: true });
  window.addEventListener('resize', () => { if (placed >= 0) follow(); fitSelects(); });
  form.addEventListener('change', fitSelects);
  for (const d of form.querySelectorAll('details')) d.addEventListener('toggle', fitSelects);
  new ResizeObserver(() => net.resize()).observe(canvas);
  // the selection also changes from the real-node list, a restart, the
  // automation API: follow it a few times a second
  setInterval(() => {
    if ((net.selected >= 0) !== (placed >= 0) || (net.selected >= 0 && net.selected !== placed)) follow();
    fitSelects();
  }, 250);
  fitSelects();

  const select = api.select;
  api.select = (i) => { select(i); follow(); };
  /**
   * The page's boxes, viewport px, for layout checks: `{ viewport, canvas,
   * legend, inspector: { floating, box }, nodes: [{ i, x, y, r }] }` (the
   * virtual nodes as drawn this frame).
   */
  api.layoutBoxes = () => {
    const box = (el) => { const b = el.getBoundingClientRect(); return { left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width, height: b.height }; };
    const c = canvas.getBoundingClientRect();
    const nodes = [];
    for (let i = 0; i < net.n; i++) {
      if (net.isOutside(i)) continue;
      nodes.push({ i, x: c.left + net.sx[i], y: c.top + net.sy[i], r: net.rr });
    }
    return {
      viewport: { width: document.documentElement.clientWidth, height: document.documentElement.clientHeight },
      canvas: box(canvas),
      legend: box(document.querySelector('.stage .legend')),
      inspector: { floating: insp.classList.contains('floating'), box: box(insp) },
      nodes,
    };
  };
}
