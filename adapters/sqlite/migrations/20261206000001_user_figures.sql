-- A user's figure facts in one row (PostgreSQL's `user_figures`, kept here by triggers too), so
-- that reading a profile is a primary-key lookup and a rank instead of seven scans over the
-- fact tables: the follow counts, the top rating (the domain's `figures::top_domain`: the highest
-- rating, ties to the domain name that sorts first in byte order, which is SQLite's BINARY
-- collation) with its rank bucket, and the days and titles as JSON arrays in no set order (the
-- domain takes them in any order). The fact tables stay the truth: follow counts move by the
-- change, every other part is recomputed from its table for each user a written row names (one
-- writer at a time, so nothing races). A row stays when its facts are gone, with empty parts.
-- The rank itself (ratings above the top one) is still counted at read time from the rank
-- buckets of the second migration, since any user's rating moves it.
-- The contract test `stored_facts_follow_the_domain_rules_on_random_facts` and the tests of
-- `tests/tests/contract_sqlite.rs` hold this cache to the facts. Never edit a released
-- migration: add a new one.

CREATE TABLE user_figures (
    user_id       TEXT    NOT NULL PRIMARY KEY,
    followers     INTEGER NOT NULL DEFAULT 0,
    following     INTEGER NOT NULL DEFAULT 0,
    top_domain    TEXT,
    top_rating    REAL,
    top_bucket    INTEGER, -- domain_ratings.bucket of the top rating
    activity_days TEXT    NOT NULL DEFAULT '[]',
    freeze_days   TEXT    NOT NULL DEFAULT '[]',
    titles        TEXT    NOT NULL DEFAULT '[]' -- [title, unlocked_at] pairs
) WITHOUT ROWID;

-- Where each part's rule is written once: a row inserted here names a user and a part
-- ('ratings', 'activity', 'freeze' or 'titles'), its trigger recomputes that part of the user's
-- row (adding the row first if missing) and removes it again, so the table is empty between
-- statements. The triggers of the fact tables below insert here.
CREATE TABLE user_figures_refresh (
    user_id TEXT NOT NULL,
    part    TEXT NOT NULL
);

-- `WHERE NOT EXISTS`, not `INSERT OR IGNORE`: the conflict clause of the statement that fired a
-- trigger (an upsert of a fact) overrides the trigger's own.
CREATE TRIGGER user_figures_refresh_insert AFTER INSERT ON user_figures_refresh
BEGIN
    INSERT INTO user_figures (user_id) SELECT NEW.user_id
        WHERE NOT EXISTS (SELECT 1 FROM user_figures WHERE user_id = NEW.user_id);
    UPDATE user_figures SET (top_domain, top_rating, top_bucket) =
        (SELECT r.domain, r.rating, r.bucket FROM domain_ratings r
         WHERE r.user_id = user_figures.user_id ORDER BY r.rating DESC, r.domain LIMIT 1)
    WHERE NEW.part = 'ratings' AND user_id = NEW.user_id;
    UPDATE user_figures SET activity_days =
        (SELECT json_group_array(a.day) FROM activity_days a WHERE a.user_id = user_figures.user_id)
    WHERE NEW.part = 'activity' AND user_id = NEW.user_id;
    UPDATE user_figures SET freeze_days =
        (SELECT json_group_array(z.day) FROM streak_freeze_days z
         WHERE z.user_id = user_figures.user_id)
    WHERE NEW.part = 'freeze' AND user_id = NEW.user_id;
    UPDATE user_figures SET titles =
        (SELECT json_group_array(json_array(t.title, t.unlocked_at)) FROM unlocked_titles t
         WHERE t.user_id = user_figures.user_id)
    WHERE NEW.part = 'titles' AND user_id = NEW.user_id;
    DELETE FROM user_figures_refresh WHERE rowid = NEW.rowid;
END;

-- The facts already stored: follow counts counted, every other part refreshed.
INSERT INTO user_figures (user_id, followers, following)
    SELECT u.id,
           (SELECT count(*) FROM follows WHERE followee_id = u.id),
           (SELECT count(*) FROM follows WHERE follower_id = u.id)
    FROM (SELECT followee_id AS id FROM follows UNION SELECT follower_id FROM follows) u;
INSERT INTO user_figures_refresh (user_id, part)
    SELECT DISTINCT user_id, 'ratings' FROM domain_ratings
    UNION ALL SELECT DISTINCT user_id, 'activity' FROM activity_days
    UNION ALL SELECT DISTINCT user_id, 'freeze' FROM streak_freeze_days
    UNION ALL SELECT DISTINCT user_id, 'titles' FROM unlocked_titles;

