//! The server side: what `ThriftTest` and `SecondService` answer, as the
//! upstream cross test defines it.

use std::collections::{BTreeMap, BTreeSet};
use std::thread;
use std::time::Duration;

use log::debug;
use thrift::OrderedFloat;

use crate::thrift_test::{
    Insanity, Numberz, SecondServiceSyncHandler, ThriftTestSyncHandler, UserId, Xception,
    Xception2, Xtruct, Xtruct2,
};

/// The message of the `TApplicationException` that `testException("TException")`
/// answers with.
pub const TEXCEPTION_MESSAGE: &str = "This is a TException";

/// Longest sleep `testOneway` takes, whatever it is asked for, so a peer
/// cannot park a connection thread for hours.
pub const MAX_ONEWAY_SLEEP: Duration = Duration::from_secs(60);

/// `ThriftTest` with the upstream cross test's server semantics: every
/// method echoes its argument, except
/// - `testMapMap(hello)`: `{-4: {-4:-4, -3:-3, -2:-2, -1:-1}, 4: {1:1, 2:2, 3:3, 4:4}}`;
/// - `testInsanity(arg)`: `{1: {TWO: arg, THREE: arg}, 2: {SIX: <empty Insanity>}}`;
/// - `testMulti(a0, a1, a2, ..)`: `Xtruct{"Hello2", a0, a1, a2}`;
/// - `testException(arg)`: `"Xception"` throws `Xception{1001, arg}`,
///   `"TException"` a `TApplicationException`, anything else returns;
/// - `testMultiException(a0, a1)`: `"Xception"` throws
///   `Xception{1001, "This is an Xception"}`, `"Xception2"` throws
///   `Xception2{2002, Xtruct{string_thing: "This is an Xception2"}}`,
///   anything else returns `Xtruct{string_thing: a1}`;
/// - `testOneway(n)`: sleeps `n` seconds (at most [`MAX_ONEWAY_SLEEP`]),
///   and, being oneway, answers nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct ThriftTestHandler;

/// The answer `testMapMap` gives, whatever it is asked.
pub fn map_map_answer() -> BTreeMap<i32, BTreeMap<i32, i32>> {
    let negative = (-4..=-1).map(|i| (i, i)).collect();
    let positive = (1..=4).map(|i| (i, i)).collect();
    BTreeMap::from([(-4, negative), (4, positive)])
}

/// The "empty Insanity" of `testInsanity`'s answer: both containers present
/// and empty, as the C++, Go and Java servers write it.
pub fn empty_insanity() -> Insanity {
    Insanity {
        user_map: Some(BTreeMap::new()),
        xtructs: Some(Vec::new()),
    }
}

/// The answer `testInsanity(argument)` gives.
pub fn insanity_answer(argument: &Insanity) -> BTreeMap<UserId, BTreeMap<Numberz, Insanity>> {
    let first = BTreeMap::from([
        (Numberz::TWO, argument.clone()),
        (Numberz::THREE, argument.clone()),
    ]);
    let second = BTreeMap::from([(Numberz::SIX, empty_insanity())]);
    BTreeMap::from([(1, first), (2, second)])
}

/// The answer `testMulti` gives for its first three arguments.
pub fn multi_answer(arg0: i8, arg1: i32, arg2: i64) -> Xtruct {
    Xtruct {
        string_thing: Some("Hello2".into()),
        byte_thing: Some(arg0),
        i32_thing: Some(arg1),
        i64_thing: Some(arg2),
    }
}

/// The `Xception` that `testException("Xception")` throws.
pub fn xception_for(arg: &str) -> Xception {
    Xception {
        error_code: Some(1001),
        message: Some(arg.to_owned()),
    }
}

/// The `Xception` that `testMultiException("Xception", _)` throws.
pub fn multi_xception() -> Xception {
    xception_for("This is an Xception")
}

/// The `Xception2` that `testMultiException("Xception2", _)` throws.
pub fn multi_xception2() -> Xception2 {
    Xception2 {
        error_code: Some(2002),
        struct_thing: Some(Xtruct {
            string_thing: Some("This is an Xception2".into()),
            ..Xtruct::default()
        }),
    }
}

impl ThriftTestSyncHandler for ThriftTestHandler {
    fn handle_test_void(&self) -> thrift::Result<()> {
        debug!("testVoid()");
        Ok(())
    }

    fn handle_test_string(&self, thing: String) -> thrift::Result<String> {
        debug!("testString({} bytes)", thing.len());
        Ok(thing)
    }

    fn handle_test_bool(&self, thing: bool) -> thrift::Result<bool> {
        debug!("testBool({thing})");
        Ok(thing)
    }

    fn handle_test_byte(&self, thing: i8) -> thrift::Result<i8> {
        debug!("testByte({thing})");
        Ok(thing)
    }

    fn handle_test_i32(&self, thing: i32) -> thrift::Result<i32> {
        debug!("testI32({thing})");
        Ok(thing)
    }

