//! Functions over world-level types (see `wit/world.wit`): the component
//! imports `point`, `shape`, `color`, `perms` and `path` as types.
wit_bindgen::generate!({ path: "wit", world: "shapes" });

struct App;

impl Guest for App {
    fn move_point(p: Point, dx: i32, dy: i32) -> Point {
        Point {
            x: p.x.wrapping_add(dx),
            y: p.y.wrapping_add(dy),
        }
    }

    fn area(s: Shape) -> u64 {
        match s {
            Shape::Circle(r) => 3 * u64::from(r) * u64::from(r),
            Shape::Rect(corner) => {
                u64::from(corner.x.unsigned_abs()) * u64::from(corner.y.unsigned_abs())
            }
            Shape::Empty => 0,
        }
    }

    fn next_color(c: Color) -> Color {
        match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        }
    }

    fn toggle_write(p: Perms) -> Perms {
        p ^ Perms::WRITE
    }

    fn length(p: Path) -> u32 {
        p.windows(2)
            .map(|w| (w[1].x - w[0].x).unsigned_abs() + (w[1].y - w[0].y).unsigned_abs())
            .sum()
    }
}

export!(App);
