//! Checks that the wall clock is plausible and the monotonic clock advances
//! across a sleep.
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("wall clock before 1970");
    // 2024-01-01T00:00:00Z
    if now.as_secs() > 1_704_067_200 {
        println!("wall clock: ok");
    } else {
        println!("wall clock: implausible ({}s since the epoch)", now.as_secs());
    }
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let slept = start.elapsed();
    if slept >= Duration::from_millis(20) {
        println!("monotonic clock: ok");
    } else {
        println!("monotonic clock: slept only {slept:?}");
    }
}
