//! `iam-server`: the iam-user-details service. `serve` (the default) runs it; `migrate` applies
//! migrations and exits; `token` prints an HS256 access token for a user; `facts` records,
//! removes or shows the facts behind a user's figures, as the internal API does.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use iam_domain::UserId;
use iam_server::config::{parse_duration, Settings};
use iam_server::startup::{verification, Application, Purpose, Store};
use iam_server::telemetry;

/// mimalloc instead of the system allocator: see `docs/benchmarks.md`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "iam-server",
    version,
    about = "The user-details service of AISquare Studio.",
    after_help = iam_server::config::settings_help()
)]
struct Cli {
    /// A TOML file of settings (the same names as the environment variables, lower case, without
    /// the IAM_ prefix). Environment variables override it.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Print an access token for a user, signed with the configured HMAC secret (or the
    /// development secret the server made beside its database).
    Token {
        /// The user id to put in the token.
        #[arg(long)]
        user: String,
        /// How long the token is valid: 30s, 15m, 12h, 7d…
        #[arg(long, default_value = "1h", value_parser = ttl)]
        ttl: Duration,
    },
    /// Record, remove or show the facts behind a user's figures (ratings, activity and freeze
    /// days, titles), as the internal API does; prints the user's figures after.
    #[command(subcommand)]
    Facts(Facts),
}

/// What `facts` records, removes or shows. Each write prints the user's figures after it.
#[derive(Subcommand)]
enum Facts {
    /// Set (`--set R`) or remove (`--remove`) a user's rating in a domain.
    Rating {
        /// The user id.
        #[arg(long)]
        user: String,
        /// The domain (for example nlp).
        #[arg(long)]
        domain: String,
        /// The rating.
        #[arg(
            long,
            required_unless_present = "remove",
            conflicts_with = "remove",
            allow_negative_numbers = true
        )]
        set: Option<f64>,
        /// Remove the rating instead.
        #[arg(long)]
        remove: bool,
    },
    /// Record (or `--remove`) a day the user was active.
    Activity {
        /// The user id.
        #[arg(long)]
        user: String,
        /// The day, YYYY-MM-DD (at most tomorrow, UTC).
        #[arg(long)]
        day: chrono::NaiveDate,
        /// Remove the day instead.
        #[arg(long)]
        remove: bool,
    },
    /// Grant (or `--remove`) a streak freeze on a day.
    Freeze {
        /// The user id.
        #[arg(long)]
        user: String,
        /// The day, YYYY-MM-DD (at most tomorrow, UTC).
        #[arg(long)]
        day: chrono::NaiveDate,
        /// Remove the freeze instead.
        #[arg(long)]
        remove: bool,
    },
    /// Unlock (or `--remove`) a title.
    Title {
        /// The user id.
        #[arg(long)]
        user: String,
        /// The title (no comma).
        #[arg(long)]
        title: String,
        /// When it was unlocked, RFC 3339 (now without it).
        #[arg(long, conflicts_with = "remove")]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Remove the title instead.
        #[arg(long)]
        remove: bool,
    },
    /// Print a user's figures.
    Show {
        /// The user id.
        #[arg(long)]
        user: String,
    },
}

impl Facts {
    fn user(&self) -> &str {
        match self {
            Facts::Rating { user, .. }
            | Facts::Activity { user, .. }
            | Facts::Freeze { user, .. }
            | Facts::Title { user, .. }
            | Facts::Show { user } => user,
        }
    }
}

