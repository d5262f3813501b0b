-- The user-details schema. Never edit a released migration: add a new one.

-- One row per user: what the user wrote about themselves. The key is the user id from the token,
-- an opaque string (integers and UUIDs both occur). `version` changes with every write; it is
-- the ETag and the If-Match guard. Only the columns a write changes are written.
CREATE TABLE user_details (
    user_id                          text        NOT NULL,
    version                          bigint      NOT NULL,
    profile_picture                  text,
    bio                              text,
    address                          jsonb,
    country                          text        NOT NULL DEFAULT '',
    phone                            text,
    dob                              date,
    user_type                        text        NOT NULL,
    linkedin_url                     text,
    github_url                       text,
    twitter_url                      text,
    facebook_url                     text,
    website_url                      text,
    portfolio_url                    text,
    resume                           text,
    communication_preferences_phone  boolean     DEFAULT false,
    communication_preferences_email  boolean     DEFAULT false,
    platform_features_emails         boolean     DEFAULT false,
    activity_based_emails            boolean     DEFAULT false,
    company_info                     jsonb,
    additional_data                  jsonb,
    created_at                       timestamptz NOT NULL DEFAULT now(),
    updated_at                       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_details_pkey PRIMARY KEY (user_id),
    CONSTRAINT user_details_user_id_length CHECK (char_length(user_id) BETWEEN 1 AND 255)
);

-- The three catalogues. `name` keeps the first spelling anyone used; `name_key` is its Unicode
-- lower case (computed by the domain, so every store agrees), unique so that names match without
-- case and two users adding one new name at once get one row.
CREATE TABLE developer_skills (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    name        text NOT NULL,
    name_key    text NOT NULL,
    description text,
    CONSTRAINT developer_skills_pkey PRIMARY KEY (id),
    CONSTRAINT developer_skills_name_key_key UNIQUE (name_key)
);

CREATE TABLE investment_interests (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    name        text NOT NULL,
    name_key    text NOT NULL,
    description text,
    CONSTRAINT investment_interests_pkey PRIMARY KEY (id),
    CONSTRAINT investment_interests_name_key_key UNIQUE (name_key)
);

CREATE TABLE tags (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    name        text NOT NULL,
    name_key    text NOT NULL,
    description text,
    CONSTRAINT tags_pkey PRIMARY KEY (id),
    CONSTRAINT tags_name_key_key UNIQUE (name_key)
);

-- A user's lists, one link table each, keyed by (user, position) to keep the user's order. They go
-- with the user's row. `technical_interests` names developer skills; `focus_area` names tags.
CREATE TABLE user_skills (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES developer_skills (id),
    CONSTRAINT user_skills_pkey PRIMARY KEY (user_id, position)
);

CREATE TABLE user_investment_interests (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES investment_interests (id),
    CONSTRAINT user_investment_interests_pkey PRIMARY KEY (user_id, position)
);

CREATE TABLE user_technical_interests (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES developer_skills (id),
    CONSTRAINT user_technical_interests_pkey PRIMARY KEY (user_id, position)
);

CREATE TABLE user_focus_areas (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES tags (id),
    CONSTRAINT user_focus_areas_pkey PRIMARY KEY (user_id, position)
);

-- The facts the read-only figures come from. Other parts of the platform write them; they are
-- keyed by user id and do not depend on a details row (a user may be followed before writing a bio).

-- Who follows whom. The primary key counts `following`; the index counts `followers`.
CREATE TABLE follows (
    follower_id text        NOT NULL,
    followee_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT follows_pkey PRIMARY KEY (follower_id, followee_id),
    CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id);

-- One rating per user and domain. The index serves the rank: users rated higher in one domain.
CREATE TABLE domain_ratings (
    user_id text             NOT NULL,
    domain  text             NOT NULL,
    rating  double precision NOT NULL,
    CONSTRAINT domain_ratings_pkey PRIMARY KEY (user_id, domain)
);
CREATE INDEX domain_ratings_rank_idx ON domain_ratings (domain, rating);

-- Days a user was active, and days a streak freeze covered: the streaks.
CREATE TABLE activity_days (
    user_id text NOT NULL,
    day     date NOT NULL,
    CONSTRAINT activity_days_pkey PRIMARY KEY (user_id, day)
);

CREATE TABLE streak_freeze_days (
    user_id text NOT NULL,
    day     date NOT NULL,
    CONSTRAINT streak_freeze_days_pkey PRIMARY KEY (user_id, day)
);

-- Titles a user unlocked, and when: `title` and `unlocked_titles`.
CREATE TABLE unlocked_titles (
    user_id     text        NOT NULL,
    title       text        NOT NULL,
    unlocked_at timestamptz NOT NULL,
    CONSTRAINT unlocked_titles_pkey PRIMARY KEY (user_id, title)
);
