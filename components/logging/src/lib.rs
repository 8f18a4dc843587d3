//! idp-sync's log format, installed by the binaries and the Spin entry
//! points (libraries only emit through the `tracing` facade).
//!
//! Every event is one JSON object on one line of stderr:
//! `{"timestamp":"…","level":"INFO","target":"engine::sync::doc",
//! "message":"…","org":"acme","directory":"d1","run_id":3,"phase":"members"}`.
//! The fields of the spans the event happened in come first, then the
//! event's own, all at the top level, so a log viewer or `jq` filters on
//! them directly (`jq 'select(.org=="acme")'`). Events below `INFO` are
//! not written.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, Once, PoisonError};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Installs the JSON subscriber on stderr as the global default, once per
/// process (a Spin instance, a binary); later calls do nothing.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Fails only if another subscriber was installed first; that one
        // then keeps logging.
        let _ = tracing::subscriber::set_global_default(subscriber(io::stderr));
    });
}

/// The JSON subscriber writing to `writer` (stderr in [`init`], a
/// [`Capture`] in tests).
pub fn subscriber<W>(writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_max_level(Level::INFO)
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .finish()
}

/// Formats an event as one flat JSON object (see the crate docs). The
/// spans' fields are kept by [`JsonFields`] as JSON objects.
struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), timestamp.into());
        let metadata = event.metadata();
        line.insert("level".into(), metadata.level().as_str().into());
        line.insert("target".into(), metadata.target().into());
        for span in ctx.event_scope().into_iter().flat_map(|s| s.from_root()) {
            let extensions = span.extensions();
            let fields = extensions.get::<FormattedFields<JsonFields>>();
            if let Some(Ok(Value::Object(fields))) =
                fields.map(|f| serde_json::from_str::<Value>(f.as_str()))
            {
                line.extend(fields);
            }
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Records an event's fields into the line's JSON object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: impl Into<Value>) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

/// An in-memory log for tests: a [`MakeWriter`] whose lines can be read
/// back.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Every line written so far.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for Capture {
    type Writer = Capture;

    fn make_writer(&'w self) -> Capture {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(log: impl FnOnce()) -> Vec<Value> {
        let capture = Capture::default();
        tracing::subscriber::with_default(subscriber(capture.clone()), log);
        capture
            .lines()
            .iter()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    #[test]
    fn an_event_is_one_flat_json_line_with_its_spans_fields() {
        let lines = captured(|| {
            let span = tracing::info_span!("sync", org = "acme", directory = "d1", run_id = 3);
            let _entered = span.enter();
            tracing::warn!(phase = "members", retries = 2, "Graph throttled the run");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "Graph throttled the run");
        assert_eq!(line["org"], "acme");
        assert_eq!(line["directory"], "d1");
        assert_eq!(line["run_id"], 3);
        assert_eq!(line["phase"], "members");
        assert_eq!(line["retries"], 2);
        assert!(line["timestamp"].as_str().is_some_and(|t| t.len() > 18));
    }

    #[test]
    fn a_field_recorded_on_the_span_later_is_on_the_next_events() {
        let lines = captured(|| {
            let span = tracing::info_span!("sync", org = "acme", run_id = tracing::field::Empty);
            let _entered = span.enter();
            span.record("run_id", 7);
            tracing::info!("run started");
        });
        assert_eq!(lines[0]["run_id"], 7);
        assert_eq!(lines[0]["org"], "acme");
    }

    #[test]
    fn debug_events_are_not_written() {
        assert!(captured(|| tracing::debug!("details")).is_empty());
    }
}
