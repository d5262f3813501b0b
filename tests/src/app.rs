//! `spawn_app`: the real server on a random port over a fresh store, for end-to-end tests.

use std::time::Duration;

use iam_domain::UserId;
use iam_server::config::Settings;
use iam_server::startup::Application;
use reqwest::{Client, Method, RequestBuilder};
use secrecy::SecretString;
use serde_json::Value;

use crate::stores::TestStore;

/// The HS256 secret of the test servers.
pub const SECRET: &str = "end-to-end-test-secret-0123456789abcdef";

/// The internal API's service token on the test servers.
pub const SERVICE_TOKEN: &str = "end-to-end-service-token-0123456789abcdef";

/// The prefix of the internal API.
pub const INTERNAL: &str = "/internal/v1/iam/users";

/// A running server and what it runs on.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client that keeps no cookies.
    pub client: Client,
    /// The store the server runs on (its facts port seeds figures).
    pub store: TestStore,
    handle: actix_web::dev::ServerHandle,
}

/// A server started apart from a [`TestApp`] (a second one on its store, or one on a database of
/// the test's own): shares nothing with others but the database.
pub struct OtherServer {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    handle: actix_web::dev::ServerHandle,
}

impl OtherServer {
    /// Stops the server.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Starts a server on the database at `url` with the test secret and `extra` settings.
async fn start_server(url: &str, extra: &[(&str, &str)]) -> (String, actix_web::dev::ServerHandle) {
    let mut env: Vec<(String, String)> = vec![
        ("IAM_BIND".into(), "127.0.0.1:0".into()),
        ("IAM_DATABASE_URL".into(), url.to_owned()),
        ("IAM_JWT_SECRET".into(), SECRET.into()),
        ("IAM_SERVICE_TOKENS".into(), SERVICE_TOKEN.into()),
        ("IAM_MIGRATE_ON_START".into(), "false".into()),
        ("IAM_WORKERS".into(), "2".into()),
        ("IAM_POOL_SIZE".into(), "8".into()),
        ("IAM_LOG".into(), "warn".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings = Settings::load(None, env).expect("test settings are valid");
    let app = Application::build(&settings).await.expect("server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (address, handle)
}

/// Starts a server on the (migrated) database at `url` with the test secret and `extra` settings.
///
/// # Panics
/// When the server cannot start.
pub async fn serve_url(url: &str, extra: &[(&str, &str)]) -> OtherServer {
    let (address, handle) = start_server(url, extra).await;
    OtherServer { address, handle }
}

/// Starts a server on `store` with the test secret, then applies `extra` environment settings.
///
/// # Panics
/// When the server cannot start.
pub async fn spawn_app_with(store: TestStore, extra: &[(&str, &str)]) -> TestApp {
    let (address, handle) = start_server(&store.url, extra).await;
    TestApp {
        address,
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        store,
        handle,
    }
}

/// Starts a server on `store` with the default test settings.
pub async fn spawn_app(store: TestStore) -> TestApp {
    spawn_app_with(store, &[]).await
}

/// Sends `request`; its JSON body, or `null` when it has none.
async fn json_body(request: RequestBuilder) -> Value {
    request
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}

/// The path of the caller's details.
pub const ME: &str = "/api/v1/iam/iamuserdetails/me/";
/// The create path.
pub const CREATE: &str = "/api/v1/iam/iamuserdetails/";

impl TestApp {
    /// A valid access token for `user`.
    pub fn token(&self, user: &str) -> String {
        iam_jwt::issue_hs256(
            &SecretString::from(SECRET),
            &UserId::parse(user).unwrap(),
            Duration::from_secs(600),
            None,
            None,
        )
        .unwrap()
    }

    /// A request to `path`, without credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// A request to `path` as `user`.
    pub fn as_user(&self, user: &str, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(self.token(user))
    }

    /// A request to `path` with the service token (the internal API's credential).
    pub fn as_service(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(SERVICE_TOKEN)
    }

    /// A JSON request to `path` as `user` with `body`.
    pub fn json(&self, user: &str, method: Method, path: &str, body: &Value) -> RequestBuilder {
        self.as_user(user, method, path).json(body)
    }

    /// `user`'s details as GET answers them (the JSON body, whatever the status).
    pub async fn details(&self, user: &str) -> Value {
        json_body(self.as_user(user, Method::GET, ME)).await
    }

    /// The JSON body of a GET of `path` without credentials.
    pub async fn get_json(&self, path: &str) -> Value {
        json_body(self.request(Method::GET, path)).await
    }

    /// Creates `user`'s details with `body`, asserting 201; returns the representation.
    pub async fn create(&self, user: &str, body: Value) -> Value {
        let response = self
            .json(user, Method::POST, CREATE, &body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    /// Starts another server on this app's database (its own pool and state, as a new process
    /// would have), with the default test settings.
    pub async fn another_server(&self) -> OtherServer {
        let (address, handle) = start_server(&self.store.url, &[]).await;
        OtherServer { address, handle }
    }

    /// Stops the server and removes the store.
    pub async fn cleanup(self) {
        self.handle.stop(true).await;
        self.store.cleanup().await;
    }
}
