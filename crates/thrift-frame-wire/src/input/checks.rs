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

/// `bytes` as a string, validated with SIMD where the CPU has it.
pub(super) fn utf8(bytes: Vec<u8>) -> thrift::Result<String> {
    match simdutf8::basic::from_utf8(&bytes) {
        // SAFETY: `bytes` was just validated as UTF-8.
        Ok(_) => Ok(unsafe { String::from_utf8_unchecked(bytes) }),
        Err(_) => Err(thrift::Error::Protocol(ProtocolError::new(
            ProtocolErrorKind::InvalidData,
            "string is not valid UTF-8",
        ))),
    }
}
