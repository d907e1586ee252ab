// The chart's mean-field line. The rule is the core's
// (core::protocols::mean_field, each protocol's from the registry), computed
// in Rust for the run's parameters; this only turns its flat
// [age_ms, fraction, ...] into the [[age_ms, fraction]] points chart.js draws.

export function theoryLine(lab, maxAge) {
  const flat = lab.theory_curve(maxAge);
  const pts = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pts.push([flat[i], flat[i + 1]]);
  return pts;
}
