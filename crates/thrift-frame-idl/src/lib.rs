//! Rust bindings generated from `idl/ping.thrift` and `idl/student.thrift`.
//!
//! The files under `src/generated/` are written by `make generate` (Debian's
//! `thrift-compiler` 0.17.0) and committed, so `cargo build` works on a machine
//! without the compiler. CI regenerates them and fails on any difference.
//! Never edit them by hand.

// The generated files open with inner `#![allow(..)]` attributes, which
// `include!` rejects; `#[path]` modules accept them.
// Lints are for code we write, not for the compiler's output.
#[allow(clippy::all)]
#[path = "generated/ping.rs"]
pub mod ping;

#[allow(clippy::all)]
#[path = "generated/student.rs"]
pub mod student;
