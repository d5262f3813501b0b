//! Configuration in layers: built-in defaults, then an optional TOML file (`--config PATH`), then
//! environment variables. Every setting is in the README's table. A bad value stops the start with
//! a message naming the setting and what it accepts. Secrets are `SecretString`s: they never reach
//! logs, errors or `--help`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Every setting of the server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `IAM_BIND`: the address to listen on.
    pub bind: SocketAddr,
    /// `IAM_DATABASE_URL`: `postgres://…` or `sqlite:…`; secret, since it may carry a password
    /// (see [`redact_url`] for what may be shown of it).
    pub database_url: SecretString,
    /// `IAM_JWT_SECRET`: the HMAC secret shared with the token issuer (SimpleJWT's
    /// `SIGNING_KEY`, which defaults to Django's `SECRET_KEY`).
    pub jwt_secret: Option<SecretString>,
    /// `IAM_SERVICE_TOKENS`: the secrets the platform's other services present to the internal
    /// API (several, for rotation); none leaves the internal API unmounted.
    pub service_tokens: Vec<SecretString>,
    /// `IAM_JWT_ALGORITHM`: the algorithm the issuer signs with (SimpleJWT's `ALGORITHM`).
    pub jwt_algorithm: jsonwebtoken::Algorithm,
    /// `IAM_JWT_PUBLIC_KEY_FILE`: a PEM public key for RS/PS/ES algorithms (SimpleJWT's
    /// `VERIFYING_KEY`, as a file).
    pub jwt_public_key_file: Option<std::path::PathBuf>,
    /// `IAM_JWT_TOKEN_TYPE_CLAIM`: the claim holding the token type (`TOKEN_TYPE_CLAIM`).
    pub jwt_token_type_claim: String,
    /// `IAM_JWT_JWKS_URL`: where RS256/ES256 keys are published.
    pub jwt_jwks_url: Option<String>,
    /// `IAM_JWT_ISSUER`: the required `iss`.
    pub jwt_issuer: Option<String>,
    /// `IAM_JWT_AUDIENCE`: the required `aud`.
    pub jwt_audience: Option<String>,
    /// `IAM_JWT_USER_CLAIM`: the claim holding the user id.
    pub jwt_user_claim: String,
    /// `IAM_JWT_LEEWAY`: clock skew allowed on `exp` and `nbf`.
    pub jwt_leeway: Duration,
    /// `IAM_JWKS_MIN_REFRESH`: the shortest time between two JWKS fetches.
    pub jwks_min_refresh: Duration,
    /// `IAM_AUTH_COOKIE`: the cookie that may carry the token.
    pub auth_cookie: String,
    /// `IAM_LOG`: the log filter (`info`, `iam_http=debug,warn`, …).
    pub log: String,
    /// `IAM_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `IAM_POOL_SIZE`: the most database connections.
    pub pool_size: u32,
    /// `IAM_BODY_LIMIT`: the largest request body, in bytes.
    pub body_limit: usize,
    /// `IAM_REQUEST_TIMEOUT`: the longest a request may take.
    pub request_timeout: Duration,
    /// `IAM_CLIENT_TIMEOUT`: the longest silence while a client sends a request's head or body.
    pub client_timeout: Duration,
    /// `IAM_SHUTDOWN_GRACE`: how long requests in flight may finish after SIGINT/SIGTERM.
    pub shutdown_grace: Duration,
    /// `IAM_CORS_ALLOWED_ORIGINS`: comma-separated origins allowed to call from a browser.
    pub cors_allowed_origins: Vec<String>,
    /// `IAM_WORKERS`: HTTP worker threads; 0 means two per core (see [`default_workers`]).
    pub workers: usize,
    /// `IAM_MIGRATE_ON_START`: apply migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Environment variables named `IAM_…` that are no setting (a typo, most likely): ignored,
    /// and warned about at start.
    pub unknown: Vec<String>,
}

