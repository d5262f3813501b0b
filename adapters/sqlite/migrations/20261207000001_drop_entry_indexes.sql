-- List writes without the link tables' `entry_id` indexes.
--
-- The third migration added an index on each link table's `entry_id`, so that a catalogue
-- edit finds the users whose cached entries (`user_details.list_entries`) it changes. But every
-- link a profile write changes moves its key in that index, at a place that depends on the entry,
-- not the user: a batch of list writes changes up to one index page per changed link, and the
-- index grows with the users (`user_skills_entry_idx` held 103 pages on the benchmark's 10,000
-- users with four skills each, 1,128 on 100,000). Those pages were most of what a batch of list
-- writes changed (about two thirds of the bytes it wrote on 100,000 users), copied into the WAL
-- and back into the file by each checkpoint.
--
-- Catalogue edits are rare (the service itself only adds names) and still correct without the
-- indexes: the catalogue triggers, and SQLite's foreign-key check when a catalogue entry is
-- deleted, scan the link table instead. On 100,000 users, deleting an entry no list holds took
-- ~30 ms instead of none; describing anew one that ~16,000 users hold took 0.4-1.1 s with the
-- index and 0.65-1.0 s without (rebuilding their cached entries is most of it). Never edit a
-- released migration: add a new one.

DROP INDEX user_skills_entry_idx;
DROP INDEX user_investment_interests_entry_idx;
DROP INDEX user_technical_interests_entry_idx;
DROP INDEX user_focus_areas_entry_idx;
