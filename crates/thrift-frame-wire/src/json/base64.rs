//! Standard base64 (RFC 4648 alphabet), written without padding as C++
//! TJSONProtocol does, read with or without it.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the unpadded base64 of `bytes` to `out`.
pub(super) fn encode_unpadded(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // 1 byte -> 2 characters, 2 -> 3, 3 -> 4.
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]);
        }
    }
}

fn value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes `text`, ignoring up to two trailing `=`. Returns the offending
/// character's description on failure.
pub(super) fn decode(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut text = text;
    for _ in 0..2 {
        if let [rest @ .., b'='] = text {
            text = rest;
        }
    }
    if text.len() % 4 == 1 {
        return Err(format!("base64 of {} characters is truncated", text.len()));
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = value(c).ok_or_else(|| format!("invalid base64 character {:?}", c as char))?;
            n |= v << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_without_padding_and_decodes_both() {
        for (raw, enc) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"\xff\xfe\x00", "//4A"),
        ] {
            let mut out = Vec::new();
            encode_unpadded(raw, &mut out);
            assert_eq!(out, enc.as_bytes());
            assert_eq!(decode(enc.as_bytes()).expect("unpadded"), raw);
            let padded = format!("{enc}{}", "=".repeat((4 - enc.len() % 4) % 4));
            assert_eq!(decode(padded.as_bytes()).expect("padded"), raw);
        }
        assert!(decode(b"Zm9vY").is_err());
        assert!(decode(b"Zm9*").is_err());
        assert!(decode(b"Zg===").is_err());
    }
}