/// The embedded default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/iam-user-details.db";

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value of the wrong form.
    #[error("{setting}: {accepts}; got {got:?}")]
    Invalid {
        /// The setting as the operator wrote it: the variable, or the file's key and the file.
        setting: String,
        /// What it accepts.
        accepts: &'static str,
        /// What it got (never a secret).
        got: String,
    },
    /// The config file could not be read.
    #[error("config file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Settings that contradict each other.
    #[error("{0}")]
    Conflict(String),
}

/// One setting: its environment variable, its key in the file, its default as shown, and what
/// it is for. `--help` lists them; the README's table says the same.
pub struct Key {
    /// The environment variable.
    pub env: &'static str,
    /// The key in the TOML file.
    pub file: &'static str,
    /// The default, as `--help` shows it.
    pub default: &'static str,
    /// What it is for.
    pub meaning: &'static str,
}

const fn key(
    env: &'static str,
    file: &'static str,
    default: &'static str,
    meaning: &'static str,
) -> Key {
    Key {
        env,
        file,
        default,
        meaning,
    }
}

/// Every setting.
pub const KEYS: [Key; 24] = [
    key("IAM_BIND", "bind", "127.0.0.1:8000", "address to listen on"),
    key(
        "IAM_DATABASE_URL",
        "database_url",
        DEFAULT_DATABASE_URL,
        "postgres://… or sqlite:… (secret)",
    ),
    key(
        "IAM_JWT_SECRET",
        "jwt_secret",
        "(none)",
        "HMAC secret shared with the token issuer (secret)",
    ),
    key(
        "IAM_JWT_ALGORITHM",
        "jwt_algorithm",
        "HS256",
        "the issuer's algorithm: HS/RS/PS 256/384/512, ES256/384",
    ),
    key(
        "IAM_JWT_PUBLIC_KEY_FILE",
        "jwt_public_key_file",
        "(none)",
        "PEM public key for RS/PS/ES",
    ),
    key(
        "IAM_JWT_TOKEN_TYPE_CLAIM",
        "jwt_token_type_claim",
        "token_type",
        "claim holding the token type",
    ),
    key(
        "IAM_JWT_JWKS_URL",
        "jwt_jwks_url",
        "(none)",
        "JWKS URL for RS/PS/ES tokens",
    ),
    key(
        "IAM_SERVICE_TOKENS",
        "service_tokens",
        "(none)",
        "internal API tokens, comma-separated, 32+ characters each; none: no internal API (secret)",
    ),
    key("IAM_JWT_ISSUER", "jwt_issuer", "(none)", "required iss"),
    key("IAM_JWT_AUDIENCE", "jwt_audience", "(none)", "required aud"),
    key(
        "IAM_JWT_USER_CLAIM",
        "jwt_user_claim",
        "user_id",
        "claim holding the user id",
    ),
    key(
        "IAM_JWT_LEEWAY",
        "jwt_leeway",
        "30s",
        "clock skew allowed on exp, nbf, iat",
    ),
    key(
        "IAM_JWKS_MIN_REFRESH",
        "jwks_min_refresh",
        "30s",
        "shortest time between two JWKS fetches",
    ),
    key(
        "IAM_AUTH_COOKIE",
        "auth_cookie",
        "access_token",
        "cookie that may carry the token",
    ),
    key("IAM_LOG", "log", "info", "log filter"),
    key("IAM_LOG_FORMAT", "log_format", "text", "text or json"),
    key(
        "IAM_POOL_SIZE",
        "pool_size",
        "16",
        "most database connections (SQLite: readers, at most 2)",
    ),
    key(
        "IAM_BODY_LIMIT",
        "body_limit",
        "65536",
        "largest request body in bytes",
    ),
    key(
        "IAM_REQUEST_TIMEOUT",
        "request_timeout",
        "30s",
        "longest a request may take (503 after)",
    ),
    key(
        "IAM_CLIENT_TIMEOUT",
        "client_timeout",
        "5s",
        "longest silence while a client sends a head or body (408)",
    ),
    key(
        "IAM_SHUTDOWN_GRACE",
        "shutdown_grace",
        "30s",
        "time for requests in flight after SIGINT/SIGTERM",
    ),
    key(
        "IAM_CORS_ALLOWED_ORIGINS",
        "cors_allowed_origins",
        "(none)",
        "browser origins allowed to call",
    ),
    key(
        "IAM_WORKERS",
        "workers",
        "0",
        "HTTP worker threads; 0 = two per core",
    ),
    key(
        "IAM_MIGRATE_ON_START",
        "migrate_on_start",
        "true",
        "apply migrations when serve starts",
    ),
];

