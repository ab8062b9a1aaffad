//! Memory bound check: streams NDJSON records through one `Filter` until a byte budget is reached (re-reading
//! the file as often as needed), printing the peak resident set size (`VmHWM`) after every GiB. The peak must
//! stay flat: nothing per record may accumulate.
//!
//!   cargo run --release --example memory -- FILE GIB [KEY=VALUE...]
//!   /usr/bin/time -v target/release/examples/memory all200.ndjson 10 max_alerts=0
//!
//! Not a CI test: 10 GiB take minutes.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::Instant;

use svcshell::{Action, Filter};

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: memory FILE GIB [KEY=VALUE...]");
        std::process::exit(2);
    }
    let gib: u64 = args[1].parse().expect("GIB: a whole number");
    let props: Vec<(String, String)> = args[2..]
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect();
    let filter = Filter::from_properties(&props).expect("configuration");
    let budget = gib << 30;
    let (mut done, mut next_report, mut passes, mut alerts) = (0u64, 1u64 << 30, 0u64, 0u64);
    let start = Instant::now();
    let mut line = Vec::with_capacity(1 << 16);
    'outer: loop {
        passes += 1;
        let mut r = BufReader::with_capacity(1 << 20, File::open(&args[0])?);
        loop {
            line.clear();
            let n = r.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            let rec = line.strip_suffix(b"\n").unwrap_or(&line);
            if let Action::Alert(a) = filter.process(rec).action {
                alerts += 1;
                std::hint::black_box(a);
            }
            done += n as u64;
            if done >= next_report {
                println!(
                    "{:>3} GiB  passes={passes:<3} peak_rss={:>7} KiB  alerts={alerts}  {:.0} s",
                    next_report >> 30,
                    vm_hwm_kib(),
                    start.elapsed().as_secs_f64()
                );
                next_report += 1 << 30;
            }
            if done >= budget {
                break 'outer;
            }
        }
    }
    let s = filter.stats();
    println!(
        "done: bytes={done} records={} alerts={} errors={} peak_rss={} KiB",
        s.records,
        s.alerts,
        s.errors,
        vm_hwm_kib()
    );
    Ok(())
}
