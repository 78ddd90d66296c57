//! What `thrifttest-server` and `thrifttest-client` share: the upstream
//! cross test's flag values and one-line usage errors. Logging, `--transport`
//! and the server process's signals and readiness line come from
//! `thrift_frame_cli`, as for ping-server.

use clap::{Parser, ValueEnum};
use thrift_frame_wire::Protocol;

/// Exit status for a usage error: an unknown flag, a bad value, or a
/// combination we cannot serve (interop/SPEC.md).
pub const EXIT_USAGE: i32 = 2;

/// `--protocol`: upstream's names; `multi` and `multic` are binary and
/// compact with the multiplexed protocol, as upstream's cross test spells
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// Strict binary protocol.
    Binary,
    /// Compact protocol.
    Compact,
    /// Binary, multiplexed (same as `--protocol binary --multiplexed`).
    Multi,
    /// Compact, multiplexed (same as `--protocol compact --multiplexed`).
    Multic,
    /// JSON protocol (TJSONProtocol).
    Json,
    /// JSON, multiplexed (upstream's name).
    Multij,
}

impl ProtocolArg {
    /// The protocol, and whether the name itself asks for multiplexing.
    pub fn protocol(self) -> (Protocol, bool) {
        match self {
            ProtocolArg::Binary => (Protocol::Binary, false),
            ProtocolArg::Compact => (Protocol::Compact, false),
            ProtocolArg::Multi => (Protocol::Binary, true),
            ProtocolArg::Multic => (Protocol::Compact, true),
            ProtocolArg::Json => (Protocol::Json, false),
            ProtocolArg::Multij => (Protocol::Json, true),
        }
    }
}

/// Parses the command line; `--help` and `--version` print and exit 0,
/// anything else wrong exits [`EXIT_USAGE`] with one line on stderr.
pub fn parse_or_exit<A: Parser>(program: &str) -> A {
    match A::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => usage_error(program, &one_line(&e.to_string())),
    }
}

/// Prints `<program>: <message>` on stderr and exits [`EXIT_USAGE`].
pub fn usage_error(program: &str, message: &str) -> ! {
    eprintln!("{program}: {message}");
    std::process::exit(EXIT_USAGE)
}

/// clap's multi-line error as one line: its message and possible values,
/// without the usage block and tips.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more"))
        .filter(|l| !l.starts_with("tip:"))
        .map(|l| l.trim_start_matches("error: "))
        .collect::<Vec<_>>()
        .join("; ")
}
