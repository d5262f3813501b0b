-- The read-only figures of a user in one row, so that reading a profile is two primary-key lookups
-- and a rank, instead of eight index scans over the fact tables.
--
-- The fact tables stay the truth; triggers keep `user_figures` in step within the writing
-- transaction. Follow counts move by the change (`followers + 1`), which PostgreSQL re-applies to
-- the newest row version when writers race. Every other part is recomputed from its fact table
-- after locking the user's row: in READ COMMITTED each statement of a trigger function takes a
-- fresh snapshot, so the recomputation sees every transaction that held the lock before it.
--
-- The rank moves to 10-point buckets that also keep `above`, the number of ratings in the
-- domain's higher buckets: a rank is then one bucket row plus a count inside the user's bucket.
-- Writes of ratings in one domain take a per-domain advisory lock, so a new bucket's `above` is
-- computed while no other writer moves ratings in that domain.

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

INSERT INTO user_figures (user_id, followers, following, top_domain, top_rating, activity_days,
                          freeze_days, titles, title_times)
SELECT u.user_id,
       (SELECT count(*) FROM follows f WHERE f.followee_id = u.user_id),
       (SELECT count(*) FROM follows f WHERE f.follower_id = u.user_id),
       top.domain, top.rating,
       ARRAY(SELECT a.day FROM activity_days a WHERE a.user_id = u.user_id),
       ARRAY(SELECT z.day FROM streak_freeze_days z WHERE z.user_id = u.user_id),
       ARRAY(SELECT t.title FROM unlocked_titles t WHERE t.user_id = u.user_id
             ORDER BY t.unlocked_at, t.title COLLATE "C"),
       ARRAY(SELECT t.unlocked_at FROM unlocked_titles t WHERE t.user_id = u.user_id
             ORDER BY t.unlocked_at, t.title COLLATE "C")
FROM (SELECT follower_id FROM follows UNION SELECT followee_id FROM follows
      UNION SELECT user_id FROM domain_ratings UNION SELECT user_id FROM activity_days
      UNION SELECT user_id FROM streak_freeze_days UNION SELECT user_id FROM unlocked_titles)
     AS u(user_id)
LEFT JOIN LATERAL (SELECT r.domain, r.rating FROM domain_ratings r WHERE r.user_id = u.user_id
                   ORDER BY r.rating DESC, r.domain COLLATE "C" LIMIT 1) top ON true;

-- The rank, rebuilt on 10-point buckets that know how many ratings lie above them.
DROP TRIGGER domain_ratings_buckets ON domain_ratings;
DROP FUNCTION domain_rating_buckets_track();
DROP TABLE domain_rating_buckets;
DROP INDEX domain_ratings_bucket_idx;
DROP INDEX domain_ratings_rank_idx;

CREATE TABLE domain_rating_buckets (
    domain text             NOT NULL,
    bucket double precision NOT NULL, -- floor(rating / 10)
    users  bigint           NOT NULL, -- ratings in this bucket
    above  bigint           NOT NULL, -- ratings in the domain's higher buckets
    CONSTRAINT domain_rating_buckets_pkey PRIMARY KEY (domain, bucket)
);

-- Counts inside one bucket: the users of a bucket rated above a given rating.
CREATE INDEX domain_ratings_bucket_idx ON domain_ratings (domain, (floor(rating / 10)), rating);

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
        old_bucket := floor(OLD.rating / 10);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_domain := NEW.domain;
        new_bucket := floor(NEW.rating / 10);
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

INSERT INTO domain_rating_buckets (domain, bucket, users, above)
SELECT domain, bucket, users,
       coalesce(sum(users) OVER (PARTITION BY domain ORDER BY bucket DESC
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
FROM (SELECT domain, floor(rating / 10) AS bucket, count(*) AS users
      FROM domain_ratings GROUP BY 1, 2) AS b;
