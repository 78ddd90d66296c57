//! The exit bitmask says which group failed: the suite runs in-process
//! against a server whose handler is wrong in one group.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;

use thrift::OrderedFloat;
use thrift_frame_client::ClientConfig;
use thrift_frame_server::{ServeReport, Server, ServerConfig, ServerError, ShutdownSignal};
use thrift_frame_thrifttest::suite::{self, SuiteConfig};
use thrift_frame_thrifttest::thrift_test::{
    Insanity, Numberz, ThriftTestSyncHandler, UserId, Xtruct, Xtruct2,
};
use thrift_frame_thrifttest::{
    processor, retry_policy, Group, Report, ThriftTestHandler, EXIT_BASETYPES, EXIT_CONTAINERS,
    EXIT_EXCEPTIONS, EXIT_STRUCTS, EXIT_UNKNOWN,
};

/// Which method the handler gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    I32PlusOne,
    DoubleSignLost,
    StructDropsAField,
    MapDropsAnEntry,
    NoXception,
}

/// The upstream semantics, except for `fault`.
struct Faulty {
    fault: Fault,
    good: ThriftTestHandler,
}

impl ThriftTestSyncHandler for Faulty {
    fn handle_test_void(&self) -> thrift::Result<()> {
        self.good.handle_test_void()
    }
    fn handle_test_string(&self, thing: String) -> thrift::Result<String> {
        self.good.handle_test_string(thing)
    }
    fn handle_test_bool(&self, thing: bool) -> thrift::Result<bool> {
        self.good.handle_test_bool(thing)
    }
    fn handle_test_byte(&self, thing: i8) -> thrift::Result<i8> {
        self.good.handle_test_byte(thing)
    }
    fn handle_test_i32(&self, thing: i32) -> thrift::Result<i32> {
        let good = self.good.handle_test_i32(thing)?;
        Ok(match self.fault {
            Fault::I32PlusOne => good.wrapping_add(1),
            _ => good,
        })
    }
    fn handle_test_i64(&self, thing: i64) -> thrift::Result<i64> {
        self.good.handle_test_i64(thing)
    }
    fn handle_test_double(&self, thing: OrderedFloat<f64>) -> thrift::Result<OrderedFloat<f64>> {
        let good = self.good.handle_test_double(thing)?;
        Ok(match self.fault {
            // Only -0.0 changes: the check must compare bits.
            Fault::DoubleSignLost if good.0 == 0.0 => OrderedFloat(0.0),
            _ => good,
        })
    }
    fn handle_test_binary(&self, thing: Vec<u8>) -> thrift::Result<Vec<u8>> {
        self.good.handle_test_binary(thing)
    }
    fn handle_test_struct(&self, thing: Xtruct) -> thrift::Result<Xtruct> {
        let mut good = self.good.handle_test_struct(thing)?;
        if self.fault == Fault::StructDropsAField {
            good.i64_thing = None;
        }
        Ok(good)
    }
    fn handle_test_nest(&self, thing: Xtruct2) -> thrift::Result<Xtruct2> {
        self.good.handle_test_nest(thing)
    }
    fn handle_test_map(&self, thing: BTreeMap<i32, i32>) -> thrift::Result<BTreeMap<i32, i32>> {
        let mut good = self.good.handle_test_map(thing)?;
        if self.fault == Fault::MapDropsAnEntry {
            good.pop_first();
        }
        Ok(good)
    }
    fn handle_test_string_map(
        &self,
        thing: BTreeMap<String, String>,
    ) -> thrift::Result<BTreeMap<String, String>> {
        self.good.handle_test_string_map(thing)
    }
    fn handle_test_set(&self, thing: BTreeSet<i32>) -> thrift::Result<BTreeSet<i32>> {
        self.good.handle_test_set(thing)
    }
    fn handle_test_list(&self, thing: Vec<i32>) -> thrift::Result<Vec<i32>> {
        self.good.handle_test_list(thing)
    }
    fn handle_test_enum(&self, thing: Numberz) -> thrift::Result<Numberz> {
        self.good.handle_test_enum(thing)
    }
    fn handle_test_typedef(&self, thing: UserId) -> thrift::Result<UserId> {
        self.good.handle_test_typedef(thing)
    }
    fn handle_test_map_map(&self, hello: i32) -> thrift::Result<BTreeMap<i32, BTreeMap<i32, i32>>> {
        self.good.handle_test_map_map(hello)
    }
    fn handle_test_insanity(
        &self,
        argument: Insanity,
    ) -> thrift::Result<BTreeMap<UserId, BTreeMap<Numberz, Insanity>>> {
        self.good.handle_test_insanity(argument)
    }
    fn handle_test_multi(
        &self,
        arg0: i8,
        arg1: i32,
        arg2: i64,
        arg3: BTreeMap<i16, String>,
        arg4: Numberz,
        arg5: UserId,
    ) -> thrift::Result<Xtruct> {
        self.good
            .handle_test_multi(arg0, arg1, arg2, arg3, arg4, arg5)
    }
    fn handle_test_exception(&self, arg: String) -> thrift::Result<()> {
        match self.fault {
            Fault::NoXception if arg == "Xception" => Ok(()),
            _ => self.good.handle_test_exception(arg),
        }
    }
    fn handle_test_multi_exception(&self, arg0: String, arg1: String) -> thrift::Result<Xtruct> {
        self.good.handle_test_multi_exception(arg0, arg1)
    }
    fn handle_test_oneway(&self, seconds_to_sleep: i32) -> thrift::Result<()> {
        self.good.handle_test_oneway(seconds_to_sleep)
    }
}

