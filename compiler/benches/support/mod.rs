//! Shared by the compiler's benchmarks.

use std::time::{Duration, Instant};

/// Median wall time of `runs` runs of `f`.
pub fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}
