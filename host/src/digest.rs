//! The sha256 digests that pin an app's wasm, in the manifest's form
//! `sha256:<64 lowercase hex digits>`.

use sha2::{Digest, Sha256};

/// The sha256 of some bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The `sha256:<hex>` form of some bytes' digest, as a manifest pins it.
pub fn hash_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&sha256(bytes)))
}

/// Parses `sha256:<64 lowercase hex digits>`.
pub fn parse_hash(text: &str) -> Result<[u8; 32], String> {
    let wrong = || {
        format!(
            "\"{text}\" is not a hash in the form \"sha256:<64 lowercase hex digits>\"; `weft hash FILE` prints the right value"
        )
    };
    let digits = text.strip_prefix("sha256:").ok_or_else(wrong)?;
    if digits.len() != 64
        || !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(wrong());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| wrong())?;
    }
    Ok(out)
}

/// Lowercase hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_round_trips_through_its_text_form() {
        let text = hash_of(b"weft");
        assert_eq!(parse_hash(&text).unwrap(), sha256(b"weft"));
        assert!(parse_hash(&text.to_uppercase()).is_err());
        assert!(parse_hash("sha256:00").is_err());
        assert!(parse_hash(&text["sha256:".len()..]).is_err());
    }
}