struct InProcess {
    port: u16,
    shutdown: ShutdownSignal,
    serving: JoinHandle<Result<ServeReport, ServerError>>,
}

impl InProcess {
    fn start(fault: Fault) -> anyhow::Result<InProcess> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let handler = Faulty {
            fault,
            good: ThriftTestHandler,
        };
        let server =
            Server::with_processor(listener, ServerConfig::default(), processor(handler, true)?)?;
        let shutdown = ShutdownSignal::new();
        let stop = shutdown.clone();
        let serving = std::thread::spawn(move || server.serve(stop));
        Ok(InProcess {
            port,
            shutdown,
            serving,
        })
    }

    fn run_suite(&self) -> Report {
        let mut client = ClientConfig::new(format!("127.0.0.1:{}", self.port));
        client.retry_policy = retry_policy();
        suite::run(&SuiteConfig {
            multiplexed: true,
            ..SuiteConfig::new(client)
        })
    }

    fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        match self.serving.join() {
            Ok(result) => result.map(|_| ()).map_err(Into::into),
            Err(_) => anyhow::bail!("the server thread panicked"),
        }
    }
}

fn exit_code_with(fault: Fault) -> anyhow::Result<(u8, Report)> {
    let server = InProcess::start(fault)?;
    let report = server.run_suite();
    server.stop()?;
    Ok((report.exit_code(), report))
}

#[test]
fn the_right_handler_passes() -> anyhow::Result<()> {
    let (code, report) = exit_code_with(Fault::None)?;
    assert_eq!(code, 0, "{:#?}", report.failures);
    Ok(())
}

#[test]
fn each_wrong_group_sets_its_bit_and_only_its_bit() -> anyhow::Result<()> {
    for (fault, bit, group) in [
        (Fault::I32PlusOne, EXIT_BASETYPES | EXIT_EXCEPTIONS, None),
        (
            Fault::DoubleSignLost,
            EXIT_BASETYPES,
            Some(Group::BaseTypes),
        ),
        (Fault::StructDropsAField, EXIT_STRUCTS, Some(Group::Structs)),
        (
            Fault::MapDropsAnEntry,
            EXIT_CONTAINERS,
            Some(Group::Containers),
        ),
        (Fault::NoXception, EXIT_EXCEPTIONS, Some(Group::Exceptions)),
    ] {
        let (code, report) = exit_code_with(fault)?;
        assert_eq!(code, bit, "{fault:?}: {:#?}", report.failures);
        assert!(!report.failures.is_empty(), "{fault:?}");
        if let Some(group) = group {
            assert!(
                report.failures.iter().all(|f| f.group == group),
                "{fault:?}: {:#?}",
                report.failures
            );
        }
    }
    Ok(())
}

#[test]
fn no_server_sets_the_unknown_bit() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut client = ClientConfig::new(format!("127.0.0.1:{port}"));
    client.backoff.deadline = Some(Duration::from_millis(100));
    let report = suite::run(&SuiteConfig::new(client));
    assert_eq!(report.exit_code() & EXIT_UNKNOWN, EXIT_UNKNOWN);
    assert!(!report.aborted.is_empty());
}
