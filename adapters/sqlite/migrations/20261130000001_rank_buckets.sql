-- Ranks without counting every higher rating.
--
-- The rank is `1 +` the ratings strictly higher in the user's top domain (the domain's
-- `figures::rank`). Counting them scans thousands of index entries per read on 10,000 users, and
-- ten times more on 100,000, so ratings fall into buckets per domain, each knowing how many
-- ratings it holds (`users`) and how many lie in the domain's higher buckets (`above`): a rank is
-- one bucket row plus a count inside the rating's own bucket. This is the PostgreSQL store's
-- design; SQLite has one writer at a time, so the triggers need no locks. (A trigger adds a
-- missing bucket with `WHERE NOT EXISTS`, not `INSERT OR IGNORE`: the conflict clause of the
-- statement that fired it, an upsert, would override the trigger's.)

-- The bucket of a rating: the one place its width (10 points) is written. Any non-decreasing
-- function of the rating gives exact ranks; this one truncates towards zero.
ALTER TABLE domain_ratings ADD COLUMN bucket INTEGER
    GENERATED ALWAYS AS (CAST(rating / 10 AS INTEGER)) VIRTUAL;

-- Counts inside one bucket: the ratings of a bucket above a given rating.
CREATE INDEX domain_ratings_bucket_idx ON domain_ratings (domain, bucket, rating);

CREATE TABLE domain_rating_buckets (
    domain TEXT    NOT NULL,
    bucket INTEGER NOT NULL, -- domain_ratings.bucket
    users  INTEGER NOT NULL, -- ratings in this bucket
    above  INTEGER NOT NULL, -- ratings in the domain's higher buckets
    PRIMARY KEY (domain, bucket)
) WITHOUT ROWID;

INSERT INTO domain_rating_buckets (domain, bucket, users, above)
    SELECT domain, bucket, count(*), 0 FROM domain_ratings GROUP BY domain, bucket;
UPDATE domain_rating_buckets SET above = (
    SELECT coalesce(sum(h.users), 0) FROM domain_rating_buckets h
    WHERE h.domain = domain_rating_buckets.domain AND h.bucket > domain_rating_buckets.bucket
);

-- A rating enters its bucket: one more there, one more above every lower bucket of its domain.
CREATE TRIGGER domain_ratings_bucket_insert AFTER INSERT ON domain_ratings
BEGIN
    INSERT INTO domain_rating_buckets (domain, bucket, users, above)
    SELECT NEW.domain, NEW.bucket, 0,
           (SELECT coalesce(sum(h.users), 0) FROM domain_rating_buckets h
            WHERE h.domain = NEW.domain AND h.bucket > NEW.bucket)
    WHERE NOT EXISTS (SELECT 1 FROM domain_rating_buckets
                      WHERE domain = NEW.domain AND bucket = NEW.bucket);
    UPDATE domain_rating_buckets SET users = users + 1
    WHERE domain = NEW.domain AND bucket = NEW.bucket;
    UPDATE domain_rating_buckets SET above = above + 1
    WHERE domain = NEW.domain AND bucket < NEW.bucket;
END;

-- A rating leaves its bucket: the reverse; an empty bucket is removed.
CREATE TRIGGER domain_ratings_bucket_delete AFTER DELETE ON domain_ratings
BEGIN
    UPDATE domain_rating_buckets SET users = users - 1
    WHERE domain = OLD.domain AND bucket = OLD.bucket;
    DELETE FROM domain_rating_buckets
    WHERE domain = OLD.domain AND bucket = OLD.bucket AND users = 0;
    UPDATE domain_rating_buckets SET above = above - 1
    WHERE domain = OLD.domain AND bucket < OLD.bucket;
END;

-- A rating that moves to another bucket (or domain) leaves the old one and enters the new one.
CREATE TRIGGER domain_ratings_bucket_update AFTER UPDATE OF domain, rating ON domain_ratings
WHEN OLD.domain <> NEW.domain OR OLD.bucket <> NEW.bucket
BEGIN
    UPDATE domain_rating_buckets SET users = users - 1
    WHERE domain = OLD.domain AND bucket = OLD.bucket;
    DELETE FROM domain_rating_buckets
    WHERE domain = OLD.domain AND bucket = OLD.bucket AND users = 0;
    UPDATE domain_rating_buckets SET above = above - 1
    WHERE domain = OLD.domain AND bucket < OLD.bucket;
    INSERT INTO domain_rating_buckets (domain, bucket, users, above)
    SELECT NEW.domain, NEW.bucket, 0,
           (SELECT coalesce(sum(h.users), 0) FROM domain_rating_buckets h
            WHERE h.domain = NEW.domain AND h.bucket > NEW.bucket)
    WHERE NOT EXISTS (SELECT 1 FROM domain_rating_buckets
                      WHERE domain = NEW.domain AND bucket = NEW.bucket);
    UPDATE domain_rating_buckets SET users = users + 1
    WHERE domain = NEW.domain AND bucket = NEW.bucket;
    UPDATE domain_rating_buckets SET above = above + 1
    WHERE domain = NEW.domain AND bucket < NEW.bucket;
END;

-- The plain (domain, rating) index served the old count and is no longer read.
DROP INDEX domain_ratings_rank_idx;
