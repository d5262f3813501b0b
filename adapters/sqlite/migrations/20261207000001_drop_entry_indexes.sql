-- List writes without the link tables' `entry_id` indexes.
--
-- The third migration added an index on each link table's `entry_id`, so that a catalogue
-- edit finds the users whose cached entries (`user_details.list_entries`) it changes. But every
-- link a profile write changes moves its key in that index, at a place that depends on the entry,
-- not the user: a batch of list writes changes about one index page per link, and the index
-- grows with the users (on 100,000 users with four skills each, about 1,000 pages for
-- `user_skills` alone). Those pages were most of what a batch of list writes changed, copied
-- into the WAL and back into the file by each checkpoint.
--
-- Catalogue edits are rare (the service itself only adds names) and still correct without the
-- indexes: the catalogue triggers, and SQLite's foreign-key check when a catalogue entry is
-- deleted, scan the link table instead. On 100,000 users, deleting an entry no list holds takes
-- ~30 ms instead of none; renaming one that 16,000 users hold takes ~1 s with or without the
-- index (rebuilding their cached entries is the cost). Never edit a released migration: add a
-- new one.

DROP INDEX user_skills_entry_idx;
DROP INDEX user_investment_interests_entry_idx;
DROP INDEX user_technical_interests_entry_idx;
DROP INDEX user_focus_areas_entry_idx;
