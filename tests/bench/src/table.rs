//! The results table: one row per scenario, as aligned text or Markdown.

use std::time::Duration;

use crate::scenarios::{Measured, thousands};

const HEADERS: [&str; 14] = [
    "scenario",
    "Graph requests (bound)",
    "token requests",
    "store reads",
    "writes",
    "keys",
    "written",
    "largest value",
    "invocations",
    "longest / p50",
    "engine heap peak",
    "wall",
    "floor (pages)",
    "targets (issue 13)",
];

/// The cells of `row`, in [`HEADERS`] order.
fn cells(row: &Measured) -> Vec<String> {
    let c = &row.cost;
    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let wall = match &c.stopped {
        Some(why) => format!("{} ({why})", secs(c.wall)),
        None => secs(c.wall),
    };
    let floor = match (row.floor, row.ratio()) {
        (Some(floor), Some(ratio)) => {
            format!(
                "{} ({}), wall {ratio:.2}×",
                secs(floor.wall),
                thousands(floor.pages)
            )
        }
        _ => "—".to_owned(),
    };
    let checks = row.checks();
    let targets = if checks.is_empty() {
        "—".to_owned()
    } else {
        checks
            .iter()
            .map(|(target, value, met)| {
                format!("{target}: {value} {}", if *met { "✓" } else { "✗" })
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    vec![
        row.label.clone(),
        format!("{} ({})", thousands(c.graph_requests), thousands(row.bound)),
        c.token_requests.to_string(),
        thousands(c.reads),
        thousands(c.writes),
        thousands(c.keys as u64),
        kib(c.bytes_written as usize),
        kib(c.largest_value),
        c.invocations.len().to_string(),
        format!(
            "{} / {}",
            secs(row.longest_invocation()),
            secs(row.median_invocation())
        ),
        format!("{:.1} MiB", c.heap_peak as f64 / f64::from(1 << 20)),
        wall,
        floor,
        targets,
    ]
}

fn kib(bytes: usize) -> String {
    format!("{} KiB", thousands((bytes / 1024) as u64))
}

/// A Markdown table.
pub fn markdown(rows: &[Measured]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(HEADERS.iter().map(|h| (*h).to_owned()).collect());
    out += &line(HEADERS.iter().map(|_| "---".to_owned()).collect());
    for row in rows {
        out += &line(cells(row));
    }
    out
}

/// A text table, columns padded to their widest cell.
pub fn text(rows: &[Measured]) -> String {
    let mut all = vec![HEADERS.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    all.extend(rows.iter().map(cells));
    let widths: Vec<usize> = (0..HEADERS.len())
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    all.iter()
        .map(|row| {
            let padded: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        })
        .collect()
}
