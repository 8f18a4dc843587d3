//! A finished run as a CSV download: its summary (one row per field and
//! count) and its troubleshooting log (one row per event), written with the
//! `csv` crate and guarded against spreadsheet formula injection.

use chrono::SecondsFormat;
use engine::RunSummary;
use engine::ports::Timestamp;
use serde_json::Value;

use crate::error::ApiError;

/// The columns: which part of the run, when, how severe, what, its value.
const HEADER: [&str; 5] = ["section", "time", "level", "name", "value"];

/// Characters that make a spreadsheet read a cell as a formula (OWASP's
/// list: `=`, `+`, `-`, `@`, tab and carriage return).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The CSV file name of run `run` of directory `dir` of `org`.
pub fn file_name(org: &str, dir: &str, run: u64) -> String {
    format!("idp-sync-{org}-{dir}-run-{run}.csv")
}

/// The run's summary and log as CSV (UTF-8, a header row first).
pub fn encode(run: &RunSummary) -> Result<Vec<u8>, ApiError> {
    // Every text cell quoted: a spreadsheet whose locale separates with `;`
    // then keeps `a;=b` in one cell instead of starting a formula at `=b`.
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    out.write_record(HEADER).map_err(csv_failed)?;
    for (name, value) in summary_rows(run)? {
        out.write_record(guarded(["summary", "", "", &name, &value]))
            .map_err(csv_failed)?;
    }
    for event in &run.log {
        let level = cell(&serde_json::to_value(event.level).map_err(json_failed)?);
        out.write_record(guarded([
            "log",
            &time(event.at),
            &level,
            "message",
            &event.message,
        ]))
        .map_err(csv_failed)?;
    }
    out.into_inner()
        .map_err(|e| ApiError::Internal(format!("CSV encoding failed: {e}")))
}

/// `(name, value)` for every field of the summary but its log, the counts
/// flattened into their own rows.
fn summary_rows(run: &RunSummary) -> Result<Vec<(String, String)>, ApiError> {
    let Value::Object(mut fields) = serde_json::to_value(run).map_err(json_failed)? else {
        return Err(ApiError::Internal(
            "a run summary is a JSON object".to_owned(),
        ));
    };
    fields.remove("log");
    let counts = fields.remove("counts");
    let counts = counts.iter().filter_map(Value::as_object).flatten();
    Ok(fields
        .iter()
        .chain(counts)
        .map(|(name, value)| (name.clone(), cell(value)))
        .collect())
}

/// A JSON value as text: lists joined with "; ", a listed group by its
/// display name.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join("; "),
        Value::Object(map) => map
            .get("display_name")
            .map_or_else(|| value.to_string(), cell),
        other => other.to_string(),
    }
}

/// A time as the API writes it: RFC 3339 UTC, fractional seconds only when
/// there are any.
fn time(at: Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Prefixes `'` to a cell a spreadsheet would take for a formula.
fn guard(cell: &str) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn guarded<const N: usize>(cells: [&str; N]) -> [String; N] {
    cells.map(guard)
}

fn csv_failed(e: csv::Error) -> ApiError {
    ApiError::Internal(format!("CSV encoding failed: {e}"))
}

fn json_failed(e: serde_json::Error) -> ApiError {
    ApiError::Internal(format!("run summary encoding failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::ports::from_epoch_millis;
    use engine::{LogEvent, LogLevel, OverLimitGroup, RunCounts, RunResult, Trigger};

    /// A failed run whose texts came from outside: a group named like a
    /// formula, one with a formula after a `;`, and an error that starts
    /// like one.
    fn hostile_run() -> RunSummary {
        RunSummary {
            run_id: 7,
            trigger: Trigger::Scheduled,
            started_at: from_epoch_millis(1_795_654_236_582),
            finished_at: from_epoch_millis(1_795_654_236_683),
            result: RunResult::Failed {
                error: "=1+1, \"quoted\"".to_owned(),
            },
            counts: RunCounts {
                groups_over_limit: vec![
                    OverLimitGroup {
                        id: "g1".to_owned(),
                        display_name: "@SUM(A1:A9)".to_owned(),
                        users: 10_001,
                    },
                    OverLimitGroup {
                        id: "g2".to_owned(),
                        display_name: "a;=b".to_owned(),
                        users: 10_002,
                    },
                ],
                ..RunCounts::default()
            },
            log: vec![LogEvent {
                at: from_epoch_millis(1_795_654_236_600),
                level: LogLevel::Warning,
                message: "-2 pages, then +3".to_owned(),
            }],
        }
    }

    #[test]
    fn a_run_is_one_csv_table_with_every_formula_disarmed() {
        let text = String::from_utf8(encode(&hostile_run()).expect("encodes")).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r#""section","time","level","name","value""#);
        assert!(lines.contains(&r#""summary","","","run_id",7"#), "{text}");
        assert!(
            lines.contains(&r#""summary","","","trigger","scheduled""#),
            "{text}"
        );
        assert!(
            lines.contains(&r#""summary","","","started_at","2026-11-26T00:50:36.582Z""#),
            "{text}"
        );
        assert!(
            lines.contains(&r#""summary","","","error","'=1+1, ""quoted""""#),
            "{text}"
        );
        assert!(
            lines.contains(&r#""summary","","","groups_over_limit","'@SUM(A1:A9); a;=b""#),
            "{text}"
        );
        assert!(
            lines.contains(
                &r#""log","2026-11-26T00:50:36.600Z","warning","message","'-2 pages, then +3""#
            ),
            "{text}"
        );
    }

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_prefixed() {
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("+1"), "'+1");
        assert_eq!(guard("-1"), "'-1");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("run 1 completed"), "run 1 completed");
    }

    #[test]
    fn times_are_rfc_3339_utc() {
        assert_eq!(
            time(from_epoch_millis(1_795_654_236_582)),
            "2026-11-26T00:50:36.582Z"
        );
        assert_eq!(
            time(from_epoch_millis(1_795_654_236_000)),
            "2026-11-26T00:50:36Z"
        );
        let json = serde_json::to_value(from_epoch_millis(1_795_654_236_582)).expect("JSON");
        assert_eq!(json, "2026-11-26T00:50:36.582Z", "the API's own form");
    }
}
