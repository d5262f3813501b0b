-- The user-details schema on PostgreSQL. Never edit a released migration: add a new one.
--
-- What is stored, in four parts:
--   1. the details (`user_details`), the three catalogues and the four list link tables;
--   2. the facts the read-only figures come from (follows, ratings, days, titles);
--   3. caches kept by triggers in the writing transaction, so that reading a profile is one
--      statement of primary-key lookups: the list entries in the row (`list_entries`), the
--      figure facts of a user in one row (`user_figures`) and rating counts per rank bucket
--      (`domain_rating_buckets`). The tables of parts 1 and 2 stay the truth; the contract test
--      `stored_facts_follow_the_domain_rules_on_random_facts` holds the caches to the domain's
--      rules;
--   4. nothing else: the figures themselves (streaks, rank, titles) are computed by the domain
--      from these facts on every read.

------------------------------------------------------------------------------------------------
-- 1. Details, catalogues, lists
------------------------------------------------------------------------------------------------

-- One row per user: what the user wrote about themselves. The key is the user id from the token,
-- an opaque string (integers and UUIDs both occur). `version` changes with every write; it is
-- the ETag and the If-Match guard. Only the columns a write changes are written. The columns are
-- the domain's scalar fields by name (`Field::name`); `list_entries` is the cache of part 3.
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
    list_entries                     jsonb       NOT NULL DEFAULT
        '{"skills": [], "investment_interests": [], "technical_interests": [], "focus_area": []}',
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
-- with the user's row. `technical_interests` names developer skills; `focus_area` names tags. The
-- `entry_id` indexes find the users of a catalogue entry when it is renamed (part 3).
CREATE TABLE user_skills (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES developer_skills (id),
    CONSTRAINT user_skills_pkey PRIMARY KEY (user_id, position)
);
CREATE INDEX user_skills_entry_idx ON user_skills (entry_id);

CREATE TABLE user_investment_interests (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES investment_interests (id),
    CONSTRAINT user_investment_interests_pkey PRIMARY KEY (user_id, position)
);
CREATE INDEX user_investment_interests_entry_idx ON user_investment_interests (entry_id);

CREATE TABLE user_technical_interests (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES developer_skills (id),
    CONSTRAINT user_technical_interests_pkey PRIMARY KEY (user_id, position)
);
CREATE INDEX user_technical_interests_entry_idx ON user_technical_interests (entry_id);

CREATE TABLE user_focus_areas (
    user_id  text     NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position smallint NOT NULL,
    entry_id bigint   NOT NULL REFERENCES tags (id),
    CONSTRAINT user_focus_areas_pkey PRIMARY KEY (user_id, position)
);
CREATE INDEX user_focus_areas_entry_idx ON user_focus_areas (entry_id);

------------------------------------------------------------------------------------------------
-- 2. Facts behind the figures
------------------------------------------------------------------------------------------------

-- Other parts of the platform write these; they are keyed by user id and do not depend on a
-- details row (a user may be followed before writing a bio).

-- Who follows whom. The primary key finds whom a user follows; the index who follows a user.
CREATE TABLE follows (
    follower_id text        NOT NULL,
    followee_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT follows_pkey PRIMARY KEY (follower_id, followee_id),
    CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id);

-- One rating per user and domain.
CREATE TABLE domain_ratings (
    user_id text             NOT NULL,
    domain  text             NOT NULL,
    rating  double precision NOT NULL,
    CONSTRAINT domain_ratings_pkey PRIMARY KEY (user_id, domain)
);

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

------------------------------------------------------------------------------------------------
-- 3a. Cache: the list entries in the row
------------------------------------------------------------------------------------------------

-- A user's four lists with their catalogue entries, so that reading a profile needs no join
-- against the link and catalogue tables. Rebuilt from the link tables by `user_list_entries` in
-- the transaction of every list write (the adapter runs it), and by the triggers below when a
-- catalogue entry is renamed or its description changes. Shape: {"skills": [[id, name,
-- description], …], "investment_interests": …, "technical_interests": …, "focus_area": …}, each
-- in the user's order.
CREATE FUNCTION user_list_entries(uid text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'skills', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.id, c.name, c.description) ORDER BY l.position), '[]')
                   FROM user_skills l JOIN developer_skills c ON c.id = l.entry_id WHERE l.user_id = uid),
        'investment_interests', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.id, c.name, c.description) ORDER BY l.position), '[]')
                   FROM user_investment_interests l JOIN investment_interests c ON c.id = l.entry_id WHERE l.user_id = uid),
        'technical_interests', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.id, c.name, c.description) ORDER BY l.position), '[]')
                   FROM user_technical_interests l JOIN developer_skills c ON c.id = l.entry_id WHERE l.user_id = uid),
        'focus_area', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.id, c.name, c.description) ORDER BY l.position), '[]')
                   FROM user_focus_areas l JOIN tags c ON c.id = l.entry_id WHERE l.user_id = uid))
