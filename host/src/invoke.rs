//! Method calls: an exported function found by name, its arguments parsed
//! from command-line strings by its WIT parameter types (WAVE, the syntax of
//! `wasmtime run --invoke`), and its results printed as WAVE or JSON.

use std::fmt::Write as _;

use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, Type, Val};

use crate::{Error, Result};

/// An exported function, with its WIT signature.
#[derive(Clone)]
pub struct Method {
    /// As the manifest or `--invoke` names it: `name` or `interface#name`.
    pub name: String,
    pub index: ComponentExportIndex,
    pub params: Vec<(String, Type)>,
    pub results: Vec<Type>,
    /// A WASI 0.3 `async func`; it is called the same way.
    pub is_async: bool,
}

impl Method {
    /// Finds `name` (`func` at world level, or `namespace:package/interface#func`).
    pub fn find(component: &Component, engine: &Engine, name: &str) -> Result<Method> {
        let (interface, func) = match name.rsplit_once('#') {
            Some((interface, func)) => (Some(interface), func),
            None => (None, name),
        };
        let parent = match interface {
            Some(interface) => Some(
                component
                    .get_export(None, interface)
                    .filter(|(item, _)| matches!(item, ComponentItem::ComponentInstance(_)))
                    .map(|(_, index)| index)
                    .ok_or_else(|| {
                        Error::package(format!(
                            "the component exports no interface `{interface}`; {}",
                            exported_functions_hint(component, engine)
                        ))
                    })?,
            ),
            None => None,
        };
        let (item, index) = component.get_export(parent.as_ref(), func).ok_or_else(|| {
            Error::package(format!(
                "the component exports no function `{name}`; {}",
                exported_functions_hint(component, engine)
            ))
        })?;
        let ComponentItem::ComponentFunc(ty) = item else {
            return Err(Error::package(format!(
                "`{name}` is exported, but it is not a function; {}",
                exported_functions_hint(component, engine)
            )));
        };
        Ok(Method::from_type(name, index, &ty))
    }

    fn from_type(name: &str, index: ComponentExportIndex, ty: &ComponentFunc) -> Method {
        Method {
            name: name.to_string(),
            index,
            params: ty.params().map(|(n, t)| (n.to_string(), t)).collect(),
            results: ty.results().collect(),
            is_async: ty.async_(),
        }
    }

    /// The WIT signature: `compute: func(a: u32, b: u32) -> u32`, or
    /// `nap: async func(ms: u32) -> string` for a WASI 0.3 `async` export.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(name, ty)| format!("{name}: {}", wit_type(ty)))
            .collect();
        let kind = if self.is_async { "async func" } else { "func" };
        let mut out = format!("{}: {kind}({})", self.name, params.join(", "));
        if let Some(result) = self.results.first() {
            let _ = write!(out, " -> {}", wit_type(result));
        }
        out
    }

    /// Parses one command-line string per parameter.
    ///
    /// Each argument is WAVE text for its parameter's type; for a `string`
    /// parameter a bare word (not starting with `"`) is taken as it is.
    pub fn parse_args(&self, args: &[String]) -> Result<Vec<Val>> {
        if args.len() != self.params.len() {
            let usage: Vec<String> = self.params.iter().map(|(_, ty)| example(ty)).collect();
            return Err(Error::usage(format!(
                "`{}` takes {} argument(s) but {} were given; its signature is `{}`, so call it like: {}",
                self.name,
                self.params.len(),
                args.len(),
                self.signature(),
                shell_words(&usage)
            )));
        }
        self.params
            .iter()
            .zip(args)
            .map(|((name, ty), arg)| parse_value(name, ty, arg))
            .collect()
    }
}

fn exported_functions_hint(component: &Component, engine: &Engine) -> String {
    let names = exported_functions(component, engine);
    if names.is_empty() {
        "it exports no functions".to_string()
    } else {
        format!("it exports: {}", names.join(", "))
    }
}

/// The component's exported functions, as `--invoke` names them: `func` at
/// world level, `namespace:package/interface#func` in an interface.
pub fn exported_functions(component: &Component, engine: &Engine) -> Vec<String> {
    let mut names = Vec::new();
    let ty = component.component_type();
    for (name, export) in ty.exports(engine) {
        match export.ty {
            ComponentItem::ComponentFunc(_) => names.push(name.to_string()),
            ComponentItem::ComponentInstance(instance) => {
                for (func, item) in instance.exports(engine) {
                    if matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                        names.push(format!("{name}#{func}"));
                    }
                }
            }
            _ => {}
        }
    }
    names
}

