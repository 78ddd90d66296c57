//! The client test suite: every `ThriftTest` method (and, multiplexed,
//! `SecondService`), each reply checked for equality, edge values
//! included. A failed check is recorded, never fatal: the suite always runs
//! to its end, so one bad method costs its own group's bit only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::time::{Duration, Instant};

use thrift::OrderedFloat;
use thrift_frame_client::{ClientConfig, ClientError, ReconnectingClient};

use crate::client::{
    idempotency, second_service_client, thrift_test_client, ReconnectingSecondService,
    ReconnectingThriftTest, ThriftTestClient,
};
use crate::handler::{
    insanity_answer, map_map_answer, multi_answer, multi_xception, multi_xception2,
    second_test_string_answer, xception_for,
};
use crate::report::{Failure, Group, Report};
use crate::thrift_test::{
    Insanity, Numberz, TSecondServiceSyncClient, TThriftTestSyncClient, Xception, Xception2,
    Xtruct, Xtruct2,
};

/// How long `testOneway(1)` may take to return: it must not wait for the
/// server's one-second sleep (upstream allows 200 ms; a loaded 2-core
/// machine gets more).
pub const ONEWAY_MAX_RETURN: Duration = Duration::from_millis(500);

/// Longest rendering of a sent value in a failure line.
const MAX_SHOWN: usize = 160;

/// What to run: against which server, how often.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// The server and wire. Its `call_timeout` must exceed one second (the
    /// call after `testOneway(1)` waits for the server's sleep).
    pub client: ClientConfig,
    /// The server is multiplexed: calls go to `ThriftTest:`, and the
    /// `SecondService` checks run too.
    pub multiplexed: bool,
    /// Times to run the whole suite, each on a fresh connection.
    pub loops: u32,
}

impl SuiteConfig {
    /// One loop against `client`, not multiplexed.
    pub fn new(client: ClientConfig) -> Self {
        SuiteConfig {
            client,
            multiplexed: false,
            loops: 1,
        }
    }
}

/// What one loop of the suite did, as the `loop <n>: ...` line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopSummary {
    /// The loop's number, from 1.
    pub number: u32,
    /// Checks made in this loop.
    pub checks: u32,
    /// Of those, the ones that failed.
    pub failed: u32,
    /// Connections rebuilt after a transport error since the suite started
    /// (each loop's fresh connection is not one).
    pub reconnects: u64,
}

/// Runs the suite `config.loops` times and reports every check.
pub fn run(config: &SuiteConfig) -> Report {
    run_reporting_loops(config, |_| {})
}

/// [`run`], calling `on_loop` as each loop ends (the client binary prints
/// the `loop` lines from it while the suite goes on).
pub fn run_reporting_loops(config: &SuiteConfig, mut on_loop: impl FnMut(&LoopSummary)) -> Report {
    let mut report = Report::default();
    for number in 1..=config.loops.max(1) {
        let (checks, failed) = report.totals();
        let outcome = run_once(config, &mut report);
        let (checks_after, failed_after) = report.totals();
        if let Err(why) = outcome {
            report.aborted.push(format!("loop {number}: {why}"));
            break;
        }
        on_loop(&LoopSummary {
            number,
            checks: checks_after - checks,
            failed: failed_after - failed,
            reconnects: report.reconnects,
        });
    }
    report
}

fn run_once(config: &SuiteConfig, report: &mut Report) -> Result<(), String> {
    let mut client =
        thrift_test_client(config.client.clone(), config.multiplexed).map_err(|e| e.to_string())?;
    client.connect().map_err(|e| e.to_string())?;
    let mut checks = Checks {
        client: &mut client,
        report,
    };
    checks.base_types();
    checks.structs();
    checks.containers();
    checks.exceptions();
    checks.oneway();
    // One connection at a time: a `simple` server serves the next
    // connection only once this one is closed.
    client.disconnect();
    report.reconnects += client.stats().reconnects;
    if config.multiplexed {
        let mut second = second_service_client(config.client.clone()).map_err(|e| e.to_string())?;
        second_service(&mut second, report);
        second.disconnect();
        report.reconnects += second.stats().reconnects;
    }
    Ok(())
}

