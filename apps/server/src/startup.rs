//! Building and running the application: store, verifier, use cases, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_http::error::DispatchError;
use actix_http::{HttpService, Protocol};
use actix_rt::net::TcpStream;
use actix_server::{Server, ServerHandle};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::AppConfig;
use actix_web::middleware::{from_fn, Condition};
use actix_web::App;
use anyhow::Context as _;
use iam_domain::values::{Bio, CatalogueName, NameList, UserType};
use iam_domain::{Patch, UserDetailPatch, UserId};
use iam_http::rejected::Shaped;
use iam_http::{AppState, HttpSettings, Metrics, ServiceTokens};
use iam_jwt::{ClaimRules, JwksCache, JwksSettings, JwtVerifier, StaticKey};
use iam_ports::{
    Clock, CreateError, FigureFacts, Service, Social, SystemClock, TokenVerifier,
    UserDetailsRepository, UserDetailsService, WriteRequest,
};
use iam_postgres::{PgStore, PoolSettings};
use iam_sqlite::SqliteStore;
use secrecy::{ExposeSecret, SecretString};

use crate::config::Settings;
use crate::devmode;

/// The configured store.
#[derive(Debug, Clone)]
pub enum Store {
    /// PostgreSQL.
    Postgres(PgStore),
    /// The embedded SQLite file.
    Sqlite(SqliteStore),
}

