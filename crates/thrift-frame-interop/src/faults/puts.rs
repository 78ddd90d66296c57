//! `put_blackhole`'s judgement: the puts the server logged (`put sno=N`,
//! one debug line per `Serv.put`, with env_logger's millisecond UTC
//! timestamp) against the client's JSON lines. The client sends one put per
//! round, sequentially, with `sno` = round, so:
//!
//! - the server's sequence of `sno` must be strictly increasing: a put that
//!   arrives after a newer one was stored was executed out of order;
//! - no put the client reported as failed may arrive after the client
//!   reported it: by then the caller was told the outcome is unknown and
//!   may have moved on (or retried, and stored it twice).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use thrift_frame_harness::Call;

/// What the server log says it received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPut {
    pub sno: i64,
    /// Milliseconds since the epoch, from the log line's timestamp.
    pub at_ms: u64,
}

/// The `put sno=N` lines of a server log, in order.
pub fn received_puts(log: &str) -> Vec<ReceivedPut> {
    log.lines().filter_map(parse_put_line).collect()
}

/// `[2026-12-02T01:40:12.835Z DEBUG thrift_frame_demo::handlers] put sno=5`
fn parse_put_line(line: &str) -> Option<ReceivedPut> {
    let (head, message) = line.strip_prefix('[')?.split_once("] ")?;
    let sno = message.trim().strip_prefix("put sno=")?.parse().ok()?;
    let stamp = head.split_whitespace().next()?;
    Some(ReceivedPut {
        sno,
        at_ms: parse_utc_millis(stamp)?,
    })
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` as milliseconds since the epoch.
fn parse_utc_millis(stamp: &str) -> Option<u64> {
    let stamp = stamp.strip_suffix('Z')?;
    let (date, time) = stamp.split_once('T')?;
    let mut date = date.splitn(3, '-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let (clock, millis) = time.split_once('.').unwrap_or((time, "0"));
    let mut clock = clock.splitn(3, ':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    let millis: i64 = format!("{millis:0<3}").get(..3)?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let total = ((days * 24 + hour) * 60 + minute) * 60 + second;
    u64::try_from(total * 1000 + millis).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

pub fn epoch_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The case's figures and what broke the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PutFigures {
    /// JSON lines of the client (one put each).
    pub sent: usize,
    pub ok: usize,
    /// Reported failed by the client (for most, "outcome unknown").
    pub failed: usize,
    /// `put sno=` lines in the server log.
    pub received: usize,
    /// Failed puts that reached the server after the client reported them.
    pub late: usize,
    /// Received puts whose sno was not above every sno received before.
    pub out_of_order: usize,
    /// Puts the client reported ok that the server did not log (the log
    /// line is missing, or the client is wrong).
    pub ok_not_received: usize,
    /// The first few violations, in words.
    pub violations: Vec<String>,
}

const VIOLATIONS_KEPT: usize = 5;

/// Judges the client's calls (`sno` = `round`) against the server's log.
pub fn judge(calls: &[Call], received: &[ReceivedPut]) -> PutFigures {
    let mut figures = PutFigures {
        sent: calls.len(),
        ok: calls.iter().filter(|call| call.record.ok).count(),
        received: received.len(),
        ..PutFigures::default()
    };
    figures.failed = figures.sent - figures.ok;
    let mut violations = Vec::new();
    let mut highest: Option<&ReceivedPut> = None;
    for put in received {
        match highest {
            Some(before) if put.sno <= before.sno => {
                figures.out_of_order += 1;
                violations.push(format!(
                    "sno {} received {} ms after sno {} (out of order)",
                    put.sno,
                    put.at_ms.saturating_sub(before.at_ms),
                    before.sno
                ));
            }
            _ => highest = Some(put),
        }
    }
    for call in calls.iter().filter(|call| !call.record.ok) {
        let Some(sno) = call
            .record
            .round
            .and_then(|round| i64::try_from(round).ok())
        else {
            continue;
        };
        let reported_ms = epoch_millis(call.wall);
        // Strictly after: the log's timestamp is cut to the millisecond,
        // and the client gave up before the suite read its line.
        for put in received
            .iter()
            .filter(|put| put.sno == sno && put.at_ms > reported_ms)
        {
            figures.late += 1;
            let error = call.record.error.as_deref().unwrap_or("no error given");
            violations.push(format!(
                "sno {sno} received {} ms after the client reported it failed ({})",
                put.at_ms - reported_ms,
                thrift_frame_harness::shorten(error, 120)
            ));
        }
    }
    for call in calls.iter().filter(|call| call.record.ok) {
        let sno = call
            .record
            .round
            .and_then(|round| i64::try_from(round).ok());
        if !received.iter().any(|put| Some(put.sno) == sno) {
            figures.ok_not_received += 1;
        }
    }
    figures.violations = violations.into_iter().take(VIOLATIONS_KEPT).collect();
    figures
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use thrift_frame_harness::CallRecord;

    #[test]
    fn timestamps_and_lines() {
        assert_eq!(parse_utc_millis("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(parse_utc_millis("1970-01-02T00:00:01.5Z"), Some(86_401_500));
        // date -u -d 2026-12-02T01:40:12.835Z +%s%3N
        assert_eq!(
            parse_utc_millis("2026-12-02T01:40:12.835Z"),
            Some(1_796_175_612_835)
        );
        assert_eq!(parse_utc_millis("2026-13-02T01:40:12.835Z"), None);
        assert_eq!(parse_utc_millis("2026-12-02 01:40:12"), None);
        let log = "[2026-12-02T01:40:12.835Z INFO  thrift_frame_server::server] serving Student\n\
                   [2026-12-02T01:40:12.900Z DEBUG thrift_frame_demo::handlers] put sno=5\n\
                   garbage\n";
        assert_eq!(
            received_puts(log),
            vec![ReceivedPut {
                sno: 5,
                at_ms: 1_796_175_612_900
            }]
        );
    }

    fn call(round: u64, ok: bool, wall_ms: u64) -> Call {
        Call {
            record: CallRecord {
                ok,
                error: (!ok).then(|| "put: outcome unknown".to_owned()),
                reconnects: 0,
                round: Some(round),
                size: Some(10),
                latency_ns: Some(1),
                cpu_ns: None,
                request_id: None,
                request_id_echoed: None,
            },
            at: Instant::now(),
            wall: UNIX_EPOCH + Duration::from_millis(wall_ms),
        }
    }

    fn put(sno: i64, at_ms: u64) -> ReceivedPut {
        ReceivedPut { sno, at_ms }
    }

    #[test]
    fn in_order_puts_pass_even_when_a_failed_one_arrived_in_time() {
        let calls = [
            call(1, true, 100),
            call(2, false, 1_200),
            call(3, true, 2_000),
        ];
        // sno 2 reached the server before the client gave up (its reply was lost).
        let received = [put(1, 99), put(2, 150), put(3, 1_990)];
        let figures = judge(&calls, &received);
        assert_eq!((figures.late, figures.out_of_order), (0, 0));
        assert_eq!(
            (figures.ok, figures.failed, figures.ok_not_received),
            (2, 1, 0)
        );
    }

    #[test]
    fn an_abandoned_put_delivered_later_is_caught_twice() {
        let calls = [
            call(1, true, 100),
            call(2, false, 1_200),
            call(3, true, 2_000),
            call(4, true, 2_100),
        ];
        let received = [put(1, 99), put(3, 1_990), put(4, 2_090), put(2, 3_300)];
        let figures = judge(&calls, &received);
        assert_eq!(figures.out_of_order, 1);
        assert_eq!(figures.late, 1);
        assert!(
            figures.violations[0].contains("sno 2 received"),
            "{figures:?}"
        );
    }

    #[test]
    fn a_silent_server_log_is_noticed() {
        let calls = [call(1, true, 100), call(2, true, 200)];
        let figures = judge(&calls, &[]);
        assert_eq!(figures.ok_not_received, 2);
    }
}
