//! Lengths announced by a peer are checked before memory is allocated for
//! them: a 2 GiB frame header or a 1 GiB string length costs the server almost
//! nothing. A counting global allocator watches the whole test process (the
//! server runs in it), so this file holds a single test.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{ensure, Result};
use support::{assert_closed_by_server, send_raw, TestServer};
use thrift_frame_server::{Protocol, ServerConfig, Transport};
use thrift_frame_wire::WireConfig;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes allocated above the level at the start, while `f` runs.
fn peak_growth(f: impl FnOnce() -> Result<()>) -> Result<usize> {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f()?;
    Ok(PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

const MIB: usize = 1024 * 1024;

#[test]
fn claimed_lengths_do_not_drive_allocation() -> Result<()> {
    let server = |transport| {
        TestServer::start(ServerConfig {
            wire: WireConfig {
                protocol: Protocol::Compact,
                transport,
                ..WireConfig::default()
            },
            ..ServerConfig::default()
        })
    };

    // Control: a real 1 MiB ping does show up, so the counter can see a
    // payload-sized allocation when one happens.
    let buffered = server(Transport::Buffered)?;
    let legit = peak_growth(|| buffered.assert_serves(&"a".repeat(MIB)))?;
    ensure!(legit >= MIB, "a 1 MiB call allocated only {legit} bytes?");

    // A frame header claiming 2 GiB (the default frame limit is 16 MiB).
    let framed = server(Transport::Framed)?;
    let frame = peak_growth(|| {
        let mut bytes = 0x7fff_ffffu32.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0x82, 0x21, 0x01, 0x04]);
        assert_closed_by_server(send_raw(framed.addr, &bytes)?, Duration::from_secs(10))
    })?;

    // A compact `ping` whose string claims 1 GiB (varint 2^30).
    let string = peak_growth(|| {
        let mut bytes = vec![0x82, 0x21, 0x01, 0x04, b'p', b'i', b'n', b'g', 0x18];
        bytes.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x04, b'x', b'x']);
        assert_closed_by_server(send_raw(buffered.addr, &bytes)?, Duration::from_secs(10))
    })?;

    buffered.stop()?;
    framed.stop()?;
    // Connection buffers (64 KiB each way) and bookkeeping, nothing near the claims.
    for (case, grew) in [("2 GiB frame header", frame), ("1 GiB string", string)] {
        ensure!(grew < MIB, "{case}: the server allocated {grew} bytes");
    }
    Ok(())
}
