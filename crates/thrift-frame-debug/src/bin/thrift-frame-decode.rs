//! `thrift-frame-decode`: shows one Thrift message, from a file or stdin, as
//! C++ TDebugProtocol prints it.
//!
//! Exit status: 0 shown, 1 the input could not be read or decoded, 2 usage.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Parser;
use thrift_frame_debug::{DebugError, DebugView};
use thrift_frame_wire::{Limits, Protocol, Transport, WireConfig};

/// Shows one Thrift message, decoded without its IDL, as C++ TDebugProtocol
/// prints it. Struct and field names are not on the wire, so they are empty.
#[derive(Debug, Parser)]
#[command(name = "thrift-frame-decode", version)]
struct Args {
    /// The message's protocol: binary, compact or json.
    #[arg(long, value_name = "PROTOCOL")]
    protocol: Protocol,
    /// The message's transport: buffered, framed or zlib.
    #[arg(long, value_name = "TRANSPORT", default_value = "buffered")]
    transport: Transport,
    /// The input is hex text (whitespace ignored), not raw bytes.
    #[arg(long)]
    hex: bool,
    /// Cut strings longer than this many bytes [default: 256, as C++].
    #[arg(long, value_name = "BYTES", conflicts_with = "full_strings")]
    string_limit: Option<usize>,
    /// Show every string whole.
    #[arg(long)]
    full_strings: bool,
    /// The file holding the message; stdin when absent or `-`.
    file: Option<PathBuf>,
}

fn main() -> ExitCode {
    // Usage errors exit 2 here, --help and --version 0.
    let args = Args::parse();
    match run(&args) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("thrift-frame-decode: cannot write the view: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            if let Some(partial) = e
                .downcast_ref::<DebugError>()
                .and_then(DebugError::partial)
                .filter(|p| !p.is_empty())
            {
                eprintln!("decoded before the error:\n{partial}");
            }
            eprintln!("thrift-frame-decode: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<String> {
    let source = match &args.file {
        Some(path) if path.as_os_str() != "-" => path.display().to_string(),
        _ => "stdin".to_owned(),
    };
    let raw = read_input(args.file.as_ref()).with_context(|| format!("cannot read {source}"))?;
    let bytes = if args.hex {
        from_hex(&raw).with_context(|| format!("{source} is not hex text"))?
    } else {
        raw
    };
    let wire = WireConfig {
        protocol: args.protocol,
        transport: args.transport,
        limits: Limits::default(),
    };
    let mut view = DebugView::new(wire);
    if args.full_strings {
        view = view.without_string_limit();
    } else if let Some(limit) = args.string_limit {
        view = view.with_string_limit(limit);
    }
    view.view(&bytes).with_context(|| {
        format!(
            "{source} ({} bytes) is not a {} message on {} transport",
            bytes.len(),
            args.protocol,
            args.transport
        )
    })
}

fn read_input(file: Option<&PathBuf>) -> std::io::Result<Vec<u8>> {
    match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read(path),
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin().lock().read_to_end(&mut bytes)?;
            Ok(bytes)
        }
    }
}

/// Hex digits, two per byte, any whitespace between them ignored.
fn from_hex(text: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    for (at, &c) in text.iter().enumerate() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => bail!(
                "{:?} at byte {at} is not a hex digit",
                char::from(c).escape_default().to_string()
            ),
        };
        match high.take() {
            None => high = Some(digit),
            Some(h) => bytes.push(h << 4 | digit),
        }
    }
    if high.is_some() {
        bail!("an odd number of hex digits");
    }
    Ok(bytes)
}
