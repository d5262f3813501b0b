//! `iam-bench seed`: fills a database with realistic users through the service's own storage code
//! (the repository and figure-facts ports) and writes one access token per user, for
//! `scripts/bench.sh`.
//!
//! Each user gets details with several skills, interests and tags drawn from shared pools (so
//! catalogue names are shared, as in real data), three follows, ratings in two domains, two weeks
//! of activity days with a freeze, and two unlocked titles.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Days, Utc};
use clap::Parser;
use iam_domain::social::{Rating, RatingDomain, TitleName};
use iam_domain::{JsonMode, UserDetail, UserId, Version};
use iam_http::drf::{parse_patch, ParseOptions, WriteMode};
use iam_ports::{FigureFacts, UserDetailsRepository};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use serde_json::json;

#[derive(Parser)]
#[command(name = "iam-bench", about = "Seeds users for the benchmark.")]
struct Cli {
    /// `postgres://…` or `sqlite:…` (migrated first).
    #[arg(long)]
    database_url: String,
    /// How many users (ids 1..=N).
    #[arg(long, default_value_t = 10_000)]
    users: u32,
    /// The HS256 secret the server under test verifies with.
    #[arg(long)]
    secret: String,
    /// Where to write the tokens, one per line.
    #[arg(long)]
    tokens: PathBuf,
    /// Concurrent writers.
    #[arg(long, default_value_t = 16)]
    concurrency: u32,
}

const SKILLS: [&str; 24] = [
    "Rust",
    "Python",
    "Go",
    "TypeScript",
    "PostgreSQL",
    "Kubernetes",
    "PyTorch",
    "TensorFlow",
    "React",
    "Django",
    "Actix",
    "CUDA",
    "Spark",
    "Kafka",
    "Redis",
    "GraphQL",
    "Terraform",
    "AWS",
    "GCP",
    "Azure",
    "C++",
    "Java",
    "Scala",
    "Haskell",
];
const INTERESTS: [&str; 8] = [
    "Seed", "Series A", "Fintech", "Climate", "Health", "Crypto", "SaaS", "Robotics",
];
const TAGS: [&str; 10] = [
    "AI", "ML", "NLP", "Vision", "Audio", "Robotics", "Data", "Security", "Web", "Edge",
];
const DOMAINS: [&str; 5] = ["nlp", "vision", "audio", "tabular", "rl"];
const TITLES: [&str; 4] = ["Novice", "Apprentice", "Expert", "Grandmaster"];

fn pick<'a>(rng: &mut StdRng, pool: &[&'a str], n: usize) -> Vec<&'a str> {
    pool.choose_multiple(rng, n).copied().collect()
}

async fn seed_user(
    n: u32,
    repository: &dyn UserDetailsRepository,
    facts: &dyn FigureFacts,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(u64::from(n));
    let id = UserId::parse(n.to_string()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = Utc::now().date_naive();
    let body = json!({
        "user_type": if n.is_multiple_of(3) { "investor" } else { "developer" },
        "bio": format!("User {n} builds things with data and models. {}", "Lorem ipsum dolor sit amet. ".repeat(3)),
        "country": "Pakistan",
        "phone": format!("+92 300 {:07}", n),
        "dob": "1990-01-01",
        "github_url": format!("https://github.com/user{n}"),
        "linkedin_url": format!("https://www.linkedin.com/in/user{n}"),
        "skills": pick(&mut rng, &SKILLS, 4),
        "investment_interests": pick(&mut rng, &INTERESTS, 2),
        "technical_interests": pick(&mut rng, &SKILLS, 3),
        "focus_area": pick(&mut rng, &TAGS, 2),
        "address": {"city": "Lahore", "zip": "54000"},
        "company_info": {"name": format!("Company {}", n % 97), "size": 50},
        "platform_features_emails": true,
    });
    let options = ParseOptions {
        today,
        strict: false,
        mode: WriteMode::Create,
    };
    let patch = parse_patch(&body, options).map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = Version::initial(Utc::now().timestamp_micros());
    let detail = UserDetail::create(id.clone(), version, &patch, JsonMode::Replace)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    repository
        .insert(&detail)
        .await
        .with_context(|| format!("inserting user {n}"))?;
    let err = |e: iam_ports::FigureFactsError| {
        anyhow::Error::from(e).context(format!("facts of user {n}"))
    };
    for domain in pick(&mut rng, &DOMAINS, 2) {
        let domain = RatingDomain::parse(domain).map_err(|e| anyhow::anyhow!("{e}"))?;
        let rating = Rating::new(rng.gen_range(1000.0..2400.0))?;
        facts.rate(&id, &domain, rating).await.map_err(err)?;
    }
    for back in 0..14u64 {
        if back == 5 {
            facts
                .record_freeze(&id, today - Days::new(back))
                .await
                .map_err(err)?;
        } else {
            facts
                .record_activity(&id, today - Days::new(back))
                .await
                .map_err(err)?;
        }
    }
    for (i, title) in TITLES.iter().take(2).enumerate() {
        let at = Utc::now() - chrono::Duration::days(30 - i as i64);
        let title = TitleName::parse(*title)?;
        facts.unlock_title(&id, &title, at).await.map_err(err)?;
    }
    Ok(())
}

/// User `n` follows three others (a follow needs the followee's details, so this runs once every
/// user has them).
async fn seed_follows(n: u32, users: u32, facts: &dyn FigureFacts) -> anyhow::Result<()> {
    let id = UserId::parse(n.to_string())?;
    for k in 1..=3 {
        let other = (n + k * 7919) % users + 1;
        if other != n {
            facts
                .follow(&id, &UserId::parse(other.to_string())?)
                .await
                .with_context(|| format!("follows of user {n}"))?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    let (repository, facts): (Arc<dyn UserDetailsRepository>, Arc<dyn FigureFacts>) =
        if cli.database_url.starts_with("sqlite:") {
            let store = iam_sqlite::SqliteStore::open(&cli.database_url, 4).await?;
            store.migrate().await?;
            let store = Arc::new(store);
            (store.clone(), store)
        } else {
            let settings = iam_postgres::PoolSettings {
                max_connections: cli.concurrency,
                acquire_timeout: Duration::from_secs(30),
            };
            let store = iam_postgres::PgStore::connect_lazy(&cli.database_url, &settings)?;
            store.migrate().await?;
            let store = Arc::new(store);
            (store.clone(), store)
        };
    for follows in [false, true] {
        let next = Arc::new(std::sync::atomic::AtomicU32::new(1));
        let mut workers = Vec::new();
        for _ in 0..cli.concurrency {
            let (repository, facts, next) = (repository.clone(), facts.clone(), next.clone());
            let users = cli.users;
            workers.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n > users {
                        return Ok::<(), anyhow::Error>(());
                    }
                    if follows {
                        seed_follows(n, users, &*facts).await?;
                    } else {
                        seed_user(n, &*repository, &*facts).await?;
                    }
                }
            }));
        }
        for worker in workers {
            worker.await??;
        }
    }
    let secret = SecretString::from(cli.secret.clone());
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(&cli.tokens).context("tokens file")?);
    for n in 1..=cli.users {
        let id = UserId::parse(n.to_string()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let token = iam_jwt::issue_hs256(&secret, &id, Duration::from_secs(6 * 3600), None, None)?;
        writeln!(out, "{token}")?;
    }
    out.flush()?;
    eprintln!(
        "seeded {} users in {:.1}s",
        cli.users,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