/// Whether a failed call failed by timing out.
fn timed_out(error: &ClientError) -> bool {
    matches!(
        error.thrift_error(),
        Some(thrift::Error::Transport(t)) if t.kind == thrift::TransportErrorKind::TimedOut
    )
}

fn shorten(text: String) -> String {
    if text.len() <= MAX_SHOWN {
        return text;
    }
    let mut end = MAX_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// One call, checked by `judge`; the outcome goes into `report`.
fn check<G, T>(
    client: &mut ReconnectingClient<G>,
    report: &mut Report,
    group: Group,
    method: &'static str,
    shown: String,
    op: impl FnMut(&mut G) -> thrift::Result<T>,
    judge: impl FnOnce(Result<T, ClientError>) -> Result<(), (String, bool)>,
) {
    let result = client.call(method, idempotency(method), op);
    record(report, group, method, shown, judge(result));
}

/// Records a judged call: `Err((why, timed_out))` is a failed check.
fn record(
    report: &mut Report,
    group: Group,
    method: &'static str,
    shown: String,
    verdict: Result<(), (String, bool)>,
) {
    let failure = verdict.err().map(|(message, timed_out)| Failure {
        group,
        method,
        check: shorten(shown),
        message,
        timed_out,
    });
    report.record(method, failure);
}

/// A judge for calls that must return a value equal to `expected` by `eq`.
fn expect_value<T: Debug>(
    expected: T,
    eq: impl FnOnce(&T, &T) -> bool,
) -> impl FnOnce(Result<T, ClientError>) -> Result<(), (String, bool)> {
    move |result| match result {
        Ok(got) if eq(&got, &expected) => Ok(()),
        Ok(got) => Err((
            format!(
                "expected {}, got {}",
                shorten(format!("{expected:?}")),
                shorten(format!("{got:?}"))
            ),
            false,
        )),
        Err(e) => Err((
            format!(
                "{}, got error: {e}",
                shorten(format!("expected {expected:?}"))
            ),
            timed_out(&e),
        )),
    }
}

struct Checks<'a> {
    client: &'a mut ReconnectingThriftTest,
    report: &'a mut Report,
}