impl Store {
    /// Opens the store named by the settings (the SQLite file is created when missing; a
    /// PostgreSQL pool connects lazily, so the server starts while the database is down).
    ///
    /// # Errors
    /// When the URL is invalid or the SQLite file cannot be opened.
    pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
        if settings.is_sqlite() {
            // Reads on the embedded file run on the threads that ask for them: about one reading
            // connection is open per HTTP worker; the pool size bounds how many are kept idle.
            let readers = settings.pool_size;
            // Only the default folder (`./data/`) is made: another URL names a folder the
            // operator chose, and a typo there must not scatter databases.
            if settings.database_url.expose_secret() == crate::config::DEFAULT_DATABASE_URL {
                if let Some(dir) = settings.sqlite_dir().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
            }
            let store = SqliteStore::open(settings.database_url.expose_secret(), readers)
                .await
                .with_context(|| "opening the SQLite database (IAM_DATABASE_URL)".to_owned())?;
            Ok(Store::Sqlite(store))
        } else {
            let pool = PoolSettings {
                max_connections: settings.pool_size,
                ..PoolSettings::default()
            };
            let store = PgStore::connect_lazy(settings.database_url.expose_secret(), &pool)
                .context("IAM_DATABASE_URL is not a valid PostgreSQL URL")?;
            Ok(Store::Postgres(store))
        }
    }

    /// Applies pending migrations.
    ///
    /// # Errors
    /// When the database cannot be reached or a migration fails.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Store::Postgres(s) => s.migrate().await.context("migrating PostgreSQL"),
            Store::Sqlite(s) => s.migrate().await.context("migrating SQLite"),
        }
    }

    /// The repository port.
    pub fn repository(&self) -> Arc<dyn UserDetailsRepository> {
        match self {
            Store::Postgres(s) => Arc::new(s.clone()),
            Store::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// The figure-facts port.
    pub fn facts(&self) -> Arc<dyn FigureFacts> {
        match self {
            Store::Postgres(s) => Arc::new(s.clone()),
            Store::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// The social and platform use cases over this store.
    pub fn social(&self, clock: Arc<dyn Clock>) -> Social {
        Social::new(self.repository(), self.facts(), clock)
    }

    /// Closes the pools.
    pub async fn close(&self) {
        match self {
            Store::Postgres(s) => s.pool().close().await,
            Store::Sqlite(s) => s.close().await,
        }
    }

    fn register_gauges(&self, metrics: &Metrics) {
        let store = self.clone();
        metrics.gauge(
            "db_pool_connections",
            "Database connections by pool and state.",
            move || {
                let pools: Vec<(&str, u32, usize)> = match &store {
                    Store::Postgres(s) => vec![("postgres", s.pool().size(), s.pool().num_idle())],
                    Store::Sqlite(s) => {
                        let [(rs, ri), (ws, wi)] = s.pool_usage();
                        vec![("sqlite_readers", rs, ri), ("sqlite_writer", ws, wi)]
                    }
                };
                pools
                    .into_iter()
                    .flat_map(|(pool, size, idle)| {
                        let idle = idle as f64;
                        let size = f64::from(size);
                        [
                            (format!("pool=\"{pool}\",state=\"idle\""), idle),
                            (
                                format!("pool=\"{pool}\",state=\"in_use\""),
                                (size - idle).max(0.0),
                            ),
                        ]
                    })
                    .collect()
            },
        );
    }
}

/// How tokens are verified, and whether that is the development mode.
pub struct Verification {
    /// The verifier.
    pub verifier: Arc<dyn TokenVerifier>,
    /// The HS256 secret, when there is one (for the `token` command).
    pub secret: Option<SecretString>,
    /// True when the secret was made by the development mode.
    pub development: bool,
}

/// What the verifier is built for: serving makes the development secret when it is missing; the
/// `token` command only reads it, so that it never signs with a secret the server does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `serve`.
    Serve,
    /// `token`.
    Token,
}

/// Builds the token verifier from the settings; on the embedded store with nothing configured,
/// the development secret (kept beside the database file).
///
/// # Errors
/// When PostgreSQL is configured without any verification, the algorithm and the key do not go
/// together, the public key file cannot be read, or the development secret cannot be kept (or,
/// for `token`, has not been made yet).
pub fn verification(settings: &Settings, purpose: Purpose) -> anyhow::Result<Verification> {
    let algorithm = settings.jwt_algorithm;
    let hmac = iam_jwt::is_hmac(algorithm);
    let mut secret = settings.jwt_secret.clone();
    let mut development = false;
    let key = match (&settings.jwt_public_key_file, hmac) {
        (Some(_), true) => anyhow::bail!(
            "IAM_JWT_PUBLIC_KEY_FILE is for RS, PS and ES algorithms; IAM_JWT_ALGORITHM is {algorithm:?}, which verifies with IAM_JWT_SECRET"
        ),
        (Some(path), false) => {
            let pem = std::fs::read(path).with_context(|| {
                format!("reading IAM_JWT_PUBLIC_KEY_FILE {}", path.display())
            })?;
            Some(
                StaticKey::public_pem(algorithm, &pem)
                    .with_context(|| format!("IAM_JWT_PUBLIC_KEY_FILE {}", path.display()))?,
            )
        }
        (None, false) if secret.is_some() => anyhow::bail!(
            "IAM_JWT_ALGORITHM is {algorithm:?}, which verifies with IAM_JWT_PUBLIC_KEY_FILE (or IAM_JWT_JWKS_URL); IAM_JWT_SECRET is for HS256, HS384 and HS512"
        ),
        (None, false) => None,
        (None, true) => {
            if secret.is_none() && settings.jwt_jwks_url.is_none() {
                if !settings.is_sqlite() {
                    anyhow::bail!(
                        "refusing to start on PostgreSQL without token verification: set IAM_JWT_SECRET, IAM_JWT_PUBLIC_KEY_FILE or IAM_JWT_JWKS_URL"
                    );
                }
                let dir = settings.sqlite_dir().unwrap_or_default();
                secret = Some(match purpose {
                    Purpose::Serve => devmode::secret(&dir)
                        .context("keeping the development secret beside the database")?,
                    Purpose::Token => devmode::existing_secret(&dir)?,
                });
                development = true;
            }
            match &secret {
                Some(secret) => Some(StaticKey::secret(algorithm, secret)?),
                None => None,
            }
        }
    };
    if key.is_none() && settings.jwt_jwks_url.is_none() {
        anyhow::bail!(
            "no token verification configured: set IAM_JWT_PUBLIC_KEY_FILE or IAM_JWT_JWKS_URL for {algorithm:?}"
        );
    }
    let jwks = settings.jwt_jwks_url.as_ref().map(|url| {
        Arc::new(JwksCache::new(JwksSettings {
            url: url.clone(),
            min_refresh_interval: settings.jwks_min_refresh,
            timeout: Duration::from_secs(5),
        }))
    });
    let rules = ClaimRules {
        user_claim: settings.jwt_user_claim.clone(),
        token_type_claim: settings.jwt_token_type_claim.clone(),
        issuer: settings.jwt_issuer.clone(),
        audience: settings.jwt_audience.clone(),
        leeway: settings.jwt_leeway,
    };
    let verifier = Arc::new(JwtVerifier::new(key, jwks, rules));
    Ok(Verification {
        verifier,
        secret: secret.filter(|_| hmac),
        development,
    })
}

/// A built application: bound, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    /// A token for the demo user, in the development mode.
    pub demo_token: Option<String>,
}

impl Application {
    /// Opens the store (migrating when asked), builds the verifier and the use cases, and binds
    /// the listener (port 0 picks a free port; see [`Application::port`]).
    ///
    /// # Errors
    /// When the configuration cannot be served: bad storage, no verification on PostgreSQL, or an
    /// address that cannot be bound.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let store = Store::open(settings).await?;
        if settings.migrate_on_start {
            store.migrate().await?;
        }
        let verification = verification(settings, Purpose::Serve)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let service: Arc<dyn UserDetailsService> =
            Arc::new(Service::new(store.repository(), clock.clone()));
        let demo_token = if verification.development {
            Some(prepare_demo(&*service, verification.secret.as_ref()).await?)
        } else {
            None
        };
        let metrics = Arc::new(Metrics::new());
        store.register_gauges(&metrics);
        let social = Arc::new(store.social(clock.clone()));
        let service_tokens = if settings.service_tokens.is_empty() {
            None
        } else {
            let tokens = settings.service_tokens.iter().map(|t| t.expose_secret());
            Some(Arc::new(
                ServiceTokens::new(tokens)
                    .map_err(|e| anyhow::anyhow!("IAM_SERVICE_TOKENS: {e}"))?,
            ))
        };
        let state = AppState {
            service,
            social: social.clone(),
            facts: social,
            service_tokens,
            verifier: verification.verifier,
            clock,
            settings: HttpSettings {
                auth_cookie: settings.auth_cookie.clone(),
                body_limit: settings.body_limit,
                retry_after_secs: 5,
                request_timeout: settings.request_timeout,
                client_timeout: settings.client_timeout,
            },
            metrics,
        };
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("binding {} (IAM_BIND)", settings.bind))?;
        let local = listener.local_addr()?;
        let port = local.port();
        let origins = settings.cors_allowed_origins.clone();
        let client_timeout = settings.client_timeout;
        // The server is assembled as actix-web's `HttpServer` does it, with one difference: each
        // connection's stream is wrapped in `Shaped`, so that what actix-http rejects before any
        // route is answered in the contract's shape (`iam_http::rejected`).
        let builder = actix_server::Server::build();
        // Fires when a graceful stop begins, so that idle keep-alive connections close at once
        // instead of holding the stop until they time out (as actix-web's HttpServer does).
        let stopping = builder.graceful_shutdown_signal();
        let server = builder
            .workers(match settings.workers {
                0 => crate::config::default_workers(),
                n => n,
            })
            .shutdown_timeout(settings.shutdown_grace.as_secs())
            // Signals are the binary's to handle (`main.rs`): actix would stop at once on SIGINT.
            .disable_signals()
            .listen("iam-user-details", listener, move || {
                let app = App::new()
                    .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
                    .wrap(from_fn(iam_http::observe::observe))
                    .configure(iam_http::configure(state.clone()))
                    .into_factory()
                    .map_err(|error| error.error_response());
                let stopping = stopping.clone();
                let http = HttpService::build()
                    .graceful_shutdown_signal(move || {
                        let stopping = stopping.clone();
                        async move { stopping.notified().await }
                    })
                    .client_request_timeout(client_timeout)
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .local_addr(local)
                    .finish(map_config(app, |_| AppConfig::default()));
                fn_service(|io: TcpStream| async move {
                    // Responses are small and whole: send them without waiting (as actix-web).
                    let _ = io.set_nodelay(true);
                    let peer = io.peer_addr().ok();
                    Ok::<_, DispatchError>((Shaped::new(io), Protocol::Http1, peer))
                })
                .and_then(http)
            })?
            .run();
        Ok(Application {
            port,
            server,
            store,
            demo_token,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (gracefully or not).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`Application::handle`] (the binary stops it gracefully on
    /// SIGINT and SIGTERM), lets requests in flight finish within the grace period, then closes
    /// the pool.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.store.close().await;
        tracing::info!("stopped");
        result
    }
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "PUT", "PATCH", "DELETE", "POST"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "if-none-match",
            "prefer",
            "x-request-id",
        ])
        .expose_headers(["etag", "x-request-id", "retry-after"])
        .max_age(600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin).supports_credentials()
        };
    }
    cors
}

