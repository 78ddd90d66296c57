//! Size limits that bound what a peer can make us allocate.

use thrift::TConfiguration;

use crate::WireError;

/// Upper bounds applied to everything read from a peer.
///
/// - `max_frame_size`: largest frame accepted on framed transport; checked on
///   the 4-byte header, before anything is allocated.
/// - `max_string_size`: largest string/binary field; checked on its length
///   prefix, before anything is allocated.
/// - `max_message_size`: upper bound for the two above (a frame or a string can
///   never be larger than a message). Thrift 0.25's Rust protocols do not yet
///   count the bytes of a whole message on unframed transport, so on buffered
///   connections the string limit is what bounds allocation: our messages carry
///   at most one string or one struct with one string.
/// - `max_recursion_depth`: nesting of structs, lists, maps and sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame (framed transport), checked on its length prefix.
    pub max_frame_size: usize,
    /// Largest message.
    pub max_message_size: usize,
    /// Largest string or binary field, checked on its length prefix.
    pub max_string_size: usize,
    /// Deepest nesting of structs and containers.
    pub max_recursion_depth: usize,
}

impl Limits {
    /// 16 MiB: sixteen times the largest payload this project sends.
    pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 * 1024 * 1024;
    /// 16 MiB, as the frame.
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
    /// 16 MiB, as the frame.
    pub const DEFAULT_MAX_STRING_SIZE: usize = 16 * 1024 * 1024;
    /// 64, as the thrift crate's own default.
    pub const DEFAULT_MAX_RECURSION_DEPTH: usize = 64;

    /// Builds limits and checks that they are consistent.
    pub fn new(
        max_frame_size: usize,
        max_message_size: usize,
        max_string_size: usize,
    ) -> Result<Limits, WireError> {
        let limits = Limits {
            max_frame_size,
            max_message_size,
            max_string_size,
            max_recursion_depth: Self::DEFAULT_MAX_RECURSION_DEPTH,
        };
        limits.validate()?;
        Ok(limits)
    }

    /// Rejects limits that contradict each other or that are zero.
    pub fn validate(&self) -> Result<(), WireError> {
        let invalid = |reason: String| WireError::InvalidLimits {
            reason,
            source: None,
        };
        if self.max_frame_size == 0 || self.max_message_size == 0 || self.max_string_size == 0 {
            return Err(invalid("limits must be greater than zero".into()));
        }
        if self.max_frame_size > self.max_message_size {
            return Err(invalid(format!(
                "max frame size {} exceeds max message size {}",
                self.max_frame_size, self.max_message_size
            )));
        }
        if self.max_string_size > self.max_message_size {
            return Err(invalid(format!(
                "max string size {} exceeds max message size {}",
                self.max_string_size, self.max_message_size
            )));
        }
        // The frame length travels as a signed 32-bit integer.
        if self.max_frame_size > i32::MAX as usize {
            return Err(invalid(format!(
                "max frame size {} exceeds the wire format's {}",
                self.max_frame_size,
                i32::MAX
            )));
        }
        Ok(())
    }

    /// The crate's configuration carrying these limits, for the protocols.
    pub fn thrift_configuration(&self) -> TConfiguration {
        let built = TConfiguration::builder()
            .max_message_size(Some(self.max_message_size))
            // The crate insists frame <= message; `validate` guarantees it,
            // and `min` keeps it true even for limits built by hand.
            .max_frame_size(Some(self.max_frame_size.min(self.max_message_size)))
            .max_string_size(Some(self.max_string_size))
            .max_recursion_depth(Some(self.max_recursion_depth))
            .build();
        // The only failure `build` knows is frame > message, excluded above.
        built.unwrap_or_default()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: Self::DEFAULT_MAX_FRAME_SIZE,
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            max_string_size: Self::DEFAULT_MAX_STRING_SIZE,
            max_recursion_depth: Self::DEFAULT_MAX_RECURSION_DEPTH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_consistent() {
        Limits::default().validate().expect("defaults valid");
        let c = Limits::default().thrift_configuration();
        assert_eq!(c.max_string_size(), Some(Limits::DEFAULT_MAX_STRING_SIZE));
        assert_eq!(c.max_frame_size(), Some(Limits::DEFAULT_MAX_FRAME_SIZE));
    }

    #[test]
    fn contradictory_limits_are_rejected() {
        assert!(Limits::new(2048, 1024, 512).is_err());
        assert!(Limits::new(512, 1024, 2048).is_err());
        assert!(Limits::new(0, 1024, 512).is_err());
        assert!(Limits::new(512, 1024, 1024).is_ok());
    }
}