    fn handle_test_i64(&self, thing: i64) -> thrift::Result<i64> {
        debug!("testI64({thing})");
        Ok(thing)
    }

    fn handle_test_double(&self, thing: OrderedFloat<f64>) -> thrift::Result<OrderedFloat<f64>> {
        debug!("testDouble({thing})");
        Ok(thing)
    }

    fn handle_test_binary(&self, thing: Vec<u8>) -> thrift::Result<Vec<u8>> {
        debug!("testBinary({} bytes)", thing.len());
        Ok(thing)
    }

    fn handle_test_struct(&self, thing: Xtruct) -> thrift::Result<Xtruct> {
        debug!("testStruct({thing:?})");
        Ok(thing)
    }

    fn handle_test_nest(&self, thing: Xtruct2) -> thrift::Result<Xtruct2> {
        debug!("testNest({thing:?})");
        Ok(thing)
    }

    fn handle_test_map(&self, thing: BTreeMap<i32, i32>) -> thrift::Result<BTreeMap<i32, i32>> {
        debug!("testMap({} entries)", thing.len());
        Ok(thing)
    }

    fn handle_test_string_map(
        &self,
        thing: BTreeMap<String, String>,
    ) -> thrift::Result<BTreeMap<String, String>> {
        debug!("testStringMap({} entries)", thing.len());
        Ok(thing)
    }

    fn handle_test_set(&self, thing: BTreeSet<i32>) -> thrift::Result<BTreeSet<i32>> {
        debug!("testSet({} elements)", thing.len());
        Ok(thing)
    }

    fn handle_test_list(&self, thing: Vec<i32>) -> thrift::Result<Vec<i32>> {
        debug!("testList({} elements)", thing.len());
        Ok(thing)
    }

    fn handle_test_enum(&self, thing: Numberz) -> thrift::Result<Numberz> {
        debug!("testEnum({})", thing.0);
        Ok(thing)
    }

    fn handle_test_typedef(&self, thing: UserId) -> thrift::Result<UserId> {
        debug!("testTypedef({thing})");
        Ok(thing)
    }

    fn handle_test_map_map(&self, hello: i32) -> thrift::Result<BTreeMap<i32, BTreeMap<i32, i32>>> {
        debug!("testMapMap({hello})");
        Ok(map_map_answer())
    }

    fn handle_test_insanity(
        &self,
        argument: Insanity,
    ) -> thrift::Result<BTreeMap<UserId, BTreeMap<Numberz, Insanity>>> {
        debug!("testInsanity({argument:?})");
        Ok(insanity_answer(&argument))
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
        debug!(
            "testMulti({arg0}, {arg1}, {arg2}, {} entries, {}, {arg5})",
            arg3.len(),
            arg4.0
        );
        Ok(multi_answer(arg0, arg1, arg2))
    }

    fn handle_test_exception(&self, arg: String) -> thrift::Result<()> {
        debug!("testException({arg:?})");
        match arg.as_str() {
            "Xception" => Err(thrift::Error::User(Box::new(xception_for(&arg)))),
            "TException" => Err(thrift::Error::Application(thrift::ApplicationError::new(
                thrift::ApplicationErrorKind::Unknown,
                TEXCEPTION_MESSAGE,
            ))),
            _ => Ok(()),
        }
    }

    fn handle_test_multi_exception(&self, arg0: String, arg1: String) -> thrift::Result<Xtruct> {
        debug!("testMultiException({arg0:?}, {arg1:?})");
        match arg0.as_str() {
            "Xception" => Err(thrift::Error::User(Box::new(multi_xception()))),
            "Xception2" => Err(thrift::Error::User(Box::new(multi_xception2()))),
            _ => Ok(Xtruct {
                string_thing: Some(arg1),
                ..Xtruct::default()
            }),
        }
    }

    fn handle_test_oneway(&self, seconds_to_sleep: i32) -> thrift::Result<()> {
        let seconds = u64::try_from(seconds_to_sleep).unwrap_or(0);
        let sleep = Duration::from_secs(seconds).min(MAX_ONEWAY_SLEEP);
        debug!(
            "testOneway({seconds_to_sleep}): sleeping {} ms",
            sleep.as_millis()
        );
        thread::sleep(sleep);
        debug!("testOneway({seconds_to_sleep}): done sleeping");
        Ok(())
    }
}

/// `SecondService`: `secondtestString` echoes its argument.
#[derive(Debug, Default, Clone, Copy)]
pub struct SecondServiceHandler;

impl SecondServiceSyncHandler for SecondServiceHandler {
    fn handle_secondtest_string(&self, thing: String) -> thrift::Result<String> {
        debug!("secondtestString({} bytes)", thing.len());
        Ok(second_test_string_answer(&thing))
    }
}

/// `secondtestString`'s answer, as upstream's C++, Go and Python servers
/// give it: `testString("<s>")`.
pub fn second_test_string_answer(s: &str) -> String {
    format!("testString(\"{s}\")")
}
