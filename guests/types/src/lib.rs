//! Echoes every WIT type back, so the CLI's argument parsing and result
//! printing can be checked for each.
wit_bindgen::generate!({ path: "wit", world: "types" });

use exports::weft_test::types::echo::{Color, Guest, Perms, Point, Shape};

struct App;

impl Guest for App {
    fn echo_bool(v: bool) -> bool { v }
    fn echo_s8(v: i8) -> i8 { v }
    fn echo_u8(v: u8) -> u8 { v }
    fn echo_s16(v: i16) -> i16 { v }
    fn echo_u16(v: u16) -> u16 { v }
    fn echo_s32(v: i32) -> i32 { v }
    fn echo_u32(v: u32) -> u32 { v }
    fn echo_s64(v: i64) -> i64 { v }
    fn echo_u64(v: u64) -> u64 { v }
    fn echo_f32(v: f32) -> f32 { v }
    fn echo_f64(v: f64) -> f64 { v }
    fn echo_char(v: char) -> char { v }
    fn echo_string(v: String) -> String { v }
    fn echo_list(v: Vec<u32>) -> Vec<u32> { v }
    fn echo_record(v: Point) -> Point { v }
    fn echo_tuple(v: (u8, String, bool)) -> (u8, String, bool) { v }
    fn echo_option(v: Option<String>) -> Option<String> { v }
    fn echo_result(v: Result<u32, String>) -> Result<u32, String> { v }
    fn echo_variant(v: Shape) -> Shape { v }
    fn echo_enum(v: Color) -> Color { v }
    fn echo_flags(v: Perms) -> Perms { v }
    fn echo_nested(v: Vec<Option<Point>>) -> Vec<Option<Point>> { v }

    fn divide(a: i32, b: i32) -> Result<i32, String> {
        if b == 0 {
            Err(format!("cannot divide {a} by zero"))
        } else {
            Ok(a / b)
        }
    }

    fn describe(p: Point, c: Color) -> String {
        format!("{} at ({}, {}) is {:?}", p.label, p.x, p.y, c)
    }

    fn nothing() {}
}

export!(App);