impl Checks<'_> {
    /// Sends `value` through `op` and expects it back unchanged.
    fn echo<T: PartialEq + Debug + Clone>(
        &mut self,
        group: Group,
        method: &'static str,
        value: T,
        op: fn(&mut ThriftTestClient, T) -> thrift::Result<T>,
    ) {
        self.echo_by(group, method, value, op, |a, b| a == b);
    }

    fn echo_by<T: Debug + Clone>(
        &mut self,
        group: Group,
        method: &'static str,
        value: T,
        op: fn(&mut ThriftTestClient, T) -> thrift::Result<T>,
        eq: fn(&T, &T) -> bool,
    ) {
        let shown = format!("{method}({value:?})");
        let sent = value.clone();
        check(
            self.client,
            self.report,
            group,
            method,
            shown,
            move |c| op(c, sent.clone()),
            expect_value(value, eq),
        );
    }

    fn base_types(&mut self) {
        use Group::BaseTypes as B;
        check(
            self.client,
            self.report,
            B,
            "testVoid",
            "testVoid()".into(),
            |c| c.test_void(),
            expect_value((), |_, _| true),
        );
        for s in [
            "Test".to_owned(),
            String::new(),
            "Iñtërnâtiônàlizætiøn: ☃ 日本語 Ελληνικά русский עברית 🦀".to_owned(),
            "with \u{0} nul, \t tab and \n newline".to_owned(),
            "x".repeat(64 * 1024),
        ] {
            self.echo(B, "testString", s, |c, v| c.test_string(v));
        }
        for b in [true, false] {
            self.echo(B, "testBool", b, |c, v| c.test_bool(v));
        }
        for b in [1, 0, -1, i8::MIN, i8::MAX] {
            self.echo(B, "testByte", b, |c, v| c.test_byte(v));
        }
        for i in [-1, 0, 1, i32::MIN, i32::MAX] {
            self.echo(B, "testI32", i, |c, v| c.test_i32(v));
        }
        for i in [
            -34_359_738_368,
            0,
            (1 << 53) + 1,
            -((1 << 53) + 1),
            i64::MIN,
            i64::MAX,
        ] {
            self.echo(B, "testI64", i, |c, v| c.test_i64(v));
        }
        for d in [
            -5.2098523,
            0.0,
            -0.0,
            1.0 / 3.0,
            5e-324,
            f64::MIN_POSITIVE,
            1e-300,
            -1e300,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            // Bit for bit: -0.0 equals 0.0 numerically, not on the wire.
            self.echo_by(
                B,
                "testDouble",
                OrderedFloat(d),
                |c, v| c.test_double(v),
                |a, b| a.0.to_bits() == b.0.to_bits(),
            );
        }
        let every_byte: Vec<u8> = (0..=255).collect();
        let large: Vec<u8> = (0..256 * 1024).map(|i| (i * 7 % 251) as u8).collect();
        for bytes in [every_byte, Vec::new(), large] {
            self.echo(B, "testBinary", bytes, |c, v| c.test_binary(v));
        }
    }

    fn structs(&mut self) {
        use Group::Structs as S;
        let zero = xtruct("Zero", 1, -3, -5);
        let edges = xtruct("", i8::MIN, i32::MIN, (1 << 53) + 1);
        let unicode = xtruct("Ünïcödé 🦀", i8::MAX, i32::MAX, i64::MIN);
        for x in [zero.clone(), edges.clone(), unicode] {
            self.echo(S, "testStruct", x, |c, v| c.test_struct(v));
        }
        for n in [
            Xtruct2 {
                byte_thing: Some(1),
                struct_thing: Some(zero),
                i32_thing: Some(5),
            },
            Xtruct2 {
                byte_thing: Some(-1),
                struct_thing: Some(edges),
                i32_thing: Some(i32::MIN),
            },
        ] {
            self.echo(S, "testNest", n, |c, v| c.test_nest(v));
        }
        for e in Numberz::ENUM_VALUES.iter().copied() {
            self.echo(S, "testEnum", e, |c, v| c.test_enum(v));
        }
        for t in [309_858_235_082_523, -1, 0, i64::MIN, i64::MAX] {
            self.echo(S, "testTypedef", t, |c, v| c.test_typedef(v));
        }
        self.insanity();
        self.multi();
    }

    fn insanity(&mut self) {
        let argument = Insanity {
            user_map: Some(BTreeMap::from([(Numberz::FIVE, 5), (Numberz::EIGHT, 8)])),
            xtructs: Some(vec![xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)]),
        };
        let expected = normalize_insanity_answer(insanity_answer(&argument));
        let sent = argument.clone();
        check(
            self.client,
            self.report,
            Group::Structs,
            "testInsanity",
            format!("testInsanity({argument:?})"),
            move |c| c.test_insanity(sent.clone()).map(normalize_insanity_answer),
            expect_value(expected, |a, b| a == b),
        );
    }

    fn multi(&mut self) {
        let cases: [MultiArgs; 2] = [
            (
                9,
                11,
                12,
                BTreeMap::from([(1, "2".to_owned()), (2, "3".to_owned())]),
                Numberz::FIVE,
                13,
            ),
            (
                i8::MIN,
                i32::MIN,
                i64::MAX,
                BTreeMap::new(),
                Numberz::EIGHT,
                -1,
            ),
        ];
        for (a0, a1, a2, a3, a4, a5) in cases {
            let shown = format!("testMulti({a0}, {a1}, {a2}, {a3:?}, {a4:?}, {a5})");
            check(
                self.client,
                self.report,
                Group::Structs,
                "testMulti",
                shown,
                |c| c.test_multi(a0, a1, a2, a3.clone(), a4, a5),
                expect_value(multi_answer(a0, a1, a2), |a, b| a == b),
            );
        }
    }

    fn containers(&mut self) {
        use Group::Containers as C;
        for m in [
            (0..5).map(|i| (i, i - 10)).collect(),
            BTreeMap::new(),
            BTreeMap::from([(i32::MIN, i32::MAX), (-1, 0), (i32::MAX, i32::MIN)]),
        ] {
            self.echo(C, "testMap", m, |c, v| c.test_map(v));
        }
        let strings = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        for m in [
            strings(&[("a", "2"), ("b", "blah"), ("some", "thing")]),
            BTreeMap::new(),
            strings(&[
                ("", ""),
                ("日本", "🦀"),
                ("key with spaces", "nul \u{0} inside"),
            ]),
        ] {
            self.echo(C, "testStringMap", m, |c, v| c.test_string_map(v));
        }
        for s in [
            (-2..=2).collect(),
            BTreeSet::new(),
            BTreeSet::from([i32::MIN, i32::MAX]),
        ] {
            self.echo(C, "testSet", s, |c, v| c.test_set(v));
        }
        for l in [
            (-2..=2).collect(),
            Vec::new(),
            vec![3, 3, 1, -7, 3, i32::MIN],
        ] {
            self.echo(C, "testList", l, |c, v| c.test_list(v));
        }
        for hello in [1, -1] {
            check(
                self.client,
                self.report,
                C,
                "testMapMap",
                format!("testMapMap({hello})"),
                move |c| c.test_map_map(hello),
                expect_value(map_map_answer(), |a, b| a == b),
            );
        }
    }

    fn exceptions(&mut self) {
        use Group::Exceptions as E;
        check(
            self.client,
            self.report,
            E,
            "testException",
            "testException(\"Xception\")".into(),
            |c| c.test_exception("Xception".into()),
            expect_exception(xception_for("Xception")),
        );
        check(
            self.client,
            self.report,
            E,
            "testException",
            "testException(\"TException\")".into(),
            |c| c.test_exception("TException".into()),
            |result: Result<(), ClientError>| match result {
                Err(ClientError::Application {
                    source: thrift::Error::Application(_),
                    ..
                }) => Ok(()),
                Err(e) => Err((
                    format!("expected a TApplicationException, got: {e}"),
                    timed_out(&e),
                )),
                Ok(()) => Err((
                    "expected a TApplicationException, got a normal return".into(),
                    false,
                )),
            },
        );
        check(
            self.client,
            self.report,
            E,
            "testException",
            "testException(\"success\")".into(),
            |c| c.test_exception("success".into()),
            expect_value((), |_, _| true),
        );
        check(
            self.client,
            self.report,
            E,
            "testMultiException",
            "testMultiException(\"Xception\", \"test 1\")".into(),
            |c| c.test_multi_exception("Xception".into(), "test 1".into()),
            expect_exception(multi_xception()),
        );
        check(
            self.client,
            self.report,
            E,
            "testMultiException",
            "testMultiException(\"Xception2\", \"test 2\")".into(),
            |c| c.test_multi_exception("Xception2".into(), "test 2".into()),
            expect_exception2(multi_xception2()),
        );
        check(
            self.client,
            self.report,
            E,
            "testMultiException",
            "testMultiException(\"success\", \"test 3\")".into(),
            |c| c.test_multi_exception("success".into(), "test 3".into()),
            // Peers whose fields are never absent also send byte_thing etc.
            // as zero: only string_thing is specified.
            |result: Result<Xtruct, ClientError>| match result {
                Ok(x) if x.string_thing.as_deref() == Some("test 3") => Ok(()),
                Ok(x) => Err((
                    format!("expected string_thing \"test 3\", got {x:?}"),
                    false,
                )),
                Err(e) => Err((
                    format!("expected string_thing \"test 3\", got error: {e}"),
                    timed_out(&e),
                )),
            },
        );
        // Exceptions leave the connection in step.
        self.echo(E, "testI32", 7, |c, v| c.test_i32(v));
    }

    fn oneway(&mut self) {
        let started = Instant::now();
        let reconnects_before = self.client.stats().reconnects;
        let result = self
            .client
            .call("testOneway", idempotency("testOneway"), |c| {
                c.test_oneway(1)
            });
        // A call that had to reconnect first cannot be judged by its time.
        let reconnected = self.client.stats().reconnects != reconnects_before;
        let elapsed = started.elapsed();
        let verdict = match result {
            // Never retried: the server may or may not have run it.
            Err(e @ ClientError::OutcomeUnknown { .. }) => {
                self.report
                    .unknown
                    .push(format!("UNKNOWN [basetypes] testOneway(1): {e}"));
                None
            }
            Ok(()) if reconnected || elapsed <= ONEWAY_MAX_RETURN => Some(Ok(())),
            Ok(()) => Some(Err((
                format!(
                    "returned after {} ms, more than {} ms: did it wait for a reply?",
                    elapsed.as_millis(),
                    ONEWAY_MAX_RETURN.as_millis()
                ),
                false,
            ))),
            Err(e) => Some(Err((format!("got error: {e}"), timed_out(&e)))),
        };
        if let Some(verdict) = verdict {
            let shown = "testOneway(1)".to_string();
            record(self.report, Group::BaseTypes, "testOneway", shown, verdict);
        }
        // The connection is still usable once the server has slept.
        self.echo(Group::BaseTypes, "testI32", -1, |c, v| c.test_i32(v));
    }
}

