//! The sweep's figures, as SVG written next to its CSV: every metric that
//! changes against the first varied parameter (a panel each: the mean over
//! seeds as a line with its 95 % confidence band, one line per value of
//! the other varied parameters), and the latency-against-messages
//! trade-off (one point per configuration with its intervals as error
//! bars).
//!
//! Plain SVG text (no renderer, no dependency): any browser shows it.
//! No PNG: the pure-Rust rasterizers (resvg and its font stack) would
//! add more to the build than the rest of the sweep.

use std::fmt::Write as _;

use super::stats::Summary;
use super::summary::{groups, numeric_metrics, values, Group};
use super::table::Table;

const COLORS: [&str; 10] =
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const PANEL_W: f64 = 380.0;
const PANEL_H: f64 = 250.0;
const COLUMNS: usize = 3;

/// A series: the configurations that share the other varied parameters.
struct Series {
    label: String,
    /// `(group index, x position)`.
    points: Vec<(usize, f64)>,
}

/// The x axis: the first varied parameter's values, as numbers when they
/// all are, else evenly spaced categories.
struct XAxis {
    name: String,
    /// Tick `(position, label)`.
    ticks: Vec<(f64, String)>,
}

fn series(gs: &[Group]) -> Option<(XAxis, Vec<Series>)> {
    let first = gs.first()?.varied.first()?.0.clone();
    let xs: Vec<String> = gs.iter().map(|g| g.varied[0].1.clone()).collect();
    let mut distinct: Vec<String> = Vec::new();
    for x in &xs {
        if !distinct.contains(x) {
            distinct.push(x.clone());
        }
    }
    let numeric = distinct.iter().all(|x| x.parse::<f64>().is_ok());
    let pos = |x: &str| {
        if numeric {
            x.parse::<f64>().unwrap_or(0.0)
        } else {
            distinct.iter().position(|d| d == x).unwrap_or(0) as f64
        }
    };
    let mut out: Vec<Series> = Vec::new();
    for (i, g) in gs.iter().enumerate() {
        let rest: Vec<String> = g.varied[1..].iter().map(|(k, v)| format!("{k}={v}")).collect();
        let label = if rest.is_empty() { "all".to_owned() } else { rest.join(" ") };
        let p = (i, pos(&g.varied[0].1));
        match out.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(p),
            None => out.push(Series { label, points: vec![p] }),
        }
    }
    for s in &mut out {
        s.points.sort_by(|a, b| a.1.total_cmp(&b.1));
    }
    let ticks = distinct.iter().map(|d| (pos(d), d.clone())).collect();
    Some((XAxis { name: first, ticks }, out))
}

/// A linear map from data to pixels.
#[derive(Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl Scale {
    fn new(lo: f64, hi: f64, from: f64, to: f64) -> Scale {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5 - lo.abs() * 0.05, hi + 0.5 + hi.abs() * 0.05) };
        Scale { lo, hi, from, to }
    }

    fn at(&self, v: f64) -> f64 {
        self.from + (v - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }
}

/// About five round tick values covering `[lo, hi]`.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let m = [1.0, 2.0, 5.0, 10.0].into_iter().find(|m| span / (m * mag) <= 6.0).unwrap_or(10.0);
    let step = m * mag;
    // k * m / (1 / mag) rather than k * step: 3 * 0.2 is 0.6000000000000001
    let inv = (1.0 / mag).round();
    let at = |k: f64| if mag >= 1.0 { k * step } else { k * m / inv };
    let mut k = (lo / step).ceil();
    let mut out = Vec::new();
    while at(k) <= hi + step * 1e-9 && out.len() < 20 {
        out.push(at(k) + 0.0);
        k += 1.0;
    }
    out
}

fn fmt_tick(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What a panel's axes say: the title, the x axis' name and ticks.
struct Labels<'a> {
    title: &'a str,
    xname: &'a str,
    xticks: &'a [(f64, String)],
}

