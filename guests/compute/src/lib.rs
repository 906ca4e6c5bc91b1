//! The seed's function-style app: `compute(6, 7)` is 42.
wit_bindgen::generate!({ path: "../../wit", world: "weft:app/compute" });

struct App;

impl Guest for App {
    fn compute(a: u32, b: u32) -> u32 {
        a.wrapping_mul(b)
    }
}

export!(App);
