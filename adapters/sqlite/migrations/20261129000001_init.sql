-- The user-details schema on SQLite: the same tables, keys and meaning as the PostgreSQL schema
-- (see adapters/postgres/migrations and docs/storage.md for why each exists). JSON is kept as
-- text, dates as 'YYYY-MM-DD' text, timestamps as RFC 3339 text, booleans as integers.
-- Never edit a released migration: add a new one.

CREATE TABLE user_details (
    user_id                          TEXT    NOT NULL PRIMARY KEY
                                     CHECK (length(user_id) BETWEEN 1 AND 255),
    version                          INTEGER NOT NULL,
    profile_picture                  TEXT,
    bio                              TEXT,
    address                          TEXT,
    country                          TEXT    NOT NULL DEFAULT '',
    phone                            TEXT,
    dob                              TEXT,
    user_type                        TEXT    NOT NULL,
    linkedin_url                     TEXT,
    github_url                       TEXT,
    twitter_url                      TEXT,
    facebook_url                     TEXT,
    website_url                      TEXT,
    portfolio_url                    TEXT,
    resume                           TEXT,
    communication_preferences_phone  INTEGER DEFAULT 0,
    communication_preferences_email  INTEGER DEFAULT 0,
    platform_features_emails         INTEGER DEFAULT 0,
    activity_based_emails            INTEGER DEFAULT 0,
    company_info                     TEXT,
    additional_data                  TEXT,
    created_at                       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at                       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Catalogues: AUTOINCREMENT so that an id is never reused; unique on the domain's lower-case key.
CREATE TABLE developer_skills (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    description TEXT
);

CREATE TABLE investment_interests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    description TEXT
);

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    description TEXT
);

CREATE TABLE user_skills (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES developer_skills (id),
    PRIMARY KEY (user_id, position)
);

CREATE TABLE user_investment_interests (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES investment_interests (id),
    PRIMARY KEY (user_id, position)
);

CREATE TABLE user_technical_interests (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES developer_skills (id),
    PRIMARY KEY (user_id, position)
);

CREATE TABLE user_focus_areas (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES tags (id),
    PRIMARY KEY (user_id, position)
);

CREATE TABLE follows (
    follower_id TEXT NOT NULL,
    followee_id TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id);

CREATE TABLE domain_ratings (
    user_id TEXT NOT NULL,
    domain  TEXT NOT NULL,
    rating  REAL NOT NULL,
    PRIMARY KEY (user_id, domain)
);
CREATE INDEX domain_ratings_rank_idx ON domain_ratings (domain, rating);

CREATE TABLE activity_days (
    user_id TEXT NOT NULL,
    day     TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE TABLE streak_freeze_days (
    user_id TEXT NOT NULL,
    day     TEXT NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE TABLE unlocked_titles (
    user_id     TEXT NOT NULL,
    title       TEXT NOT NULL,
    unlocked_at TEXT NOT NULL,
    PRIMARY KEY (user_id, title)
);
