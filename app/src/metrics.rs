//! Counters and histograms for `/metrics`, in Prometheus's text format (version 0.0.4).
//!
//! Lock-free on the hot paths: a histogram is a fixed set of atomic buckets, so the ledger
//! writer and every request record what they did without waiting on each other.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// A histogram with fixed upper bounds (Prometheus's cumulative `le` buckets).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, plus `+Inf`; each counts the observations that fell in it alone.
    buckets: Vec<AtomicU64>,
    /// The sum of the observations, as `f64` bits.
    sum: AtomicU64,
}

/// Seconds, from half a millisecond to ten seconds: request and commit latencies.
pub const LATENCY_BOUNDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Operations per ledger batch, up to the writer's largest.
pub const BATCH_BOUNDS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub fn observe(&self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
    }

    /// How many observations there were.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// Appends the `_bucket`, `_sum` and `_count` lines of `name`; `labels` is empty or a
    /// `key="value",…` list without braces.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = self
                .bounds
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = f64::from_bits(self.sum.load(Ordering::Relaxed));
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// Appends the `# HELP` and `# TYPE` lines of a metric.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
pub fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What the ledger writer reports: how large its batches are, how long their commits take,
/// and how many failed (each rolled back whole).
#[derive(Debug)]
pub struct LedgerMetrics {
    pub batch_size: Histogram,
    pub commit_seconds: Histogram,
    pub failed_batches: AtomicU64,
}

impl Default for LedgerMetrics {
    fn default() -> Self {
        LedgerMetrics {
            batch_size: Histogram::new(BATCH_BOUNDS),
            commit_seconds: Histogram::new(LATENCY_BOUNDS),
            failed_batches: AtomicU64::new(0),
        }
    }
}

impl LedgerMetrics {
    pub fn render(&self, out: &mut String) {
        header(
            out,
            "iapd_ledger_batch_operations",
            "histogram",
            "Operations the ledger writer applied per transaction.",
        );
        self.batch_size
            .render(out, "iapd_ledger_batch_operations", "");
        header(
            out,
            "iapd_ledger_commit_seconds",
            "histogram",
            "Time from BEGIN IMMEDIATE to a durable COMMIT of one ledger batch.",
        );
        self.commit_seconds
            .render(out, "iapd_ledger_commit_seconds", "");
        header(
            out,
            "iapd_ledger_failed_batches_total",
            "counter",
            "Ledger batches rolled back on a database error.",
        );
        let failed = self.failed_batches.load(Ordering::Relaxed);
        let _ = writeln!(out, "iapd_ledger_failed_batches_total {failed}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_cumulatively_with_its_sum() {
        let h = Histogram::new(&[1.0, 10.0]);
        for value in [0.5, 1.0, 3.0, 50.0] {
            h.observe(value);
        }
        assert_eq!(h.count(), 4);
        let mut out = String::new();
        h.render(&mut out, "x", "route=\"/a\"");
        assert_eq!(
            out,
            "x_bucket{route=\"/a\",le=\"1\"} 2\n\
             x_bucket{route=\"/a\",le=\"10\"} 3\n\
             x_bucket{route=\"/a\",le=\"+Inf\"} 4\n\
             x_sum{route=\"/a\"} 54.5\n\
             x_count{route=\"/a\"} 4\n"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
