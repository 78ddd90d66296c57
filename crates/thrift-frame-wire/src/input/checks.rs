//! The limits both input protocols check, with the thrift crate's error
//! kinds and messages, so a peer sees the same refusal as before.

use thrift::{ProtocolError, ProtocolErrorKind};

use crate::Limits;

pub(super) const MAX_VARINT32_BYTES: u32 = 5;
pub(super) const MAX_VARINT64_BYTES: u32 = 10;

fn size_limit(message: String) -> thrift::Error {
    thrift::Error::Protocol(ProtocolError::new(ProtocolErrorKind::SizeLimit, message))
}

/// String, container and nesting limits, and the nesting so far.
#[derive(Debug)]
pub(super) struct Checks {
    limits: Limits,
    depth: usize,
}

impl Checks {
    pub(super) fn new(limits: Limits) -> Self {
        Checks { limits, depth: 0 }
    }

    /// A string or binary's declared length, before anything is allocated.
    pub(super) fn string_len(&self, len: usize) -> thrift::Result<()> {
        let max = self.limits.max_string_size;
        if len > max {
            return Err(size_limit(format!(
                "Byte array size {len} exceeds maximum allowed size of {max}"
            )));
        }
        Ok(())
    }

    /// A container's declared count: not negative, and its elements'
    /// smallest encoding within a message.
    pub(super) fn container(&self, count: i32, element_size: usize) -> thrift::Result<()> {
        if count < 0 {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::NegativeSize,
                format!("Negative container size: {count}"),
            )));
        }
        let max = self.limits.max_message_size;
        match (count as usize).checked_mul(element_size) {
            Some(needed) if needed > max => Err(size_limit(format!(
                "Container would require {needed} bytes, exceeding message size limit of {max}"
            ))),
            Some(_) => Ok(()),
            None => Err(size_limit(format!(
                "Container size {count} with element size {element_size} bytes would result in overflow"
            ))),
        }
    }

    pub(super) fn enter_struct(&mut self) -> thrift::Result<()> {
        let max = self.limits.max_recursion_depth;
        if self.depth >= max {
            return Err(thrift::Error::Protocol(ProtocolError::new(
                ProtocolErrorKind::DepthLimit,
                format!("Maximum recursion depth {max} exceeded"),
            )));
        }
        self.depth += 1;
        Ok(())
    }

    pub(super) fn leave_struct(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// `bytes` as a string, validated with SIMD where the CPU has it: first
/// the longest run of whole ASCII blocks (most payloads are ASCII, and an
/// OR over 256 bytes at a time is cheaper than full UTF-8 validation),
/// then the rest, from the first block with a non-ASCII byte, by simdutf8.
pub(super) fn utf8(bytes: Vec<u8>) -> thrift::Result<String> {
    let ascii = ascii_blocks(&bytes);
    match simdutf8::basic::from_utf8(&bytes[ascii..]) {
        // SAFETY: `bytes[..ascii]` is ASCII and `bytes[ascii..]` (which
        // starts at a character boundary, after ASCII) was just validated.
        Ok(_) => Ok(unsafe { String::from_utf8_unchecked(bytes) }),
        Err(_) => Err(thrift::Error::Protocol(ProtocolError::new(
            ProtocolErrorKind::InvalidData,
            "string is not valid UTF-8",
        ))),
    }
}

const ASCII_BLOCK: usize = 1024;

/// How many bytes at the start of `bytes` are whole ASCII blocks.
fn ascii_blocks(bytes: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { ascii_blocks_avx2(bytes) };
    }
    ascii_blocks_portable(bytes)
}

/// [`ascii_blocks_portable`] with AVX2: each block ORed 32 bytes at a
/// time into four registers, one sign-bit test per block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn ascii_blocks_avx2(bytes: &[u8]) -> usize {
    use std::arch::x86_64::{
        __m256i, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_setzero_si256,
    };
    const LANES: usize = 32;
    let mut ascii = 0;
    for block in bytes.chunks_exact(ASCII_BLOCK) {
        let at = block.as_ptr().cast::<__m256i>();
        let mut seen = [_mm256_setzero_si256(); 4];
        for i in (0..ASCII_BLOCK / LANES).step_by(4) {
            for (k, acc) in seen.iter_mut().enumerate() {
                // SAFETY: i + k < ASCII_BLOCK / LANES, so the 32 bytes read
                // are inside `block`; loadu needs no alignment.
                *acc = _mm256_or_si256(*acc, unsafe { _mm256_loadu_si256(at.add(i + k)) });
            }
        }
        let all = _mm256_or_si256(
            _mm256_or_si256(seen[0], seen[1]),
            _mm256_or_si256(seen[2], seen[3]),
        );
        if _mm256_movemask_epi8(all) != 0 {
            break;
        }
        ascii += ASCII_BLOCK;
    }
    ascii
}

#[inline(always)]
fn ascii_blocks_portable(bytes: &[u8]) -> usize {
    let mut ascii = 0;
    for block in bytes.chunks_exact(ASCII_BLOCK) {
        if block.iter().fold(0u8, |seen, &b| seen | b) & 0x80 != 0 {
            break;
        }
        ascii += ASCII_BLOCK;
    }
    ascii
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_validated_wherever_the_first_non_ascii_byte_is() {
        let ascii = "a".repeat(3 * ASCII_BLOCK + 17);
        for at in [
            0,
            1,
            ASCII_BLOCK - 1,
            ASCII_BLOCK,
            2 * ASCII_BLOCK + 5,
            ascii.len(),
        ] {
            let mut text = ascii.clone();
            text.insert_str(at, "é🎓");
            assert_eq!(utf8(text.clone().into_bytes()).expect("valid"), text);
            for bad in [
                &[0xff][..],
                &[0xc3][..],
                &[0xe2, 0x28, 0xa1][..],
                &[0xed, 0xa0, 0x80][..],
            ] {
                let mut bytes = ascii.clone().into_bytes();
                bytes.splice(at..at, bad.iter().copied());
                match utf8(bytes) {
                    Err(thrift::Error::Protocol(e)) => {
                        assert_eq!(e.kind, ProtocolErrorKind::InvalidData, "{bad:02x?} at {at}")
                    }
                    other => panic!("{bad:02x?} at {at} accepted: {other:?}"),
                }
            }
        }
        assert_eq!(ascii_blocks(ascii.as_bytes()), 3 * ASCII_BLOCK);
        assert_eq!(ascii_blocks_portable(ascii.as_bytes()), 3 * ASCII_BLOCK);
        // A non-ASCII byte in any lane of any block stops the run there.
        for at in (0..3 * ASCII_BLOCK).step_by(37) {
            let mut bytes = ascii.clone().into_bytes();
            bytes[at] = 0x80;
            let whole = at / ASCII_BLOCK * ASCII_BLOCK;
            assert_eq!(ascii_blocks(&bytes), whole, "0x80 at {at}");
            assert_eq!(ascii_blocks_portable(&bytes), whole, "0x80 at {at}");
        }
        assert_eq!(utf8(Vec::new()).expect("empty"), "");
    }
}