/// Environment variables with the `IAM_` prefix that are not settings of the server: the test
/// command's.
const NOT_SETTINGS: &str = "IAM_TEST_";

/// The settings, one a line, for `--help`.
pub fn settings_help() -> String {
    let mut out = String::from(
        "Settings (environment variables; in a --config file, the key in brackets):\n",
    );
    for k in &KEYS {
        out.push_str(&format!(
            "  {:<26} [{}] default {}\n      {}\n",
            k.env, k.file, k.default, k.meaning
        ));
    }
    out
}

/// Parses `500ms`, `30s`, `5m`, `2h`, `1d`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => return Some(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

/// The raw values, by env var name, after layering, and which came from the file (so that an
/// error names the key as the operator wrote it).
struct Raw {
    values: HashMap<&'static str, String>,
    file: Option<(String, HashMap<&'static str, String>)>,
}

impl Raw {
    fn get(&self, key: &'static str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The setting's name where its value came from: the variable, or the file's key.
    fn name(&self, key: &'static str) -> String {
        match &self.file {
            Some((path, from_file))
                if from_file
                    .get(key)
                    .is_some_and(|v| Some(v) == self.values.get(key)) =>
            {
                let file_key = KEYS.iter().find(|k| k.env == key).map_or(key, |k| k.file);
                format!("{file_key} in {path}")
            }
            _ => key.to_owned(),
        }
    }

    fn parse<T>(
        &self,
        key: &'static str,
        default: T,
        accepts: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => parse(v.trim()).ok_or_else(|| ConfigError::Invalid {
                setting: self.name(key),
                accepts,
                got: if key == "IAM_DATABASE_URL" {
                    redact_url(v)
                } else {
                    v.to_owned()
                },
            }),
        }
    }
}

/// The service tokens: comma-separated secrets of at least [`MIN_SERVICE_TOKEN_LEN`] characters
/// without white space. An error never shows them.
fn service_tokens(raw: &Raw) -> Result<Vec<SecretString>, ConfigError> {
    let Some(value) = raw.get("IAM_SERVICE_TOKENS") else {
        return Ok(Vec::new());
    };
    let tokens: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let usable = |t: &&str| t.len() >= MIN_SERVICE_TOKEN_LEN && !t.contains(char::is_whitespace);
    if tokens.is_empty() || !tokens.iter().all(usable) {
        return Err(ConfigError::Invalid {
            setting: raw.name("IAM_SERVICE_TOKENS"),
            accepts: "comma-separated secrets of at least 32 characters each, without white space",
            got: format!("{} token(s), not shown", tokens.len()),
        });
    }
    Ok(tokens
        .into_iter()
        .map(|t| SecretString::from(t.to_owned()))
        .collect())
}

/// The shortest service token, in bytes.
pub const MIN_SERVICE_TOKEN_LEN: usize = 32;

fn file_values(path: &Path) -> Result<HashMap<&'static str, String>, ConfigError> {
    let error = |reason: String| ConfigError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let at = e.span().map_or(0, |span| span.start);
        let before = &text[..at.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        error(format!("line {line}, column {column}: {}", e.message()))
    })?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let Some(Key { env, .. }) = KEYS.iter().find(|k| k.file == key) else {
            return Err(error(format!("unknown setting {key:?}")));
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        values.insert(*env, text);
    }
    Ok(values)
}