/// Parses one argument for parameter `name` of type `ty`.
pub fn parse_value(name: &str, ty: &Type, text: &str) -> Result<Val> {
    if matches!(ty, Type::String) && !text.trim_start().starts_with('"') {
        return Ok(Val::String(text.to_string()));
    }
    Val::from_wave(ty, &wave_input(text)).map_err(|err| {
        Error::usage(format!(
            "argument `{name}` must be a WAVE value of type `{}`, like {}, but \"{text}\" is not one ({err})",
            wit_type(ty),
            shell_word(&example(ty))
        ))
    })
}

/// WAVE text as weft hands it to the parser: wasm-wave 0.261 panics on a
/// `//` comment that ends the text (its lexer reads the comment up to a
/// newline that is not there), so such text gets one. A newline after a
/// value is whitespace: nothing else changes. Found by the `method_args`
/// fuzz target (`fuzz/regressions/method_args/wave-comment-at-end`).
pub fn wave_input(text: &str) -> std::borrow::Cow<'_, str> {
    if text.ends_with("//") {
        std::borrow::Cow::Owned(format!("{text}\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The WIT spelling of a type (records, variants, enums and flags spelled
/// out structurally, as component types carry no names).
pub fn wit_type(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(list) => format!("list<{}>", wit_type(&list.ty())),
        Type::FixedLengthList(list) => format!("list<{}, {}>", wit_type(&list.ty()), list.len()),
        Type::Map(map) => format!("map<{}, {}>", wit_type(&map.key()), wit_type(&map.value())),
        Type::Record(record) => {
            let fields: Vec<String> = record
                .fields()
                .map(|f| format!("{}: {}", f.name, wit_type(&f.ty)))
                .collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        Type::Tuple(tuple) => {
            let types: Vec<String> = tuple.types().map(|t| wit_type(&t)).collect();
            format!("tuple<{}>", types.join(", "))
        }
        Type::Variant(variant) => {
            let cases: Vec<String> = variant
                .cases()
                .map(|c| match c.ty {
                    Some(ty) => format!("{}({})", c.name, wit_type(&ty)),
                    None => c.name.to_string(),
                })
                .collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        Type::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        Type::Option(option) => format!("option<{}>", wit_type(&option.ty())),
        Type::Result(result) => match (result.ok(), result.err()) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", wit_type(&ok)),
            (None, Some(err)) => format!("result<_, {}>", wit_type(&err)),
            (Some(ok), Some(err)) => format!("result<{}, {}>", wit_type(&ok), wit_type(&err)),
        },
        Type::Flags(flags) => format!(
            "flags {{ {} }}",
            flags.names().collect::<Vec<_>>().join(", ")
        ),
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Future(_) => "future".into(),
        Type::Stream(_) => "stream".into(),
        Type::ErrorContext => "error-context".into(),
    }
}

/// A WAVE example value of a type, for error messages.
pub fn example(ty: &Type) -> String {
    match ty {
        Type::Bool => "true".into(),
        Type::S8 | Type::S16 | Type::S32 | Type::S64 => "-7".into(),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "7".into(),
        Type::Float32 | Type::Float64 => "1.5".into(),
        Type::Char => "'x'".into(),
        Type::String => "\"text\"".into(),
        Type::List(list) => format!("[{}]", example(&list.ty())),
        Type::FixedLengthList(list) => {
            let items: Vec<String> = (0..list.len()).map(|_| example(&list.ty())).collect();
            format!("[{}]", items.join(", "))
        }
        Type::Map(map) => format!("[({}, {})]", example(&map.key()), example(&map.value())),
        Type::Record(record) => {
            let fields: Vec<String> = record
                .fields()
                .map(|f| format!("{}: {}", f.name, example(&f.ty)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        Type::Tuple(tuple) => {
            let items: Vec<String> = tuple.types().map(|t| example(&t)).collect();
            format!("({})", items.join(", "))
        }
        Type::Variant(variant) => match variant.cases().next() {
            Some(case) => match case.ty {
                Some(ty) => format!("{}({})", case.name, example(&ty)),
                None => case.name.to_string(),
            },
            None => "?".into(),
        },
        Type::Enum(e) => e.names().next().unwrap_or("?").to_string(),
        Type::Option(option) => format!("some({})", example(&option.ty())),
        Type::Result(result) => match result.ok() {
            Some(ok) => format!("ok({})", example(&ok)),
            None => "ok".into(),
        },
        Type::Flags(flags) => match flags.names().next() {
            Some(name) => format!("{{{name}}}"),
            None => "{}".into(),
        },
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            "(not expressible on a command line)".into()
        }
    }
}

/// Quotes a value for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    let plain = word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value as one line of WAVE.
pub fn to_wave(val: &Val) -> Result<String> {
    val.to_wave()
        .map_err(|err| Error::internal(format!("cannot print the result as WAVE: {err}")))
}

/// A value as JSON: records are objects, lists and tuples arrays, options
/// `null` or the value, results `{"ok": …}` / `{"err": …}`, variants
/// `{"case": payload}` (or the case name without a payload), enums their case
/// name, flags an array of names, chars one-character strings.
pub fn to_json(val: &Val) -> String {
    let mut out = String::new();
    write_json(val, &mut out);
    out
}

fn write_json(val: &Val, out: &mut String) {
    match val {
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::S8(n) => out.push_str(&n.to_string()),
        Val::U8(n) => out.push_str(&n.to_string()),
        Val::S16(n) => out.push_str(&n.to_string()),
        Val::U16(n) => out.push_str(&n.to_string()),
        Val::S32(n) => out.push_str(&n.to_string()),
        Val::U32(n) => out.push_str(&n.to_string()),
        Val::S64(n) => out.push_str(&n.to_string()),
        Val::U64(n) => out.push_str(&n.to_string()),
        Val::Float32(f) => json_float(f64::from(*f), out),
        Val::Float64(f) => json_float(*f, out),
        Val::Char(c) => json_string(&c.to_string(), out),
        Val::String(s) => json_string(s, out),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Val::Map(entries) => {
            out.push('[');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                write_json(key, out);
                out.push(',');
                write_json(value, out);
                out.push(']');
            }
            out.push(']');
        }
        Val::Record(fields) => {
            out.push('{');
            for (i, (name, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(name, out);
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
        Val::Variant(case, payload) => match payload {
            Some(payload) => {
                out.push('{');
                json_string(case, out);
                out.push(':');
                write_json(payload, out);
                out.push('}');
            }
            None => json_string(case, out),
        },
        Val::Enum(case) => json_string(case, out),
        Val::Option(None) => out.push_str("null"),
        Val::Option(Some(value)) => write_json(value, out),
        Val::Result(result) => {
            let (key, payload) = match result {
                Ok(payload) => ("ok", payload),
                Err(payload) => ("err", payload),
            };
            out.push('{');
            json_string(key, out);
            out.push(':');
            match payload {
                Some(payload) => write_json(payload, out),
                None => out.push_str("null"),
            }
            out.push('}');
        }
        Val::Flags(names) => {
            out.push('[');
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(name, out);
            }
            out.push(']');
        }
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            out.push_str("null")
        }
    }
}

fn json_float(f: f64, out: &mut String) {
    if f.is_finite() {
        let _ = write!(out, "{f}");
    } else {
        // JSON has no NaN or infinities; print them as WAVE spells them.
        json_string(
            if f.is_nan() {
                "nan"
            } else if f > 0.0 {
                "inf"
            } else {
                "-inf"
            },
            out,
        );
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    // wasm-wave 0.261 panics on a `//` comment at the very end of its input
    // (fuzz/regressions/method_args/wave-comment-at-end): weft parses such
    // text as the comment it is.
    #[test]
    fn a_comment_that_ends_the_text_is_a_comment() {
        assert!(matches!(
            parse_value("n", &Type::U32, "7//"),
            Ok(Val::U32(7))
        ));
        assert!(matches!(
            parse_value("s", &Type::String, "\"a\" //"),
            Ok(Val::String(s)) if s == "a"
        ));
        let err = parse_value("n", &Type::U32, "na//").expect_err("not a u32");
        assert!(
            err.to_string()
                .contains("argument `n` must be a WAVE value")
        );
        let text = wave_input("f(1)//");
        let call = wasmtime::component::wasm_wave::untyped::UntypedFuncCall::parse(&text);
        assert!(call.is_ok());
    }
}