-- Follows: counts move by the change.
CREATE TRIGGER follows_figures_insert AFTER INSERT ON follows
BEGIN
    INSERT INTO user_figures (user_id)
        SELECT u.id FROM (SELECT NEW.followee_id AS id UNION SELECT NEW.follower_id) u
        WHERE NOT EXISTS (SELECT 1 FROM user_figures f WHERE f.user_id = u.id);
    UPDATE user_figures SET followers = followers + 1 WHERE user_id = NEW.followee_id;
    UPDATE user_figures SET following = following + 1 WHERE user_id = NEW.follower_id;
END;
CREATE TRIGGER follows_figures_delete AFTER DELETE ON follows
BEGIN
    UPDATE user_figures SET followers = followers - 1 WHERE user_id = OLD.followee_id;
    UPDATE user_figures SET following = following - 1 WHERE user_id = OLD.follower_id;
END;
CREATE TRIGGER follows_figures_update AFTER UPDATE OF follower_id, followee_id ON follows
BEGIN
    UPDATE user_figures SET followers = followers - 1 WHERE user_id = OLD.followee_id;
    UPDATE user_figures SET following = following - 1 WHERE user_id = OLD.follower_id;
    INSERT INTO user_figures (user_id)
        SELECT u.id FROM (SELECT NEW.followee_id AS id UNION SELECT NEW.follower_id) u
        WHERE NOT EXISTS (SELECT 1 FROM user_figures f WHERE f.user_id = u.id);
    UPDATE user_figures SET followers = followers + 1 WHERE user_id = NEW.followee_id;
    UPDATE user_figures SET following = following + 1 WHERE user_id = NEW.follower_id;
END;

-- Every other fact: the part of each user a written row names, refreshed (an update that keeps
-- the user, such as a rating upsert, refreshes it once).
CREATE TRIGGER domain_ratings_figures_insert AFTER INSERT ON domain_ratings
BEGIN INSERT INTO user_figures_refresh VALUES (NEW.user_id, 'ratings'); END;
CREATE TRIGGER domain_ratings_figures_delete AFTER DELETE ON domain_ratings
BEGIN INSERT INTO user_figures_refresh VALUES (OLD.user_id, 'ratings'); END;
CREATE TRIGGER domain_ratings_figures_update AFTER UPDATE ON domain_ratings
BEGIN INSERT INTO user_figures_refresh SELECT OLD.user_id, 'ratings' UNION SELECT NEW.user_id, 'ratings'; END;

CREATE TRIGGER activity_days_figures_insert AFTER INSERT ON activity_days
BEGIN INSERT INTO user_figures_refresh VALUES (NEW.user_id, 'activity'); END;
CREATE TRIGGER activity_days_figures_delete AFTER DELETE ON activity_days
BEGIN INSERT INTO user_figures_refresh VALUES (OLD.user_id, 'activity'); END;
CREATE TRIGGER activity_days_figures_update AFTER UPDATE ON activity_days
BEGIN INSERT INTO user_figures_refresh SELECT OLD.user_id, 'activity' UNION SELECT NEW.user_id, 'activity'; END;

CREATE TRIGGER streak_freeze_days_figures_insert AFTER INSERT ON streak_freeze_days
BEGIN INSERT INTO user_figures_refresh VALUES (NEW.user_id, 'freeze'); END;
CREATE TRIGGER streak_freeze_days_figures_delete AFTER DELETE ON streak_freeze_days
BEGIN INSERT INTO user_figures_refresh VALUES (OLD.user_id, 'freeze'); END;
CREATE TRIGGER streak_freeze_days_figures_update AFTER UPDATE ON streak_freeze_days
BEGIN INSERT INTO user_figures_refresh SELECT OLD.user_id, 'freeze' UNION SELECT NEW.user_id, 'freeze'; END;

CREATE TRIGGER unlocked_titles_figures_insert AFTER INSERT ON unlocked_titles
BEGIN INSERT INTO user_figures_refresh VALUES (NEW.user_id, 'titles'); END;
CREATE TRIGGER unlocked_titles_figures_delete AFTER DELETE ON unlocked_titles
BEGIN INSERT INTO user_figures_refresh VALUES (OLD.user_id, 'titles'); END;
CREATE TRIGGER unlocked_titles_figures_update AFTER UPDATE ON unlocked_titles
BEGIN INSERT INTO user_figures_refresh SELECT OLD.user_id, 'titles' UNION SELECT NEW.user_id, 'titles'; END;