impl Settings {
    /// Loads the settings: defaults, then `file`, then the environment `env`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let from_file = match file {
            Some(path) => Some((path.display().to_string(), file_values(path)?)),
            None => None,
        };
        let mut values = from_file
            .as_ref()
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut unknown = Vec::new();
        for (key, value) in env {
            if let Some(k) = KEYS.iter().find(|k| k.env == key) {
                values.insert(k.env, value);
            } else if key.starts_with("IAM_") && !key.starts_with(NOT_SETTINGS) {
                unknown.push(key);
            }
        }
        unknown.sort();
        let raw = Raw {
            values,
            file: from_file,
        };
        let duration = "a duration such as 500ms, 30s, 5m or 1h";
        let optional = |key| raw.get(key).map(|v| v.trim().to_owned());
        let settings = Settings {
            bind: raw.parse(
                "IAM_BIND",
                SocketAddr::from(([127, 0, 0, 1], 8000)),
                "an address such as 127.0.0.1:8000",
                |v| v.parse().ok(),
            )?,
            database_url: raw.parse(
                "IAM_DATABASE_URL",
                SecretString::from(DEFAULT_DATABASE_URL),
                "a postgres://… or sqlite:… URL",
                |v| {
                    (v.starts_with("postgres://")
                        || v.starts_with("postgresql://")
                        || v.starts_with("sqlite:"))
                    .then(|| SecretString::from(v.to_owned()))
                },
            )?,
            jwt_secret: raw
                .get("IAM_JWT_SECRET")
                .map(|v| SecretString::from(v.to_owned())),
            service_tokens: service_tokens(&raw)?,
            jwt_algorithm: raw.parse(
                "IAM_JWT_ALGORITHM",
                jsonwebtoken::Algorithm::HS256,
                "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256 or ES384",
                |v| iam_jwt::StaticKey::algorithm(v).ok(),
            )?,
            jwt_public_key_file: optional("IAM_JWT_PUBLIC_KEY_FILE").map(Into::into),
            jwt_token_type_claim: raw.parse(
                "IAM_JWT_TOKEN_TYPE_CLAIM",
                "token_type".to_owned(),
                "a claim name",
                |v| Some(v.to_owned()),
            )?,
            jwt_jwks_url: raw.parse("IAM_JWT_JWKS_URL", None, "an http(s) URL", |v| {
                (v.starts_with("http://") || v.starts_with("https://")).then(|| Some(v.to_owned()))
            })?,
            jwt_issuer: optional("IAM_JWT_ISSUER"),
            jwt_audience: optional("IAM_JWT_AUDIENCE"),
            jwt_user_claim: raw.parse(
                "IAM_JWT_USER_CLAIM",
                "user_id".to_owned(),
                "a claim name",
                |v| Some(v.to_owned()),
            )?,
            jwt_leeway: raw.parse(
                "IAM_JWT_LEEWAY",
                Duration::from_secs(30),
                duration,
                parse_duration,
            )?,
            jwks_min_refresh: raw.parse(
                "IAM_JWKS_MIN_REFRESH",
                Duration::from_secs(30),
                duration,
                parse_duration,
            )?,
            auth_cookie: raw.parse(
                "IAM_AUTH_COOKIE",
                "access_token".to_owned(),
                "a cookie name of letters, digits, - and _",
                |v| {
                    v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                        .then(|| v.to_owned())
                },
            )?,
            log: raw.parse(
                "IAM_LOG",
                "info".to_owned(),
                "a log filter such as info or iam_http=debug,warn",
                |v| {
                    tracing_subscriber::EnvFilter::try_new(v)
                        .ok()
                        .map(|_| v.to_owned())
                },
            )?,
            log_format: raw.parse(
                "IAM_LOG_FORMAT",
                LogFormat::Text,
                "text or json",
                |v| match v {
                    "text" => Some(LogFormat::Text),
                    "json" => Some(LogFormat::Json),
                    _ => None,
                },
            )?,
            pool_size: raw.parse("IAM_POOL_SIZE", 16, "a whole number from 1 to 1000", |v| {
                v.parse().ok().filter(|n| (1..=1000).contains(n))
            })?,
            body_limit: raw.parse(
                "IAM_BODY_LIMIT",
                64 * 1024,
                "a number of bytes from 1024 to 16777216",
                |v| {
                    v.parse()
                        .ok()
                        .filter(|n| (1024..=16 * 1024 * 1024).contains(n))
                },
            )?,
            request_timeout: raw.parse(
                "IAM_REQUEST_TIMEOUT",
                Duration::from_secs(30),
                duration,
                |v| parse_duration(v).filter(|d| !d.is_zero()),
            )?,
            client_timeout: raw.parse(
                "IAM_CLIENT_TIMEOUT",
                Duration::from_secs(5),
                duration,
                |v| parse_duration(v).filter(|d| !d.is_zero()),
            )?,
            shutdown_grace: raw.parse(
                "IAM_SHUTDOWN_GRACE",
                Duration::from_secs(30),
                duration,
                parse_duration,
            )?,
            cors_allowed_origins: raw.parse(
                "IAM_CORS_ALLOWED_ORIGINS",
                Vec::new(),
                "comma-separated origins such as https://app.example.com",
                |v| {
                    let origins: Vec<String> = v
                        .split(',')
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .collect();
                    origins
                        .iter()
                        .all(|o| o == "*" || o.starts_with("http://") || o.starts_with("https://"))
                        .then_some(origins)
                },
            )?,
            workers: raw.parse("IAM_WORKERS", 0, "a whole number (0 = two per core)", |v| {
                v.parse().ok()
            })?,
            migrate_on_start: raw.parse(
                "IAM_MIGRATE_ON_START",
                true,
                "true or false",
                |v| match v {
                    "true" | "1" | "yes" => Some(true),
                    "false" | "0" | "no" => Some(false),
                    _ => None,
                },
            )?,
            unknown,
        };
        Ok(settings)
    }

    /// True when the database is the embedded SQLite file.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }

    /// The folder of the SQLite file, where the development secret is kept.
    pub fn sqlite_dir(&self) -> Option<std::path::PathBuf> {
        let url = self.database_url.expose_secret();
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        Some(
            Path::new(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        )
    }
}