fn second_service(client: &mut ReconnectingSecondService, report: &mut Report) {
    for s in ["Test".to_owned(), "SecondService: ☃ 日本語 🦀".to_owned()] {
        let sent = s.clone();
        check(
            client,
            report,
            Group::BaseTypes,
            "secondtestString",
            format!("secondtestString({s:?})"),
            move |c| c.secondtest_string(sent.clone()),
            expect_value(second_test_string_answer(&s), |a, b| a == b),
        );
    }
}

/// `testMulti`'s six arguments.
type MultiArgs = (i8, i32, i64, BTreeMap<i16, String>, Numberz, i64);

fn xtruct(s: &str, b: i8, i: i32, l: i64) -> Xtruct {
    Xtruct {
        string_thing: Some(s.to_owned()),
        byte_thing: Some(b),
        i32_thing: Some(i),
        i64_thing: Some(l),
    }
}

/// An empty Insanity may come with its containers absent or present and
/// empty, depending on the server's language: both mean the same.
fn normalize_insanity_answer(
    answer: BTreeMap<i64, BTreeMap<Numberz, Insanity>>,
) -> BTreeMap<i64, BTreeMap<Numberz, Insanity>> {
    answer
        .into_iter()
        .map(|(user, inner)| {
            let inner = inner
                .into_iter()
                .map(|(n, i)| {
                    let i = Insanity {
                        user_map: Some(i.user_map.unwrap_or_default()),
                        xtructs: Some(i.xtructs.unwrap_or_default()),
                    };
                    (n, i)
                })
                .collect();
            (user, inner)
        })
        .collect()
}