/// Gives the demo user details when it has none, and signs a token for it.
async fn prepare_demo(
    service: &dyn UserDetailsService,
    secret: Option<&SecretString>,
) -> anyhow::Result<String> {
    let user = UserId::parse(devmode::DEMO_USER).map_err(|e| anyhow::anyhow!("{e}"))?;
    let names = |names: &[&str]| -> anyhow::Result<NameList> {
        let names: Result<Vec<_>, _> = names.iter().map(|n| CatalogueName::parse(n)).collect();
        NameList::new(names?).map_err(|e| anyhow::anyhow!("{e}"))
    };
    let patch = UserDetailPatch {
        user_type: Some(UserType::parse("developer")?),
        bio: Patch::Value(Bio::parse("I am the demo user of the development mode.")?),
        skills: Some(names(&["Rust", "PostgreSQL"])?),
        focus_area: Patch::Value(names(&["AI"])?),
        ..UserDetailPatch::default()
    };
    match service.create(&user, WriteRequest::replacing(patch)).await {
        Ok(_) | Err(CreateError::AlreadyExists) => {}
        Err(e) => return Err(anyhow::anyhow!("creating the demo user's details: {e}")),
    }
    let secret = secret.context("the development mode has a secret")?;
    iam_jwt::issue_hs256(secret, &user, Duration::from_secs(24 * 3600), None, None)
        .context("signing the demo token")
}