/// A database URL as it may be shown: the password in `user:password@` and any `password=`
/// parameter replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let rest = match rest.rsplit_once('@') {
                Some((credentials, host)) => match credentials.split_once(':') {
                    Some((user, _)) => format!("{user}:***@{host}"),
                    None => rest.to_owned(),
                },
                None => rest.to_owned(),
            };
            format!("{scheme}://{rest}")
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        out = format!("{out}?{}", params.join("&"));
    }
    out
}

/// The worker threads when `IAM_WORKERS` is 0: two per core. The service shares its machine
/// with the database in the common small deployment, and a worker preempted by a database
/// process stalls the connections it holds; with two per core, another worker runs meanwhile
/// (on the 2-core benchmark machine, 4 workers served 5–15 % more than 2 at a lower p99; 6 and 8
/// served no more than 4: `docs/benchmarks.md`).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_nothing() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(s.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(s.client_timeout, Duration::from_secs(5));
        assert!(s.jwt_secret.is_none());
        assert_eq!(s.jwt_user_claim, "user_id");
        assert_eq!(s.body_limit, 65536);
        assert!(s.is_sqlite());
        assert_eq!(s.sqlite_dir().unwrap(), Path::new("data"));
    }

    #[test]
    fn the_readme_table_names_every_setting_with_its_default() {
        let readme = include_str!("../../../README.md");
        for k in &KEYS {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", k.env)))
                .unwrap_or_else(|| panic!("{} is not in the README's table", k.env));
            let default = if k.default == "(none)" {
                "(none)".to_owned()
            } else {
                format!("`{}`", k.default)
            };
            assert!(row.contains(&format!("| {default} |")), "{}: {row}", k.env);
        }
    }

    #[test]
    fn service_tokens_are_long_secrets_never_shown() {
        let (a, b) = ("a".repeat(32), "b".repeat(40));
        let both = format!(" {a} , {b},");
        let s = Settings::load(None, env(&[("IAM_SERVICE_TOKENS", &both)])).unwrap();
        let tokens: Vec<&str> = s.service_tokens.iter().map(|t| t.expose_secret()).collect();
        assert_eq!(tokens, [a.as_str(), b.as_str()]);
        assert!(Settings::load(None, env(&[]))
            .unwrap()
            .service_tokens
            .is_empty());
        let short = format!("{a},tooshort-secret");
        let spaced = format!("{} x", "c".repeat(32));
        for bad in [short.as_str(), spaced.as_str(), " , "] {
            let err = Settings::load(None, env(&[("IAM_SERVICE_TOKENS", bad)])).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("IAM_SERVICE_TOKENS: "), "{text}");
            assert!(!text.contains("tooshort") && !text.contains(&a), "{text}");
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = std::env::temp_dir().join(format!("iam-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("iam.toml");
        std::fs::write(&file, "pool_size = 4\nlog_format = \"json\"\ncors_allowed_origins = [\"https://a.example\", \"https://b.example\"]\n").unwrap();
        let s = Settings::load(
            Some(&file),
            env(&[("IAM_POOL_SIZE", "8"), ("IAM_JWT_SECRET", "s3cret")]),
        )
        .unwrap();
        assert_eq!(s.pool_size, 8);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(
            s.cors_allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(s.jwt_secret.unwrap().expose_secret(), "s3cret");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_bad_value_names_the_setting_and_what_it_accepts() {
        let err = Settings::load(None, env(&[("IAM_POOL_SIZE", "lots")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "IAM_POOL_SIZE: a whole number from 1 to 1000; got \"lots\""
        );
        let err = Settings::load(None, env(&[("IAM_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("IAM_DATABASE_URL: a postgres://"), "{err}");
        assert!(Settings::load(None, env(&[("IAM_REQUEST_TIMEOUT", "0s")])).is_err());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = Settings::load(
            None,
            env(&[
                ("IAM_JWT_SECRET", "hunter2-very-secret"),
                (
                    "IAM_DATABASE_URL",
                    "postgres://iam:pg-pass-123@db.internal/iam",
                ),
            ]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("pg-pass-123"), "{shown}");
        assert_eq!(
            s.database_url.expose_secret(),
            "postgres://iam:pg-pass-123@db.internal/iam"
        );
    }

    #[test]
    fn a_bad_database_url_is_named_without_its_password() {
        let err = Settings::load(
            None,
            env(&[("IAM_DATABASE_URL", "mysql://root:hunter2@db/x?password=p2")]),
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("hunter2") && !err.contains("p2"), "{err}");
        assert!(err.contains("mysql://root:***@db/x?password=***"), "{err}");
    }

    #[test]
    fn urls_are_redacted_of_passwords_only() {
        assert_eq!(
            redact_url("postgres://u:p@h:5432/d?sslmode=require"),
            "postgres://u:***@h:5432/d?sslmode=require"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(
            redact_url("postgres:///d?user=u&Password=x"),
            "postgres:///d?user=u&Password=***"
        );
        assert_eq!(redact_url("sqlite://data/iam.db"), "sqlite://data/iam.db");
    }

    #[test]
    fn a_bad_value_in_the_file_is_named_by_its_key_and_syntax_errors_by_line_and_column() {
        let dir = std::env::temp_dir().join(format!("iam-config-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("iam.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\npool_size = \"lots\"\n").unwrap();
        let err = Settings::load(Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("pool_size in "), "{err}");
        assert!(err.contains("a whole number from 1 to 1000"), "{err}");
        // The same value from the environment is named by its variable.
        let err = Settings::load(Some(&file), env(&[("IAM_POOL_SIZE", "many")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("IAM_POOL_SIZE: "), "{err}");
        std::fs::write(&file, "bind = \"x\"\npool_size = [\n").unwrap();
        let err = Settings::load(Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3, column 1"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn unknown_iam_variables_are_collected_for_a_warning() {
        let s = Settings::load(
            None,
            env(&[
                ("IAM_POOLSIZE", "4"),
                ("IAM_TEST_DATABASE_URL", "x"),
                ("HOME", "/"),
            ]),
        )
        .unwrap();
        assert_eq!(s.unknown, ["IAM_POOLSIZE"]);
    }

    #[test]
    fn help_lists_every_setting_with_its_default() {
        let help = settings_help();
        for k in &KEYS {
            assert!(
                help.contains(k.env) && help.contains(k.default),
                "{}",
                k.env
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5 weeks"), None);
    }
}
