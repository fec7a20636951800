//! Throughput of `read_roster` on a generated 1,000,000-row CSV (UTF-8 and GB18030).
//!
//! Run: `cargo run --release --example roster_bench [rows]`

use std::io::Cursor;
use std::time::Instant;

use minyi::roster::{Limits, read_roster};

fn main() {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut text = String::from("姓名,身份证号,联系电话,服务事项,服务日期\n");
    for i in 0..rows {
        // Every 10th number spelled with dashes, every 100th a duplicate, every 1000th invalid.
        let phone = match i {
            i if i % 1000 == 999 => "1380013800".to_owned(),
            i if i % 100 == 50 => format!("138{:08}", i - 1),
            i if i % 10 == 3 => format!("138-{:04}-{:04}", i / 10_000, i % 10_000),
            i => format!("138{i:08}"),
        };
        text.push_str(&format!(
            "张三{i},43052719900101{:04},{phone},低保走访,2026-03-01\n",
            i % 10_000
        ));
    }
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let limits = Limits { max_rows: rows + 1 };
    for (name, bytes) in [("utf-8", text.as_bytes()), ("gb18030", &gbk[..])] {
        let start = Instant::now();
        let mut accepted = 0u64;
        let result = read_roster(Cursor::new(bytes), &limits, &mut |_row| {
            accepted += 1;
            Ok(())
        });
        let secs = start.elapsed().as_secs_f64();
        match result {
            Ok(r) => println!(
                "{name}: {} rows ({} MB) in {secs:.3} s = {:.0} rows/s; accepted {} invalid {} duplicates {}",
                r.rows_read,
                bytes.len() / 1_000_000,
                r.rows_read as f64 / secs,
                r.accepted,
                r.invalid,
                r.duplicates
            ),
            Err(e) => println!("{name}: error {e}"),
        }
    }
}