/// A judge for calls that must throw exactly `expected` (an `Xception`).
fn expect_exception<T: Debug>(
    expected: Xception,
) -> impl FnOnce(Result<T, ClientError>) -> Result<(), (String, bool)> {
    move |result| match result {
        Err(e) => match e.exception::<Xception>() {
            Some(got) if *got == expected => Ok(()),
            Some(got) => Err((format!("expected {expected:?}, got {got:?}"), false)),
            None => Err((format!("expected {expected:?}, got: {e}"), timed_out(&e))),
        },
        Ok(v) => Err((
            format!("expected {expected:?}, got a normal return {v:?}"),
            false,
        )),
    }
}

/// A judge for calls that must throw `Xception2` with `expected`'s error
/// code and `struct_thing.string_thing` (the only fields specified).
fn expect_exception2<T: Debug>(
    expected: Xception2,
) -> impl FnOnce(Result<T, ClientError>) -> Result<(), (String, bool)> {
    let key = |x: &Xception2| {
        (
            x.error_code,
            x.struct_thing.as_ref().and_then(|s| s.string_thing.clone()),
        )
    };
    move |result| match result {
        Err(e) => match e.exception::<Xception2>() {
            Some(got) if key(got) == key(&expected) => Ok(()),
            Some(got) => Err((format!("expected {expected:?}, got {got:?}"), false)),
            None => Err((format!("expected {expected:?}, got: {e}"), timed_out(&e))),
        },
        Ok(v) => Err((
            format!("expected {expected:?}, got a normal return {v:?}"),
            false,
        )),
    }
}
