// Control of time: the speed (1/100x to 100x on a log scale, or max; keys
// + and -), and the time slider that scrubs over the run. The run is
// deterministic, so a seek is exact (Rust rebuilds the scenario and replays
// to the time asked, in slices across frames when asked here: app.js's
// seekFromPage); the faults of the scenario's timeline are
// marks on the slider, a click on one seeks there. While real nodes take
// part, time runs at wall-clock speed: the controls say why instead of only
// greying out. Drawing and wiring only; app.js owns the run.

/** Speeds on the log slider: 10^v for v in [-2, 2]. */
export const SPEED_LOG_MIN = -2;
export const SPEED_LOG_MAX = 2;
const SPEED_LOG_STEP = 0.25;

export const WALL_CLOCK_WHY = 'Real nodes take part: time runs at wall-clock speed, since real nodes cannot be paused, sped up or rewound. Disconnect to control time again.';

/** `1/100×`, `0.32×`, `1×`, `10×`, `max`. */
export function speedLabel(s) {
  if (s === 'max') return 'max';
  if (s < 1 && Math.abs(1 / s - Math.round(1 / s)) < 1e-6) return `1/${Math.round(1 / s)}×`;
  return `${s >= 10 ? Math.round(s) : +s.toPrecision(2)}×`;
}

export class TimeControl {
  /** hooks: `{ seek(ms), setSpeed(speed), speed() }`. */
  constructor(hooks) {
    this.hooks = hooks;
    this.slider = document.getElementById('time-slider');
    this.marks = document.getElementById('time-marks');
    this.label = document.getElementById('time-label');
    this.why = document.getElementById('time-why');
    this.speedRange = document.getElementById('speed-log');
    this.speedText = document.getElementById('speed-text');
    this.maxBtn = document.getElementById('speed-max');
    this.horizon = 0;
    this.dragging = false;
    this.pending = null;
    this.markKey = '';
    this.slider.addEventListener('pointerdown', () => { this.dragging = true; });
    window.addEventListener('pointerup', () => { this.dragging = false; });
    // seek while dragging, at most once a frame (a seek back replays)
    this.slider.addEventListener('input', () => {
      this.pending = Number(this.slider.value);
      if (this.raf) return;
      this.raf = requestAnimationFrame(() => { this.raf = 0; const ms = this.pending; this.pending = null; if (ms !== null) this.hooks.seek(ms); });
    });
    this.speedRange.addEventListener('input', () => this.hooks.setSpeed(this.fromLog(Number(this.speedRange.value))));
    this.maxBtn.addEventListener('click', () => this.hooks.setSpeed(this.hooks.speed() === 'max' ? this.fromLog(Number(this.speedRange.value)) : 'max'));
    this.marks.addEventListener('click', (ev) => {
      const m = ev.target.closest('[data-at]');
      if (m) this.hooks.seek(Number(m.dataset.at));
    });
  }

  fromLog(v) { return Math.round(10 ** v * 1e4) / 1e4; }

  /** One step faster (+1) or slower (-1) on the log scale; from max, down to 100×. */
  nudge(dir) {
    const s = this.hooks.speed();
    let v = s === 'max' ? SPEED_LOG_MAX + SPEED_LOG_STEP : Math.log10(s);
    v = Math.round(v / SPEED_LOG_STEP) * SPEED_LOG_STEP + dir * SPEED_LOG_STEP;
    if (v > SPEED_LOG_MAX) return this.hooks.setSpeed('max');
    this.hooks.setSpeed(this.fromLog(Math.max(SPEED_LOG_MIN, v)));
  }

  /** Show `speed` on the controls. */
  showSpeed(speed) {
    if (speed !== 'max') this.speedRange.value = String(Math.log10(speed));
    this.speedText.textContent = speedLabel(speed);
    this.maxBtn.classList.toggle('on', speed === 'max');
  }

  /** The run was replaced (restart, new parameters): forget how far it went. */
  reset() { this.horizon = 0; this.markKey = ''; }

  /** The future was discarded (a fork): the run now ends at `now`. */
  fork(now) { this.horizon = now; }

  /**
   * Each frame: the time, the faults `[{ at, text }]`, whether real nodes
   * take part, and a seek on its way (`{ from, to }`, ms: the run replays
   * from `from` to `to`) or null.
   */
  update(now, faults, connected, seeking = null) {
    this.horizon = Math.max(this.horizon, now);
    const max = Math.max(1, this.horizon);
    this.slider.max = String(max);
    if (!this.dragging && this.pending === null) this.slider.value = String(seeking ? seeking.to : now);
    const pct = seeking ? Math.floor((100 * (now - seeking.from)) / Math.max(1, seeking.to - seeking.from)) : 0;
    this.label.textContent = seeking
      ? `replaying to ${(seeking.to / 1000).toFixed(2)} s: ${pct} %`
      : `${(now / 1000).toFixed(2)} s of ${(max / 1000).toFixed(2)} s`;
    this.label.classList.toggle('seeking', !!seeking);
    const off = !!connected;
    if (this.off !== off) {
      this.off = off;
      for (const el of [this.slider, this.speedRange, this.maxBtn]) { el.disabled = off; el.title = off ? WALL_CLOCK_WHY : el.dataset.title || ''; }
      this.why.hidden = !off;
      this.why.textContent = off ? WALL_CLOCK_WHY : '';
    }
    const key = `${max}|${faults.map((f) => f.at).join(',')}`;
    if (key === this.markKey) return;
    this.markKey = key;
    this.marks.innerHTML = faults.map((f) => `<button class="mark" data-at="${f.at}" style="left:${(100 * Math.min(f.at, max)) / max}%" title="${escAttr(`${(f.at / 1000).toFixed(3)} s: ${f.text} (click to go there)`)}"></button>`).join('');
  }
}

function escAttr(s) { return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;'); }
