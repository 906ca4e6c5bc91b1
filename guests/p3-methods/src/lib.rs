//! `async func` exports (see `wit/world.wit`) that await a WASI 0.3 clock
//! before they answer; `double` is a plain export beside them.
wit_bindgen::generate!({ path: "wit", world: "methods" });

use wasip3::clocks::monotonic_clock;

struct App;

async fn wait(ms: u32) {
    monotonic_clock::wait_for(u64::from(ms) * 1_000_000).await;
}

impl Guest for App {
    async fn move_after(ms: u32, p: Point, dx: i32, dy: i32) -> Point {
        wait(ms).await;
        Point {
            x: p.x.wrapping_add(dx),
            y: p.y.wrapping_add(dy),
        }
    }

    async fn sum_after(ms: u32, values: Vec<u32>) -> u64 {
        wait(ms).await;
        values.iter().map(|&v| u64::from(v)).sum()
    }

    async fn nap(ms: u32) -> String {
        let start = monotonic_clock::now();
        wait(ms).await;
        let waited = (monotonic_clock::now() - start) / 1_000_000;
        if u64::from(ms) <= waited {
            format!("napped {ms} ms")
        } else {
            format!("woke early, after {waited} of {ms} ms")
        }
    }

    async fn trap_after(ms: u32) {
        wait(ms).await;
        panic!("trap-after traps once its wait is over");
    }

    fn double(n: u32) -> u32 {
        n.wrapping_mul(2)
    }

    async fn weft_ready() -> Result<(), String> {
        wait(5).await;
        Ok(())
    }
}

export!(App);