/// Runs a `facts` command through the same use cases as the internal API, and prints the user's
/// figures as JSON.
async fn facts(command: Facts, settings: &Settings) -> anyhow::Result<()> {
    use iam_domain::social::{Rating, RatingDomain, TitleName};
    use iam_ports::FactsService;

    let user = UserId::parse(command.user()).map_err(|e| anyhow::anyhow!("--user: {e}"))?;
    let store = Store::open(settings).await?;
    if settings.migrate_on_start {
        store.migrate().await?;
    }
    let social = store.social(std::sync::Arc::new(iam_ports::SystemClock));
    let outcome = match command {
        Facts::Rating { domain, set, .. } => {
            let domain =
                RatingDomain::parse(domain).map_err(|e| anyhow::anyhow!("--domain: {e}"))?;
            match set {
                Some(rating) => {
                    let rating = Rating::new(rating).map_err(|e| anyhow::anyhow!("--set: {e}"))?;
                    social.rate(&user, &domain, rating).await
                }
                None => social.remove_rating(&user, &domain).await,
            }
        }
        Facts::Activity { day, remove, .. } if remove => social.remove_activity(&user, day).await,
        Facts::Activity { day, .. } => social.record_activity(&user, day).await,
        Facts::Freeze { day, remove, .. } if remove => social.remove_freeze(&user, day).await,
        Facts::Freeze { day, .. } => social.grant_freeze(&user, day).await,
        Facts::Title {
            title, at, remove, ..
        } => {
            let title = TitleName::parse(title).map_err(|e| anyhow::anyhow!("--title: {e}"))?;
            if remove {
                social.remove_title(&user, &title).await
            } else {
                let at = at.map(|at| at.with_timezone(&chrono::Utc));
                social.unlock_title(&user, &title, at).await
            }
        }
        Facts::Show { .. } => Ok(()),
    };
    let shown = match outcome {
        Ok(()) => social.figures(&user).await,
        Err(e) => Err(e),
    };
    store.close().await;
    let figures = shown.map_err(|e| match e {
        iam_ports::FactsError::Invalid { field, error } => anyhow::anyhow!("--{field}: {error}"),
        other => anyhow::Error::from(other),
    })?;
    let json = serde_json::to_string_pretty(&iam_http::dto::UserFigures::new(&user, &figures))?;
    println!("{json}");
    Ok(())
}

fn ttl(text: &str) -> Result<Duration, String> {
    parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "a duration such as 30s, 15m, 12h or 7d".to_owned())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref(), std::env::vars()) {
        Ok(settings) => {
            for name in &settings.unknown {
                eprintln!(
                    "iam-server: warning: {name} is not a setting and is ignored (see --help)"
                );
            }
            settings
        }
        Err(e) => {
            eprintln!("iam-server: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result =
        actix_web::rt::System::new().block_on(run(cli.command.unwrap_or(Command::Serve), settings));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let chain: &(dyn std::error::Error + 'static) = e.as_ref();
            eprintln!("iam-server: {}", iam_http::error::error_chain(chain));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            telemetry::init(&settings.log, settings.log_format);
            let store = Store::open(&settings).await?;
            store.migrate().await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Facts(command) => {
            telemetry::init(&settings.log, settings.log_format);
            facts(command, &settings).await
        }
        Command::Token { user, ttl } => {
            let user = UserId::parse(user).map_err(|e| anyhow::anyhow!("--user: {e}"))?;
            let verification = verification(&settings, Purpose::Token)?;
            let secret = verification.secret.context(
                "tokens for RS, PS and ES algorithms and from a JWKS issuer are signed by their issuer; `token` signs with IAM_JWT_SECRET (HS256, HS384, HS512)",
            )?;
            let token = iam_jwt::issue_hmac(
                &secret,
                settings.jwt_algorithm,
                &user,
                ttl,
                settings.jwt_issuer.as_deref(),
                settings.jwt_audience.as_deref(),
            )?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings.log, settings.log_format);
    let app = Application::build(&settings).await?;
    let address = format!("http://{}:{}", settings.bind.ip(), app.port());
    let storage = if settings.is_sqlite() {
        "embedded SQLite"
    } else {
        "PostgreSQL"
    };
    // Written without `println!`, which would stop the server if its standard output closed.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "iam-user-details listening on {address} ({storage})");
    if let Some(token) = &app.demo_token {
        let _ = writeln!(
            out,
            "Development mode: a secret was made beside the database, and the demo user has details."
        );
        let _ = writeln!(
            out,
            "Try:\n  curl -s -H 'Authorization: Bearer {token}' {address}/api/v1/iam/iamuserdetails/me/"
        );
        let _ = writeln!(out, "API docs: {address}/api/docs/");
    }
    let _ = out.flush();
    drop(out);
    tracing::info!(%address, storage, "serving");
    let handle = app.handle();
    tokio::spawn(async move {
        let signal = stop_signal().await;
        tracing::info!(
            signal,
            "stopping: requests in flight may finish within IAM_SHUTDOWN_GRACE"
        );
        handle.stop(true).await;
    });
    app.run_until_stopped().await.context("server failed")
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM; both stop the server gracefully.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut interrupt), Ok(mut terminate)) => tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            },
            _ => {
                tracing::warn!("cannot listen for signals; stop the server with SIGKILL");
                std::future::pending().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
