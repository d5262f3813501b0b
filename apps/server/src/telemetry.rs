//! Logging through `tracing`: human-readable or JSON lines on standard output.
//!
//! actix-http logs every request it rejects before our code sees it (a malformed request line, a
//! head too large, a protocol violation) at ERROR, one line each: any client could flood the error
//! log. Those lines are kept out of the log; [`ClientErrors`] counts them and writes at most one
//! WARN line per [`SUMMARY_EVERY`] with the count and the last one's text.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{filter_fn, FilterExt, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// The shortest time between two summaries of rejected requests.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// True for actix-http's per-connection error lines, which clients cause.
fn is_client_error(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && meta.target().starts_with("actix_http::h1")
}

/// Counts actix-http's per-connection errors and summarises them at WARN, rate-limited.
#[derive(Debug)]
pub struct ClientErrors {
    state: Mutex<Summary>,
}

#[derive(Debug)]
struct Summary {
    since: Option<Instant>,
    count: u64,
    last: String,
}

impl ClientErrors {
    /// A counter whose first rejected request is reported at once.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(Summary {
                since: None,
                count: 0,
                last: String::new(),
            }),
        }
    }

    /// Counts one rejected request; returns the summary to write, when one is due.
    fn count(&self, message: String, now: Instant) -> Option<(u64, String)> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.count += 1;
        state.last = message;
        let due = state
            .since
            .is_none_or(|since| now.duration_since(since) >= SUMMARY_EVERY);
        if !due {
            return None;
        }
        state.since = Some(now);
        let count = std::mem::take(&mut state.count);
        Some((count, std::mem::take(&mut state.last)))
    }
}

impl Default for ClientErrors {
    fn default() -> Self {
        Self::new()
    }
}

/// The `message` field of an event.
struct MessageOf(String);

impl Visit for MessageOf {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for ClientErrors {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !is_client_error(event.metadata()) {
            return;
        }
        let mut message = MessageOf(String::new());
        event.record(&mut message);
        if let Some((count, last)) = self.count(message.0, Instant::now()) {
            tracing::warn!(
                rejected = count,
                last = %last,
                "requests rejected by the HTTP layer (malformed, too large or too slow)"
            );
        }
    }
}

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let not_client_errors = filter_fn(|meta| !is_client_error(meta));
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter.and(not_client_errors)))
        // Its own filter tells tracing that it wants nothing below ERROR, so the events the log
        // filter drops are never built.
        .with(
            ClientErrors::new()
                .with_filter(Targets::new().with_target("actix_http::h1", Level::ERROR)),
        )
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_requests_are_summarised_at_most_once_a_period() {
        let counter = ClientErrors::new();
        let t0 = Instant::now();
        assert_eq!(counter.count("a".into(), t0), Some((1, "a".into())));
        for i in 0..1000 {
            assert_eq!(
                counter.count(format!("b{i}"), t0 + Duration::from_secs(1)),
                None
            );
        }
        assert_eq!(
            counter.count("c".into(), t0 + SUMMARY_EVERY),
            Some((1001, "c".into()))
        );
    }
}