$$;

-- A renamed (or re-described) catalogue entry rewrites the cached entries of its users.
CREATE FUNCTION refresh_list_entries_of_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'developer_skills' THEN
        UPDATE user_details SET list_entries = user_list_entries(user_id)
        WHERE user_id IN (SELECT user_id FROM user_skills WHERE entry_id = NEW.id
                          UNION SELECT user_id FROM user_technical_interests WHERE entry_id = NEW.id);
    ELSIF TG_TABLE_NAME = 'investment_interests' THEN
        UPDATE user_details SET list_entries = user_list_entries(user_id)
        WHERE user_id IN (SELECT user_id FROM user_investment_interests WHERE entry_id = NEW.id);
    ELSE
        UPDATE user_details SET list_entries = user_list_entries(user_id)
        WHERE user_id IN (SELECT user_id FROM user_focus_areas WHERE entry_id = NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER developer_skills_refresh AFTER UPDATE OF name, description ON developer_skills
    FOR EACH ROW EXECUTE FUNCTION refresh_list_entries_of_entry();
CREATE TRIGGER investment_interests_refresh AFTER UPDATE OF name, description ON investment_interests
    FOR EACH ROW EXECUTE FUNCTION refresh_list_entries_of_entry();
CREATE TRIGGER tags_refresh AFTER UPDATE OF name, description ON tags
    FOR EACH ROW EXECUTE FUNCTION refresh_list_entries_of_entry();

------------------------------------------------------------------------------------------------
-- 3b. Cache: a user's figure facts in one row
------------------------------------------------------------------------------------------------

-- So that reading a profile is a primary-key lookup and a rank instead of eight index scans over
-- the fact tables. Follow counts move by the change (`followers + 1`), which PostgreSQL
-- re-applies to the newest row version when writers race. Every other part is recomputed from
-- its fact table after locking the user's row: in READ COMMITTED each statement of a trigger
-- function takes a fresh snapshot, so the recomputation sees every transaction that held the
-- lock before it. The top domain is the domain's rule (`figures::top_domain`): the highest
-- rating, ties to the domain name that sorts first (byte order, as Rust compares strings).
CREATE TABLE user_figures (
    user_id       text             NOT NULL,
    followers     bigint           NOT NULL DEFAULT 0,
    following     bigint           NOT NULL DEFAULT 0,
    top_domain    text,
    top_rating    double precision,
    activity_days date[]           NOT NULL DEFAULT '{}',
    freeze_days   date[]           NOT NULL DEFAULT '{}',
    titles        text[]           NOT NULL DEFAULT '{}',
    title_times   timestamptz[]    NOT NULL DEFAULT '{}',
    CONSTRAINT user_figures_pkey PRIMARY KEY (user_id)
);

-- Follow counts: the change to both users, in user id order so that two follows in opposite
-- directions lock the rows in one order.
CREATE FUNCTION user_figures_follows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_follower text;
    old_followee text;
    new_follower text;
    new_followee text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_follower := OLD.follower_id;
        old_followee := OLD.followee_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_follower := NEW.follower_id;
        new_followee := NEW.followee_id;
    END IF;
    INSERT INTO user_figures AS f (user_id, followers, following)
    SELECT v.user_id, sum(v.followers), sum(v.following)
    FROM (SELECT old_followee, -1, 0 WHERE old_followee IS NOT NULL
          UNION ALL SELECT old_follower, 0, -1 WHERE old_follower IS NOT NULL
          UNION ALL SELECT new_followee, 1, 0 WHERE new_followee IS NOT NULL
          UNION ALL SELECT new_follower, 0, 1 WHERE new_follower IS NOT NULL)
         AS v(user_id, followers, following)
    GROUP BY v.user_id
    HAVING sum(v.followers) <> 0 OR sum(v.following) <> 0
    ORDER BY v.user_id
    ON CONFLICT (user_id) DO UPDATE
        SET followers = f.followers + EXCLUDED.followers,
            following = f.following + EXCLUDED.following;
    RETURN NULL;
END
$$;

-- Recomputes the part of `uid`'s figures that comes from `source` (a fact table's name), after
-- creating and locking the user's row. The id is copied into a variable of the default collation:
-- parameters take the collation of the call's arguments, and a `name` argument (`TG_TABLE_NAME`)
-- would make it "C", which no user id index serves.
CREATE FUNCTION refresh_user_figures(user_key text, source text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    uid text COLLATE "default" := user_key;
BEGIN
    INSERT INTO user_figures (user_id) VALUES (uid) ON CONFLICT (user_id) DO NOTHING;
    PERFORM 1 FROM user_figures WHERE user_id = uid FOR UPDATE;
    IF source = 'domain_ratings' THEN
        UPDATE user_figures SET (top_domain, top_rating) =
            (SELECT r.domain, r.rating FROM domain_ratings r WHERE r.user_id = uid
             ORDER BY r.rating DESC, r.domain COLLATE "C" LIMIT 1)
        WHERE user_id = uid;
    ELSIF source = 'activity_days' THEN
        UPDATE user_figures
        SET activity_days = ARRAY(SELECT a.day FROM activity_days a WHERE a.user_id = uid)
        WHERE user_id = uid;
    ELSIF source = 'streak_freeze_days' THEN
        UPDATE user_figures
        SET freeze_days = ARRAY(SELECT z.day FROM streak_freeze_days z WHERE z.user_id = uid)
        WHERE user_id = uid;
    ELSIF source = 'unlocked_titles' THEN
        UPDATE user_figures
        SET titles = ARRAY(SELECT t.title FROM unlocked_titles t WHERE t.user_id = uid
                           ORDER BY t.unlocked_at, t.title COLLATE "C"),
            title_times = ARRAY(SELECT t.unlocked_at FROM unlocked_titles t WHERE t.user_id = uid
                                ORDER BY t.unlocked_at, t.title COLLATE "C")
        WHERE user_id = uid;
    ELSE
        RAISE EXCEPTION 'refresh_user_figures: unknown source %', source;
    END IF;
END
$$;

-- The row trigger of the recomputed facts: the users before and after the change, in id order.
CREATE FUNCTION user_figures_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_user text;
    new_user text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_user := OLD.user_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_user := NEW.user_id;
    END IF;
    IF old_user IS NOT NULL AND new_user IS NOT NULL AND old_user <> new_user THEN
        PERFORM refresh_user_figures(least(old_user, new_user), TG_TABLE_NAME);
        PERFORM refresh_user_figures(greatest(old_user, new_user), TG_TABLE_NAME);
    ELSE
        PERFORM refresh_user_figures(coalesce(new_user, old_user), TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$;

-- A truncated fact table empties its part of every row.
CREATE FUNCTION user_figures_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'follows' THEN
        UPDATE user_figures SET followers = 0, following = 0;
    ELSIF TG_TABLE_NAME = 'domain_ratings' THEN
        UPDATE user_figures SET top_domain = NULL, top_rating = NULL;
    ELSIF TG_TABLE_NAME = 'activity_days' THEN
        UPDATE user_figures SET activity_days = '{}';
    ELSIF TG_TABLE_NAME = 'streak_freeze_days' THEN
        UPDATE user_figures SET freeze_days = '{}';
    ELSE
        UPDATE user_figures SET titles = '{}', title_times = '{}';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER follows_figures AFTER INSERT OR UPDATE OR DELETE ON follows
    FOR EACH ROW EXECUTE FUNCTION user_figures_follows();
CREATE TRIGGER domain_ratings_figures AFTER INSERT OR UPDATE OR DELETE ON domain_ratings
    FOR EACH ROW EXECUTE FUNCTION user_figures_refresh();
CREATE TRIGGER activity_days_figures AFTER INSERT OR UPDATE OR DELETE ON activity_days
    FOR EACH ROW EXECUTE FUNCTION user_figures_refresh();
CREATE TRIGGER streak_freeze_days_figures AFTER INSERT OR UPDATE OR DELETE ON streak_freeze_days
    FOR EACH ROW EXECUTE FUNCTION user_figures_refresh();
CREATE TRIGGER unlocked_titles_figures AFTER INSERT OR UPDATE OR DELETE ON unlocked_titles
    FOR EACH ROW EXECUTE FUNCTION user_figures_refresh();

CREATE TRIGGER follows_figures_truncate AFTER TRUNCATE ON follows
    FOR EACH STATEMENT EXECUTE FUNCTION user_figures_truncate();
CREATE TRIGGER domain_ratings_figures_truncate AFTER TRUNCATE ON domain_ratings
    FOR EACH STATEMENT EXECUTE FUNCTION user_figures_truncate();
CREATE TRIGGER activity_days_figures_truncate AFTER TRUNCATE ON activity_days
    FOR EACH STATEMENT EXECUTE FUNCTION user_figures_truncate();
CREATE TRIGGER streak_freeze_days_figures_truncate AFTER TRUNCATE ON streak_freeze_days
    FOR EACH STATEMENT EXECUTE FUNCTION user_figures_truncate();
CREATE TRIGGER unlocked_titles_figures_truncate AFTER TRUNCATE ON unlocked_titles
    FOR EACH STATEMENT EXECUTE FUNCTION user_figures_truncate();

------------------------------------------------------------------------------------------------
-- 3c. Cache: ratings per rank bucket
------------------------------------------------------------------------------------------------

-- The rank is `1 +` the ratings strictly higher in the user's top domain (the domain's
-- `figures::rank`). Counting every higher rating costs thousands of index entries per read on
-- 10,000 users, so ratings fall into buckets of `rank_bucket` per domain, each knowing how many
-- ratings it holds (`users`) and how many lie in the domain's higher buckets (`above`): a rank is
-- one bucket row plus a count inside the user's own bucket. Writes of ratings in one domain take
-- a per-domain advisory lock, so a new bucket's `above` is computed while no other writer moves
-- ratings in that domain.

-- The bucket of a rating: the one place its width (10 points) is written; the reading statement
-- and the index use this function too.
CREATE FUNCTION rank_bucket(rating double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT floor(rating / 10) $$;

CREATE TABLE domain_rating_buckets (
    domain text             NOT NULL,
    bucket double precision NOT NULL, -- rank_bucket(rating)
    users  bigint           NOT NULL, -- ratings in this bucket
    above  bigint           NOT NULL, -- ratings in the domain's higher buckets
    CONSTRAINT domain_rating_buckets_pkey PRIMARY KEY (domain, bucket)
);

-- Counts inside one bucket: the ratings of a bucket above a given rating.
CREATE INDEX domain_ratings_bucket_idx ON domain_ratings (domain, rank_bucket(rating), rating);

-- Moves a rating between buckets under the lock of each domain involved, taken in name order.
CREATE FUNCTION domain_rating_buckets_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_domain text;
    old_bucket double precision;
    new_domain text;
    new_bucket double precision;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_domain := OLD.domain;
        old_bucket := rank_bucket(OLD.rating);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_domain := NEW.domain;
        new_bucket := rank_bucket(NEW.rating);
    END IF;
    IF old_domain = new_domain AND old_bucket = new_bucket THEN
        RETURN NULL;
    END IF;
    -- 0x49414d52 ("IAMR"): the advisory lock class of rank buckets.
    PERFORM pg_advisory_xact_lock(1229016402, hashtext(least(old_domain, new_domain)));
    PERFORM pg_advisory_xact_lock(1229016402, hashtext(greatest(old_domain, new_domain)));
    IF old_domain IS NOT NULL THEN
        UPDATE domain_rating_buckets SET users = users - 1
        WHERE domain = old_domain AND bucket = old_bucket;
        DELETE FROM domain_rating_buckets
        WHERE domain = old_domain AND bucket = old_bucket AND users = 0;
        UPDATE domain_rating_buckets SET above = above - 1
        WHERE domain = old_domain AND bucket < old_bucket;
    END IF;
    IF new_domain IS NOT NULL THEN
        INSERT INTO domain_rating_buckets AS b (domain, bucket, users, above)
        VALUES (new_domain, new_bucket, 1,
                (SELECT coalesce(sum(h.users), 0) FROM domain_rating_buckets h
                 WHERE h.domain = new_domain AND h.bucket > new_bucket))
        ON CONFLICT (domain, bucket) DO UPDATE SET users = b.users + 1;
        UPDATE domain_rating_buckets SET above = above + 1
        WHERE domain = new_domain AND bucket < new_bucket;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION domain_rating_buckets_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM domain_rating_buckets;
    RETURN NULL;
END
$$;

CREATE TRIGGER domain_ratings_buckets
    AFTER INSERT OR UPDATE OF domain, rating OR DELETE ON domain_ratings
    FOR EACH ROW EXECUTE FUNCTION domain_rating_buckets_track();
CREATE TRIGGER domain_ratings_buckets_truncate AFTER TRUNCATE ON domain_ratings
    FOR EACH STATEMENT EXECUTE FUNCTION domain_rating_buckets_truncate();
