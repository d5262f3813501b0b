//! # iam-server: the binary that wires everything
//!
//! - [`config`]: settings in layers (defaults, file, environment).
//! - [`telemetry`]: `tracing` as text or JSON lines.
//! - [`startup`]: [`Application`](startup::Application): builds the store, the token verifier,
//!   the use cases and the HTTP server; binds (port 0 in tests) and reports its port; shuts down
//!   gracefully on SIGINT/SIGTERM.
//! - [`devmode`]: the zero-setup development mode on the embedded store: a generated secret kept
//!   beside the database, a demo user and a ready-to-paste curl line.
//!
//! `main.rs` is the CLI: `serve` (default), `migrate`, `token`.

pub mod config;
pub mod devmode;
pub mod startup;
pub mod telemetry;
