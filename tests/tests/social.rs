//! Other users and the platform, end to end on a real server over SQLite and over PostgreSQL:
//! following, the public view, the internal API and who may call what. The story test is the
//! social issue's "done when": every figure shown is the one the domain's rules give.

use chrono::{DateTime, Days, NaiveDate, Utc};
use iam_domain::figures::{DomainRating, FigureInputs, Figures, TopRating, UnlockedTitle};
use iam_domain::{Field, Relation};
use iam_tests::app::{TestApp, INTERNAL, ME, SERVICE_TOKEN};
use iam_tests::both_stores;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    two_users_story_shows_the_figures_the_domain_gives,
    follows_are_idempotent_and_checked,
    the_public_view_leaves_out_exactly_the_private_fields,
    each_credential_reaches_only_its_own_routes,
    the_internal_api_refuses_bad_facts_and_keeps_nothing_of_them,
);

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = req.send().await.expect("the server answers");
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

fn public(user: &str) -> String {
    format!("/api/v1/iam/iamuserdetails/{user}/")
}

fn follow_path(user: &str) -> String {
    format!("/api/v1/iam/iamuserdetails/{user}/follow/")
}

/// A write of the internal API, asserting 204.
async fn record(app: &TestApp, method: Method, path: &str, body: Option<Value>) {
    let mut req = app.as_service(method.clone(), &format!("{INTERNAL}/{path}"));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let (status, body) = send(req).await;
    assert_eq!(status, 204, "{method} {path}: {body}");
}

/// The figures of a representation, as the domain's [`Figures`] would show them.
fn shown(f: &Figures) -> Value {
    json!({
        "top_domain_elo": f.top_domain_elo,
        "top_domain_rank": f.top_domain_rank,
        "streak": f.streak.to_string(),
        "highest_streak": f.highest_streak.to_string(),
        "streak_freeze_days": f.streak_freeze_days.to_string(),
        "title": f.title,
        "unlocked_titles": f.unlocked_titles_text(),
        "followers_count": f.followers_count,
        "following_count": f.following_count,
        "is_following": f.is_following,
        "is_followed_back": f.is_followed_back,
    })
}

