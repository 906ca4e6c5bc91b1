//! App ids and command names: validated before any path is built from
//! them, so that an id can never name a directory outside its store.

use std::fmt;

/// A reverse-domain app id, such as `org.example.hello`: at least three
/// dot-separated parts, each lowercase letters and digits starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppId(String);

impl AppId {
    pub fn parse(text: &str) -> std::result::Result<AppId, String> {
        let parts: Vec<&str> = text.split('.').collect();
        let part_ok = |p: &&str| {
            let mut bytes = p.bytes();
            matches!(bytes.next(), Some(b'a'..=b'z'))
                && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        if parts.len() < 3 || !parts.iter().all(part_ok) {
            return Err(format!(
                "\"{text}\" is not an app id; app ids are reverse-domain names of at least three dot-separated parts, each lowercase letters and digits starting with a letter, like \"org.example.hello\""
            ));
        }
        Ok(AppId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `name` has the form of a command name: lowercase letters, digits
/// and `-`, starting with a letter.
pub fn is_command_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids() {
        for good in ["org.example.hello", "io.weft.a1.b2", "a.b.c"] {
            assert!(AppId::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "hello",
            "org.example",
            "org.Example.hello",
            "org.example.1hello",
            "org.example.hel-lo",
            "org..hello",
            "../../etc.passwd.x",
            "org.example.hello/..",
        ] {
            assert!(AppId::parse(bad).is_err(), "{bad}");
        }
    }
}
