//! What the client suite found, and the exit code that says it: the
//! upstream cross test's bitmask.

use std::collections::BTreeMap;
use std::fmt;

/// Exit-code bit: a base-type check failed (upstream `TEST_BASETYPES`).
pub const EXIT_BASETYPES: u8 = 1;
/// Exit-code bit: a struct check failed (upstream `TEST_STRUCTS`).
pub const EXIT_STRUCTS: u8 = 2;
/// Exit-code bit: a container check failed (upstream `TEST_CONTAINERS`).
pub const EXIT_CONTAINERS: u8 = 4;
/// Exit-code bit: an exception check failed (upstream `TEST_EXCEPTIONS`).
pub const EXIT_EXCEPTIONS: u8 = 8;
/// Exit-code bit: the suite could not run at all, e.g. no connection
/// (upstream `TEST_UNKNOWN`).
pub const EXIT_UNKNOWN: u8 = 64;
/// Exit-code bit: a call timed out (upstream `TEST_TIMEOUT`).
pub const EXIT_TIMEOUT: u8 = 128;

/// The group a check belongs to; each has its bit in the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Strings, bools, integers, doubles, binary, void, oneway.
    BaseTypes,
    /// Structs, nested structs, enums, typedefs, `testInsanity`, `testMulti`.
    Structs,
    /// Maps, sets, lists, nested maps.
    Containers,
    /// Declared exceptions and `TApplicationException`s.
    Exceptions,
}

impl Group {
    /// Every group, in bit order.
    pub const ALL: [Group; 4] = [
        Group::BaseTypes,
        Group::Structs,
        Group::Containers,
        Group::Exceptions,
    ];

    /// This group's bit in the exit code.
    pub fn bit(self) -> u8 {
        match self {
            Group::BaseTypes => EXIT_BASETYPES,
            Group::Structs => EXIT_STRUCTS,
            Group::Containers => EXIT_CONTAINERS,
            Group::Exceptions => EXIT_EXCEPTIONS,
        }
    }

    /// The group's name as a failure line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Group::BaseTypes => "basetypes",
            Group::Structs => "structs",
            Group::Containers => "containers",
            Group::Exceptions => "exceptions",
        }
    }
}

/// One check that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The group whose bit it sets.
    pub group: Group,
    /// The method called.
    pub method: &'static str,
    /// What was sent, shortened.
    pub check: String,
    /// What went wrong: the wrong reply, or the error.
    pub message: String,
    /// The call failed with a timeout (sets [`EXIT_TIMEOUT`] too).
    pub timed_out: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FAILED [{}] {}: {}",
            self.group.name(),
            self.check,
            self.message
        )
    }
}

/// Checks made and failed for one method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MethodTally {
    /// Checks that called the method.
    pub checks: u32,
    /// Of those, the ones that failed.
    pub failed: u32,
}

/// Everything the suite found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every failed check, in the order they were made.
    pub failures: Vec<Failure>,
    /// Checks per method called, by method name.
    pub methods: BTreeMap<&'static str, MethodTally>,
    /// Why the suite could not run (or finish) a loop, if it could not:
    /// every group not run then counts as failed, as upstream asks.
    pub aborted: Vec<String>,
    /// `UNKNOWN` lines: non-idempotent calls (`testOneway`) whose send
    /// failed, so the server may or may not have run them; not failures.
    pub unknown: Vec<String>,
    /// Connections rebuilt after a transport error, over every loop.
    pub reconnects: u64,
}

impl Report {
    /// The exit code: the bits of every group with a failed check, plus
    /// [`EXIT_TIMEOUT`] when a call timed out and [`EXIT_UNKNOWN`] with
    /// every group bit when a loop could not run. 0 when everything passed.
    pub fn exit_code(&self) -> u8 {
        let mut code = 0;
        for failure in &self.failures {
            code |= failure.group.bit();
            if failure.timed_out {
                code |= EXIT_TIMEOUT;
            }
        }
        if !self.aborted.is_empty() {
            code |= EXIT_UNKNOWN;
            for group in Group::ALL {
                code |= group.bit();
            }
        }
        code
    }

    /// True when no check failed and nothing aborted.
    pub fn passed(&self) -> bool {
        self.exit_code() == 0
    }

    /// Checks made and failed so far, over every method.
    pub fn totals(&self) -> (u32, u32) {
        self.methods
            .values()
            .fold((0, 0), |(checks, failed), tally| {
                (checks + tally.checks, failed + tally.failed)
            })
    }

    pub(crate) fn record(&mut self, method: &'static str, failure: Option<Failure>) {
        let tally = self.methods.entry(method).or_default();
        tally.checks += 1;
        if let Some(failure) = failure {
            tally.failed += 1;
            self.failures.push(failure);
        }
    }
}