/// Axes, ticks and labels of one panel at `(ox, oy)`.
fn axes(s: &mut String, (ox, oy): (f64, f64), x: &Scale, y: &Scale, labels: &Labels) {
    let Labels { title, xname, xticks } = *labels;
    let (x0, x1, y0, y1) = (x.from, x.to, y.from, y.to);
    let _ = writeln!(s, r#"<g transform="translate({ox},{oy})">"#);
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="16" text-anchor="middle" font-weight="bold">{}</text>"##,
        (x0 + x1) / 2.0,
        esc(title)
    );
    let _ = writeln!(s, r##"<path d="M{x0:.1},{y1:.1}V{y0:.1}H{x1:.1}" fill="none" stroke="#333"/>"##);
    for (v, label) in xticks {
        let px = x.at(*v);
        let _ = writeln!(
            s,
            r##"<path d="M{px:.1},{y0:.1}v4" stroke="#333"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            y0 + 16.0,
            esc(label)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (x0 + x1) / 2.0,
        y0 + 32.0,
        esc(xname)
    );
    for v in nice_ticks(y.lo, y.hi) {
        let py = y.at(v);
        let _ = writeln!(
            s,
            r##"<path d="M{x0:.1},{py:.1}h-4" stroke="#333"/><path d="M{x0:.1},{py:.1}H{x1:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 - 6.0,
            py + 4.0,
            fmt_tick(v)
        );
    }
}

fn legend(s: &mut String, x: f64, y: f64, labels: &[String]) {
    for (i, l) in labels.iter().enumerate() {
        let yy = y + i as f64 * 16.0;
        let _ = writeln!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            yy - 10.0,
            COLORS[i % COLORS.len()],
            x + 16.0,
            yy,
            esc(l)
        );
    }
}

fn header(s: &mut String, w: f64, h: f64) {
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
}

/// The metric panels, or `None` when nothing was varied (no x axis) or no
/// metric changes.
pub fn metrics_svg(t: &Table) -> Option<String> {
    let gs = groups(t);
    let (xaxis, series) = series(&gs)?;
    let stats: Vec<(usize, Vec<Summary>)> = numeric_metrics(t)
        .into_iter()
        .map(|c| (c, gs.iter().map(|g| Summary::of(&values(t, &g.rows, c))).collect::<Vec<_>>()))
        .filter(|(c, _)| {
            let vals = values(t, &(0..t.rows.len()).collect::<Vec<_>>(), *c);
            vals.iter().any(|v| *v != vals[0])
        })
        .collect();
    if stats.is_empty() {
        return None;
    }
    let legend_h = 20.0 + 16.0 * series.len() as f64;
    let rows = stats.len().div_ceil(COLUMNS);
    let (w, h) = (PANEL_W * COLUMNS as f64, PANEL_H * rows as f64 + legend_h);
    let mut s = String::new();
    header(&mut s, w, h);
    legend(&mut s, 20.0, 18.0, &series.iter().map(|s| s.label.clone()).collect::<Vec<_>>());
    let (xlo, xhi) = xaxis.ticks.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| (a.min(t.0), b.max(t.0)));
    for (k, (c, sums)) in stats.iter().enumerate() {
        let (ox, oy) = ((k % COLUMNS) as f64 * PANEL_W, legend_h + (k / COLUMNS) as f64 * PANEL_H);
        let finite = sums.iter().filter(|m| m.mean.is_finite());
        let (ylo, yhi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| (a.min(m.low()), b.max(m.high())));
        if !ylo.is_finite() {
            continue;
        }
        let x = Scale::new(xlo, xhi, 60.0, PANEL_W - 15.0);
        let y = Scale::new(ylo, yhi, PANEL_H - 50.0, 26.0);
        axes(&mut s, (ox, oy), &x, &y, &Labels { title: &t.header[*c], xname: &xaxis.name, xticks: &xaxis.ticks });
        for (i, se) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, &Summary)> =
                se.points.iter().map(|&(g, px)| (px, &sums[g])).filter(|p| p.1.mean.is_finite()).collect();
            if pts.is_empty() {
                continue;
            }
            let mut band = String::new();
            for (px, m) in &pts {
                let _ =
                    write!(band, "{}{:.1},{:.1}", if band.is_empty() { "M" } else { "L" }, x.at(*px), y.at(m.high()));
            }
            for (px, m) in pts.iter().rev() {
                let _ = write!(band, "L{:.1},{:.1}", x.at(*px), y.at(m.low()));
            }
            let _ = writeln!(s, r#"<path d="{band}Z" fill="{color}" fill-opacity="0.18" stroke="none"/>"#);
            let line: Vec<String> = pts.iter().map(|(px, m)| format!("{:.1},{:.1}", x.at(*px), y.at(m.mean))).collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1.5"/>"#,
                line.join(" ")
            );
            for (px, m) in &pts {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}"><title>{} ± {} (n={})</title></circle>"#,
                    x.at(*px),
                    y.at(m.mean),
                    m.mean,
                    m.half_width,
                    m.n
                );
            }
        }
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    Some(s)
}