/// The figure keys of a representation.
fn figures_of(body: &Value) -> Value {
    let keys = [
        "top_domain_elo",
        "top_domain_rank",
        "streak",
        "highest_streak",
        "streak_freeze_days",
        "title",
        "unlocked_titles",
        "followers_count",
        "following_count",
        "is_following",
        "is_followed_back",
    ];
    keys.iter()
        .map(|k| ((*k).to_owned(), body[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn rating(domain: &str, rating: f64) -> DomainRating {
    DomainRating {
        domain: domain.into(),
        rating,
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// What the story checks after each chapter: each user's `/me/`, the internal figures, and each
/// one's public view seen by the other, against the domain's rules over the facts recorded.
async fn check(app: &TestApp, facts: &[(&str, FigureInputs)], follows: &[(&str, &str)]) {
    let today = Utc::now().date_naive();
    let relation = |viewer: &str, viewed: &str| Relation {
        is_following: follows.contains(&(viewer, viewed)),
        is_followed_back: follows.contains(&(viewed, viewer)),
    };
    for (user, inputs) in facts {
        let own = Figures::compute(inputs, today);
        let me = app.details(user).await;
        assert_eq!(figures_of(&me), shown(&own), "{user}'s /me/");
        let (status, internal) =
            send(app.as_service(Method::GET, &format!("{INTERNAL}/{user}/figures/"))).await;
        assert_eq!(status, 200);
        let mut expected = shown(&own);
        let expected_map = expected.as_object_mut().unwrap();
        expected_map.remove("is_following");
        expected_map.remove("is_followed_back");
        expected_map.insert("user_id".into(), json!(user));
        let mut internal_sorted: Vec<_> = internal.as_object().unwrap().iter().collect();
        let mut expected_sorted: Vec<_> = expected_map.iter().collect();
        internal_sorted.sort_by_key(|(k, _)| k.to_owned());
        expected_sorted.sort_by_key(|(k, _)| k.to_owned());
        assert_eq!(
            internal_sorted, expected_sorted,
            "{user}'s internal figures"
        );
        for (viewer, _) in facts {
            if viewer == user {
                continue;
            }
            let (status, view) = send(app.as_user(viewer, Method::GET, &public(user))).await;
            assert_eq!(status, 200, "{viewer} views {user}");
            let seen = Figures::viewed(inputs, today, relation(viewer, user));
            assert_eq!(figures_of(&view), shown(&seen), "{user} seen by {viewer}");
        }
    }
}

/// Two users create details, one follows the other, ratings, activity days, a freeze and titles
/// are recorded through the internal API; each `/me/` and each public view show exactly what the
/// domain's rules give. Then facts are removed and the figures follow.
async fn two_users_story_shows_the_figures_the_domain_gives(app: &TestApp) {
    let today = Utc::now().date_naive();
    let back = |n: u64| today.checked_sub_days(Days::new(n)).unwrap();
    app.create("ada", json!({"user_type": "developer", "bio": "Ada"}))
        .await;
    app.create("bob", json!({"user_type": "investor", "bio": "Bob"}))
        .await;
    let (status, _) = send(app.as_user("ada", Method::POST, &follow_path("bob"))).await;
    assert_eq!(status, 204);

    // Ratings: cy has no details, and still counts in the ranks.
    for (user, domain, value) in [
        ("ada", "nlp", 1700.0),
        ("ada", "vision", 1500.0),
        ("bob", "nlp", 1800.0),
        ("cy", "nlp", 1750.0),
        ("bob", "audio", 1800.0),
    ] {
        let path = format!("{user}/ratings/{domain}/");
        record(app, Method::PUT, &path, Some(json!({ "rating": value }))).await;
    }
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    for n in [0, 1, 3, 4, 9] {
        record(
            app,
            Method::PUT,
            &format!("ada/activity-days/{}/", day(back(n))),
            None,
        )
        .await;
    }
    record(
        app,
        Method::PUT,
        &format!("ada/freeze-days/{}/", day(back(2))),
        None,
    )
    .await;
    for n in [5, 6] {
        record(
            app,
            Method::PUT,
            &format!("bob/activity-days/{}/", day(back(n))),
            None,
        )
        .await;
    }
    let novice = "2026-01-01T09:00:00Z";
    let expert = "2026-03-01T09:00:00Z";
    record(
        app,
        Method::PUT,
        "ada/titles/Novice/",
        Some(json!({ "unlocked_at": novice })),
    )
    .await;
    record(
        app,
        Method::PUT,
        "ada/titles/Grand%20Expert/",
        Some(json!({ "unlocked_at": expert })),
    )
    .await;
    record(
        app,
        Method::PUT,
        "bob/titles/Novice/",
        Some(json!({ "unlocked_at": novice })),
    )
    .await;
    // Again, later: the first time stays.
    record(
        app,
        Method::PUT,
        "ada/titles/Novice/",
        Some(json!({ "unlocked_at": expert })),
    )
    .await;

    let ada = FigureInputs {
        followers: 0,
        following: 1,
        top: Some(TopRating {
            rating: rating("nlp", 1700.0),
            rated_higher: 2, // bob 1800, cy 1750
        }),
        activity_days: [0, 1, 3, 4, 9].map(back).to_vec(),
        freeze_days: vec![back(2)],
        titles: vec![
            UnlockedTitle {
                title: "Novice".into(),
                unlocked_at: at(novice),
            },
            UnlockedTitle {
                title: "Grand Expert".into(),
                unlocked_at: at(expert),
            },
        ],
    };
    let bob = FigureInputs {
        followers: 1,
        following: 0,
        // audio and nlp tie at 1800: the first name wins.
        top: Some(TopRating {
            rating: rating("audio", 1800.0),
            rated_higher: 0,
        }),
        activity_days: vec![back(5), back(6)],
        freeze_days: vec![],
        titles: vec![UnlockedTitle {
            title: "Novice".into(),
            unlocked_at: at(novice),
        }],
    };
    let mut facts = vec![("ada", ada), ("bob", bob)];
    check(app, &facts, &[("ada", "bob")]).await;
    // The story's numbers, written out once, so the rules themselves are held too.
    let me = app.details("ada").await;
    assert_eq!(
        (
            &me["streak"],
            &me["highest_streak"],
            &me["streak_freeze_days"]
        ),
        (&json!("4"), &json!("4"), &json!("1"))
    );
    assert_eq!(
        (&me["top_domain_elo"], &me["top_domain_rank"]),
        (&json!(1700.0), &json!(3))
    );
    assert_eq!(me["unlocked_titles"], "Novice, Grand Expert");

    // Bob follows back; ada's nlp rating goes; the freeze goes; a title goes; cy's rating goes.
    let (status, _) = send(app.as_user("bob", Method::POST, &follow_path("ada"))).await;
    assert_eq!(status, 204);
    record(app, Method::DELETE, "ada/ratings/nlp/", None).await;
    record(
        app,
        Method::DELETE,
        &format!("ada/freeze-days/{}/", day(back(2))),
        None,
    )
    .await;
    record(app, Method::DELETE, "ada/titles/Grand%20Expert/", None).await;
    record(app, Method::DELETE, "cy/ratings/nlp/", None).await;
    record(
        app,
        Method::DELETE,
        &format!("bob/activity-days/{}/", day(back(6))),
        None,
    )
    .await;
    facts[0].1.followers = 1;
    facts[0].1.top = Some(TopRating {
        rating: rating("vision", 1500.0),
        rated_higher: 0,
    });
    facts[0].1.freeze_days.clear();
    facts[0].1.titles.pop();
    facts[1].1.following = 1;
    facts[1].1.activity_days = vec![back(5)];
    check(app, &facts, &[("ada", "bob"), ("bob", "ada")]).await;

    // Ada unfollows, twice: one unfollow.
    for _ in 0..2 {
        let (status, _) = send(app.as_user("ada", Method::DELETE, &follow_path("bob"))).await;
        assert_eq!(status, 204);
    }
    facts[0].1.following = 0;
    facts[1].1.followers = 0;
    check(app, &facts, &[("bob", "ada")]).await;
}

async fn follows_are_idempotent_and_checked(app: &TestApp) {
    app.create("a", json!({"user_type": "d"})).await;
    app.create("b", json!({"user_type": "d"})).await;
    for _ in 0..3 {
        let (status, body) = send(app.as_user("a", Method::POST, &follow_path("b"))).await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    }
    assert_eq!(app.details("b").await["followers_count"], 1);
    assert_eq!(app.details("a").await["following_count"], 1);
    // Oneself, by id or as `me`: 400; nothing recorded.
    for path in [follow_path("a"), follow_path("me")] {
        for method in [Method::POST, Method::DELETE] {
            let (status, body) = send(app.as_user("a", method.clone(), &path)).await;
            assert_eq!(status, 400, "{method} {path}");
            assert_eq!(body, json!({"detail": "You cannot follow yourself."}));
        }
    }
    // A user without details cannot be followed, and can be "unfollowed" (nothing to do).
    let (status, body) = send(app.as_user("a", Method::POST, &follow_path("ghost"))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"detail": "User details not found."})
        )
    );
    let (status, _) = send(app.as_user("a", Method::DELETE, &follow_path("ghost"))).await;
    assert_eq!(status, 204);
    // Unfollowing a stranger: 204, nothing changes.
    let (status, _) = send(app.as_user("b", Method::DELETE, &follow_path("a"))).await;
    assert_eq!(status, 204);
    let a = app.details("a").await;
    assert_eq!(
        (&a["followers_count"], &a["following_count"]),
        (&json!(0), &json!(1))
    );
    // Without the trailing slash too.
    let bare = follow_path("b");
    let bare = bare.trim_end_matches('/');
    let (status, _) = send(app.as_user("a", Method::DELETE, bare)).await;
    assert_eq!(status, 204);
    assert_eq!(app.details("b").await["followers_count"], 0);
    // A follower who deletes their details still follows (facts outlive details).
    send(app.as_user("a", Method::POST, &follow_path("b"))).await;
    let (status, _) = send(app.as_user("a", Method::DELETE, ME)).await;
    assert_eq!(status, 204);
    assert_eq!(app.details("b").await["followers_count"], 1);
}

async fn the_public_view_leaves_out_exactly_the_private_fields(app: &TestApp) {
    let full = json!({
        "user_type": "developer",
        "bio": "Public bio",
        "country": "Pakistan",
        "phone": "+92 300 1234567",
        "dob": "1990-05-01",
        "address": {"city": "Lahore"},
        "github_url": "https://github.com/owner",
        "skills": ["Rust"],
        "communication_preferences_phone": true,
        "communication_preferences_email": true,
        "platform_features_emails": false,
        "activity_based_emails": true,
        "company_info": {"name": "Acme"},
        "additional_data": {"secret": "kept"},
    });
    let own = app.create("owner", full).await;
    app.create("viewer", json!({"user_type": "d"})).await;
    let (status, view) = send(app.as_user("viewer", Method::GET, &public("owner"))).await;
    assert_eq!(status, 200);
    let own = own.as_object().unwrap();
    let view = view.as_object().unwrap();
    for (key, value) in own {
        let private = Field::PRIVATE.iter().any(|f| f.name() == key);
        if private {
            assert!(!view.contains_key(key), "{key} is private");
        } else if key != "is_following" && key != "is_followed_back" {
            assert_eq!(view.get(key), Some(value), "{key} is public");
        }
    }
    assert_eq!(view.len(), own.len() - Field::PRIVATE.len());
    assert!(!view.values().any(|v| v.to_string().contains("kept")));
    // The owner still sees everything on /me/, and a user without details has no public view.
    assert_eq!(
        app.details("owner").await["additional_data"],
        json!({"secret": "kept"})
    );
    let (status, body) = send(app.as_user("viewer", Method::GET, &public("nobody"))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"detail": "User details not found."})
        )
    );
    // Conditional reads work on the public view as on /me/.
    let response = app
        .as_user("viewer", Method::GET, &public("owner"))
        .send()
        .await
        .unwrap();
    let tag = response.headers()["etag"].to_str().unwrap().to_owned();
    let response = app
        .as_user("viewer", Method::GET, &public("owner"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    // Following changes what the viewer sees (the tag with it).
    send(app.as_user("viewer", Method::POST, &follow_path("owner"))).await;
    let response = app
        .as_user("viewer", Method::GET, &public("owner"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (&body["is_following"], &body["followers_count"]),
        (&json!(true), &json!(1))
    );
}

async fn each_credential_reaches_only_its_own_routes(app: &TestApp) {
    app.create("a", json!({"user_type": "d"})).await;
    app.create("b", json!({"user_type": "d"})).await;
    app.create("c", json!({"user_type": "d"})).await;
    let figures = format!("{INTERNAL}/b/figures/");
    let rating = format!("{INTERNAL}/b/ratings/nlp/");
    // A user's token on the internal API: 401, nothing recorded.
    let (status, _) = send(app.as_user("a", Method::GET, &figures)).await;
    assert_eq!(status, 401);
    let (status, _) = send(
        app.as_user("a", Method::PUT, &rating)
            .json(&json!({"rating": 3000})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = send(
        app.request(Method::PUT, &rating)
            .json(&json!({"rating": 3000})),
    )
    .await;
    assert_eq!(status, 401, "no credentials");
    let (status, _) = send(
        app.request(Method::GET, &figures)
            .bearer_auth(format!("{SERVICE_TOKEN}x")),
    )
    .await;
    assert_eq!(status, 401, "a token that is not the service's");
    assert_eq!(app.details("b").await["top_domain_elo"], 0.0);
    // The service token on user routes: 401 (it is no user), nothing followed.
    for (method, path) in [
        (Method::GET, ME.to_owned()),
        (Method::GET, public("a")),
        (Method::POST, follow_path("a")),
    ] {
        let (status, body) = send(app.as_service(method.clone(), &path)).await;
        assert_eq!(status, 401, "{method} {path}");
        assert_eq!(body["code"], "token_not_valid");
    }
    // A user acts for themselves only: a's follow of c is a's, whoever else is named nowhere.
    let (status, _) = send(app.as_user("a", Method::POST, &follow_path("c"))).await;
    assert_eq!(status, 204);
    let c = app.details("c").await;
    assert_eq!(c["followers_count"], 1);
    let (_, b_view_of_c) = send(app.as_user("b", Method::GET, &public("c"))).await;
    assert_eq!(b_view_of_c["is_following"], false, "b follows nobody");
    assert_eq!(app.details("b").await["following_count"], 0);
    let (_, a_view_of_c) = send(app.as_user("a", Method::GET, &public("c"))).await;
    assert_eq!(a_view_of_c["is_following"], true);
    // b cannot undo a's follow: b's unfollow is b's.
    send(app.as_user("b", Method::DELETE, &follow_path("c"))).await;
    assert_eq!(app.details("c").await["followers_count"], 1);
}

async fn the_internal_api_refuses_bad_facts_and_keeps_nothing_of_them(app: &TestApp) {
    let tomorrow = Utc::now().date_naive() + Days::new(2);
    // (path, raw JSON body, the field named in the 400)
    let cases = [
        (
            "u/ratings/nlp/".to_owned(),
            Some(r#"{"rating": "x"}"#),
            "rating",
        ),
        (
            "u/ratings/nlp/".to_owned(),
            Some(r#"{"rating": 1e400}"#),
            "rating",
        ),
        (
            format!("u/ratings/{}/", "d".repeat(65)),
            Some(r#"{"rating": 1}"#),
            "domain",
        ),
        ("u/activity-days/yesterday/".to_owned(), None, "day"),
        (format!("u/activity-days/{tomorrow}/"), None, "day"),
        (format!("u/freeze-days/{tomorrow}/"), None, "day"),
        ("u/titles/a,b/".to_owned(), None, "title"),
        (
            "u/titles/t/".to_owned(),
            Some(r#"{"unlocked_at": "soon"}"#),
            "unlocked_at",
        ),
    ];
    for (path, body, field) in cases {
        let mut req = app.as_service(Method::PUT, &format!("{INTERNAL}/{path}"));
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let (status, body) = send(req).await;
        assert_eq!(status, 400, "PUT {path}: {body}");
        assert!(body.get(field).is_some(), "{path}: {body}");
    }
    let (status, body) = send(app.as_service(Method::GET, &format!("{INTERNAL}/u/figures/"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            &body["top_domain_elo"],
            &body["streak"],
            &body["unlocked_titles"]
        ),
        (&json!(0.0), &json!("0"), &json!(""))
    );
    // Wrong media type and methods.
    let (status, _) = send(
        app.as_service(Method::PUT, &format!("{INTERNAL}/u/ratings/nlp/"))
            .header("Content-Type", "text/plain")
            .body("1500"),
    )
    .await;
    assert_eq!(status, 415);
    let (status, _) =
        send(app.as_service(Method::POST, &format!("{INTERNAL}/u/ratings/nlp/"))).await;
    assert_eq!(status, 405);
}
