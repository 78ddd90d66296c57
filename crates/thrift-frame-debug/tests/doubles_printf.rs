//! Doubles against glibc's own `%.17g`, which is what C++ TDebugProtocol's
//! `to_string(double)` (an ostream with precision 17) prints: many random
//! bit patterns, and the values around powers of ten and rounding ties.

use std::ffi::CStr;

use thrift::protocol::TOutputProtocol;
use thrift_frame_debug::DebugOutputProtocol;

fn printf_17g(value: f64) -> String {
    let mut buf = [0u8; 64];
    // SAFETY: the buffer is 64 bytes and snprintf is told so; "%.17g" takes
    // one double, which is what is passed.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.17g".as_ptr(), value) };
    assert!(n > 0 && (n as usize) < buf.len());
    CStr::from_bytes_until_nul(&buf)
        .expect("nul")
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn debug_text(value: f64) -> String {
    let mut p = DebugOutputProtocol::new(Vec::new());
    p.write_double(value).expect("write");
    String::from_utf8(p.into_inner()).expect("utf-8")
}

/// xorshift64*: deterministic, no dependency.
struct Bits(u64);
impl Bits {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_doubles_match_printf() {
    let mut bits = Bits(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200_000 {
        let value = f64::from_bits(bits.next());
        if value.is_nan() {
            continue; // glibc prints NaN payloads' sign; covered by the vectors
        }
        assert_eq!(
            debug_text(value),
            printf_17g(value),
            "{:#x}",
            value.to_bits()
        );
    }
}

#[test]
fn boundaries_and_ties_match_printf() {
    let mut values = Vec::new();
    for e in -320..=308 {
        let p = 10f64.powi(e);
        values.extend([p, p.next_up(), p.next_down(), -p, 9.5 * p, 0.5 * p]);
    }
    // m * 2^-k whose exact decimal has 18 significant digits, ending in 5:
    // halfway between two 17-digit decimals.
    for m in (10_001..10_401).step_by(2) {
        values.push(f64::from(m) * 2f64.powi(-20));
    }
    for m in (1_000_001u32..1_000_201).step_by(2) {
        values.push(f64::from(m) * 2f64.powi(-14));
    }
    for value in values {
        assert_eq!(debug_text(value), printf_17g(value), "{value:e}");
    }
}
