//! Statistics over seeds: mean, standard deviation, Student's t 95 %
//! confidence interval, and Welch's t-test of two samples.
//!
//! A sweep's question is "how does this metric behave over seeds", and a
//! baseline's "did it change beyond what the seeds explain"; both need the
//! Student t distribution, computed here from the regularized incomplete
//! beta function (continued fraction, evaluated by the modified Lentz
//! method) so the crate needs no statistics dependency. Accurate to about
//! 1e-10 over the degrees of freedom a sweep has (1 to thousands).

/// Mean, sample standard deviation and the 95 % confidence interval of the
/// mean of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Sample size.
    pub n: usize,
    /// Arithmetic mean (NaN for an empty sample).
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator; 0 for one value).
    pub sd: f64,
    /// Half-width of the 95 % confidence interval of the mean:
    /// `t(0.975, n - 1) * sd / sqrt(n)` (0 for one value: no interval).
    pub half_width: f64,
}

impl Summary {
    /// The summary of `xs`.
    pub fn of(xs: &[f64]) -> Summary {
        let n = xs.len();
        if n == 0 {
            return Summary { n, mean: f64::NAN, sd: f64::NAN, half_width: f64::NAN };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Summary { n, mean, sd: 0.0, half_width: 0.0 };
        }
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half_width = t_quantile_975((n - 1) as f64) * sd / (n as f64).sqrt();
        Summary { n, mean, sd, half_width }
    }

    /// The interval's low end.
    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    /// The interval's high end.
    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// Welch's unequal-variance t-test of two samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welch {
    /// `(mean_b - mean_a) / sqrt(var_a / n_a + var_b / n_b)`; infinite when
    /// both samples are constant and their means differ, 0 when they agree.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

impl Welch {
    /// Compare sample `b` with sample `a` (`None` when either has fewer than
    /// two values: no variance to compare with).
    pub fn test(a: &[f64], b: &[f64]) -> Option<Welch> {
        if a.len() < 2 || b.len() < 2 {
            return None;
        }
        let (sa, sb) = (Summary::of(a), Summary::of(b));
        let (va, vb) = (sa.sd * sa.sd / a.len() as f64, sb.sd * sb.sd / b.len() as f64);
        let diff = sb.mean - sa.mean;
        let se2 = va + vb;
        if se2 == 0.0 {
            // both constant: the same value, or certainly different
            return Some(if diff == 0.0 {
                Welch { t: 0.0, df: (a.len() + b.len() - 2) as f64, p: 1.0 }
            } else {
                Welch { t: diff.signum() * f64::INFINITY, df: (a.len() + b.len() - 2) as f64, p: 0.0 }
            });
        }
        let t = diff / se2.sqrt();
        let df = se2 * se2 / (va * va / (a.len() - 1) as f64 + vb * vb / (b.len() - 1) as f64);
        Some(Welch { t, df, p: two_sided_p(t, df) })
    }
}

/// Two-sided p-value of Student's t with `df` degrees of freedom:
/// `P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2)`.
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { f64::NAN } else { 0.0 };
    }
    let x = df / (df + t * t);
    inc_beta(x, df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (the
/// multiplier of a two-sided 95 % interval), by bisection on
/// [`two_sided_p`].
pub fn t_quantile_975(df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while two_sided_p(hi, df) > 0.05 {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if two_sided_p(mid, df) > 0.05 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function I_x(a, b).
fn inc_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // the continued fraction converges fast for x < (a + 1) / (a + b + 2)
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(x, a, b) / a
    } else {
        1.0 - front * beta_cf(1.0 - x, b, a) / b
    }
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let away = |v: f64| if v.abs() < TINY { TINY } else { v };
    // one step of Lentz's method with coefficient `aa`: returns the factor
    // it multiplies the fraction by
    let step = |aa: f64, c: &mut f64, d: &mut f64| {
        *d = 1.0 / away(1.0 + aa * *d);
        *c = away(1.0 + aa / *c);
        *d * *c
    };
    let mut c = 1.0;
    let mut d = 1.0 / away(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..=500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        // even step
        h *= step(m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), &mut c, &mut d);
        // odd step
        let del = step(-(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)), &mut c, &mut d);
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        // Student's t table, two-sided 95 %
        for (df, t) in [(1.0, 12.7062), (2.0, 4.3027), (7.0, 2.3646), (19.0, 2.0930), (30.0, 2.0423), (1e6, 1.9600)] {
            let q = t_quantile_975(df);
            assert!((q - t).abs() < 1e-4, "df {df}: {q} vs {t}");
        }
    }

    #[test]
    fn p_values_match_the_printed_tables() {
        // t = 2.228 with 10 df is the 5 % two-sided point; t = 3.169 the 1 %
        assert!((two_sided_p(2.228, 10.0) - 0.05).abs() < 2e-4);
        assert!((two_sided_p(3.169, 10.0) - 0.01).abs() < 1e-4);
        assert!((two_sided_p(0.0, 5.0) - 1.0).abs() < 1e-12);
        assert_eq!(two_sided_p(f64::INFINITY, 5.0), 0.0);
    }

    #[test]
    fn the_summary_is_the_textbook_one() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.n, 8);
        assert!((s.mean - 5.0).abs() < 1e-12);
        assert!((s.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((s.half_width - 2.3646 * s.sd / 8f64.sqrt()).abs() < 1e-4);
        assert_eq!(Summary::of(&[3.0]).half_width, 0.0);
        assert!(Summary::of(&[]).mean.is_nan());
    }

    #[test]
    fn welch_matches_a_worked_example_and_handles_constant_samples() {
        // Wikipedia's first example of Welch's test (equal sizes, unequal
        // variances): |t| = 2.46, df = 24.99, p = 0.021
        let a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
        let b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
        let w = Welch::test(&a, &b).unwrap();
        assert!((w.t - 2.45536).abs() < 1e-4, "{w:?}");
        assert!((w.df - 24.9885).abs() < 1e-2, "{w:?}");
        assert!((w.p - 0.021378).abs() < 1e-5, "{w:?}");
        assert_eq!(Welch::test(&[1.0, 1.0], &[1.0, 1.0]).unwrap().p, 1.0);
        assert_eq!(Welch::test(&[1.0, 1.0], &[2.0, 2.0]).unwrap().p, 0.0);
        assert!(Welch::test(&[1.0], &[2.0, 2.0]).is_none());
    }
}
