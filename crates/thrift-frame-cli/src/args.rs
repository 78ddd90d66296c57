//! Command-line value types shared by both binaries.

use clap::ValueEnum;
use thrift_frame_wire::{Protocol, Transport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    Binary,
    Compact,
    /// TJSONProtocol.
    Json,
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Self {
        match p {
            ProtocolArg::Binary => Protocol::Binary,
            ProtocolArg::Compact => Protocol::Compact,
            ProtocolArg::Json => Protocol::Json,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    Buffered,
    Framed,
    /// TZlibTransport over the socket.
    Zlib,
    /// THttpClient/THttpServer: a POST per call.
    Http,
    /// THeaderTransport: a frame per message with its protocol and info headers.
    Header,
    /// Servers only: header, framed or buffered, detected per connection.
    Auto,
}

impl From<TransportArg> for Transport {
    fn from(t: TransportArg) -> Self {
        match t {
            TransportArg::Buffered => Transport::Buffered,
            TransportArg::Framed => Transport::Framed,
            TransportArg::Zlib => Transport::Zlib,
            TransportArg::Http => Transport::Http,
            TransportArg::Header => Transport::Header,
            TransportArg::Auto => Transport::Auto,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceArg {
    Ping,
    Student,
}

/// Parses a byte size: `131072`, `128K` (x1024) or `1M` (x1048576).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1024usize),
        Some((i, 'M' | 'm')) => (&s[..i], 1024 * 1024),
        _ => (s, 1),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("invalid size {s:?}: expected e.g. 4096, 128K or 1M"))?;
    n.checked_mul(unit)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// Parses `--sizes`: a comma-separated list of sizes.
pub fn parse_sizes(s: &str) -> Result<Vec<usize>, String> {
    s.split(',').map(parse_size).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(
            parse_sizes("128K,256K,512K,1M").expect("parse"),
            vec![131072, 262144, 524288, 1048576]
        );
        assert_eq!(parse_size("0").expect("zero"), 0);
        assert_eq!(parse_size("17").expect("plain"), 17);
        assert!(parse_size("1G").is_err());
        assert!(parse_size("K").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999999999999M").is_err());
    }
}