/// The latency-against-messages trade-off: x `messages_per_update`, y the
/// median dissemination latency (`report.latency_ms.median`; `t_last_ms`
/// when a configuration never completed an update), a point per
/// configuration with both intervals; `None` when the CSV lacks them.
pub fn tradeoff_svg(t: &Table) -> Option<String> {
    let gs = groups(t);
    let xc = t.column("messages_per_update")?;
    // the median latency where every configuration has one, else the
    // last first-learning time (which runs that never converge have too)
    let every = |c: usize| gs.iter().all(|g| !values(t, &g.rows, c).is_empty());
    let yc = ["report.latency_ms.median", "t_last_ms"].iter().filter_map(|m| t.column(m)).find(|&c| every(c))?;
    let labels: Vec<String> = match series(&gs) {
        Some((_, ser)) => {
            let mut of = vec![String::new(); gs.len()];
            for se in &ser {
                for &(g, _) in &se.points {
                    of[g] = se.label.clone();
                }
            }
            of
        }
        None => vec!["all".to_owned(); gs.len()],
    };
    let mut distinct: Vec<String> = Vec::new();
    for l in &labels {
        if !distinct.contains(l) {
            distinct.push(l.clone());
        }
    }
    let pts: Vec<(Summary, Summary, usize, String)> = gs
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let name: Vec<String> = g.varied.iter().map(|(k, v)| format!("{k}={v}")).collect();
            (
                Summary::of(&values(t, &g.rows, xc)),
                Summary::of(&values(t, &g.rows, yc)),
                distinct.iter().position(|d| *d == labels[i]).unwrap_or(0),
                name.join(" "),
            )
        })
        .filter(|p| p.0.mean.is_finite() && p.1.mean.is_finite())
        .collect();
    if pts.is_empty() {
        return None;
    }
    let bounds = |ms: &mut dyn Iterator<Item = Summary>| {
        ms.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| (a.min(m.low()), b.max(m.high())))
    };
    let (xlo, xhi) = bounds(&mut pts.iter().map(|p| p.0));
    let (ylo, yhi) = bounds(&mut pts.iter().map(|p| p.1));
    let legend_h = 20.0 + 16.0 * distinct.len() as f64;
    let (w, h) = (640.0, 440.0 + legend_h);
    let mut s = String::new();
    header(&mut s, w, h);
    legend(&mut s, 20.0, 18.0, &distinct);
    let x = Scale::new(xlo, xhi, 70.0, w - 20.0);
    let y = Scale::new(ylo, yhi, 440.0 - 50.0, 26.0);
    let xticks: Vec<(f64, String)> = nice_ticks(x.lo, x.hi).into_iter().map(|v| (v, fmt_tick(v))).collect();
    let title = format!("{} against messages_per_update (mean, 95 % intervals)", t.header[yc]);
    axes(&mut s, (0.0, legend_h), &x, &y, &Labels { title: &title, xname: "messages_per_update", xticks: &xticks });
    for (mx, my, series, name) in &pts {
        let color = COLORS[series % COLORS.len()];
        let (cx, cy) = (x.at(mx.mean), y.at(my.mean));
        let _ = writeln!(
            s,
            r#"<path d="M{:.1},{cy:.1}H{:.1}M{cx:.1},{:.1}V{:.1}" stroke="{color}" stroke-opacity="0.6"/>"#,
            x.at(mx.low()),
            x.at(mx.high()),
            y.at(my.low()),
            y.at(my.high())
        );
        let _ = writeln!(
            s,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{color}"><title>{}: {} msgs/update, {} {}</title></circle>"#,
            esc(name),
            mx.mean,
            my.mean,
            esc(&t.header[yc])
        );
    }
    s.push_str("</g>\n</svg>\n");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::table::write_record;

    fn sweep() -> Table {
        let mut s = String::new();
        write_record(
            &mut s,
            ["run", "config", "fanout", "loss", "seed", "messages_per_update", "report.latency_ms.median"],
        );
        let mut run = 0;
        for (c, (f, l)) in [("1", "0"), ("1", "0.1"), ("2", "0"), ("2", "0.1")].iter().enumerate() {
            for seed in 1..=3 {
                let m = 10.0 * f.parse::<f64>().unwrap() + seed as f64;
                let lat = 100.0 / f.parse::<f64>().unwrap() + 50.0 * l.parse::<f64>().unwrap() + seed as f64;
                write_record(
                    &mut s,
                    [
                        run.to_string(),
                        c.to_string(),
                        f.to_string(),
                        l.to_string(),
                        seed.to_string(),
                        m.to_string(),
                        lat.to_string(),
                    ],
                );
                run += 1;
            }
        }
        Table::parse(&s, "t").unwrap()
    }

    #[test]
    fn the_metric_panels_have_a_line_and_a_band_per_other_configuration() {
        let svg = metrics_svg(&sweep()).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // two metrics, two series each (loss=0, loss=0.1)
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert_eq!(svg.matches("fill-opacity=\"0.18\"").count(), 4);
        assert!(svg.contains("loss=0.1") && svg.contains(">fanout<"));
        // a point's tooltip holds its mean: fanout 1, loss 0: latency 100 + 2
        assert!(svg.contains("<title>102 ± "), "{svg}");
    }

    #[test]
    fn the_tradeoff_has_a_point_per_configuration() {
        let svg = tradeoff_svg(&sweep()).unwrap();
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("fanout=2 loss=0.1: 22 msgs/update"), "{svg}");
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(3.0, 47.0), [10.0, 20.0, 30.0, 40.0]);
    }
}
