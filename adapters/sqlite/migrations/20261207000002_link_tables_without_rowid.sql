-- The four link tables as `WITHOUT ROWID` tables: each one B-tree keyed by its primary key
-- (user_id, position), so that a user's links lie together in one leaf page.
--
-- Before, each was a rowid table with its primary key as a separate index: a link written or
-- deleted changed a page of each, and the link triggers' rebuild of a user's cached entries
-- looked each link up in the index, then in the table. The rows are three small values, so
-- they fit the index pages whole. On the benchmark's files (four skills per user), with the same
-- server: `user_skills` took 134 pages instead of 148 for the table and 147 for its index on
-- 10,000 users, and a PATCH of skills read 61-65 KiB instead of 83-91 and wrote 16-17 KiB
-- instead of 21-25 (the WAL and checkpoint copies) on 100,000 users (32 instead of 46-48, and 15
-- instead of 20-21, on 10,000).
--
-- SQLite cannot change a table's kind in place: each table is built anew, its rows copied, the
-- old one dropped and the new one given its name. Nothing references a link table, so dropping
-- one checks no foreign key. The triggers that name a link table are dropped first and created
-- again as the third migration wrote them: a link table's own (dropped with it anyway) and the
-- catalogues' (the rename checks every trigger of the schema, and theirs would name a table that
-- no longer exists). Never edit a released migration: add a new one.

DROP TRIGGER developer_skills_entries_update;
DROP TRIGGER investment_interests_entries_update;
DROP TRIGGER tags_entries_update;

CREATE TABLE user_skills_new (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES developer_skills (id),
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
INSERT INTO user_skills_new (user_id, position, entry_id)
    SELECT user_id, position, entry_id FROM user_skills;
DROP TABLE user_skills;
ALTER TABLE user_skills_new RENAME TO user_skills;

CREATE TABLE user_investment_interests_new (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES investment_interests (id),
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
INSERT INTO user_investment_interests_new (user_id, position, entry_id)
    SELECT user_id, position, entry_id FROM user_investment_interests;
DROP TABLE user_investment_interests;
ALTER TABLE user_investment_interests_new RENAME TO user_investment_interests;

CREATE TABLE user_technical_interests_new (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES developer_skills (id),
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
INSERT INTO user_technical_interests_new (user_id, position, entry_id)
    SELECT user_id, position, entry_id FROM user_technical_interests;
DROP TABLE user_technical_interests;
ALTER TABLE user_technical_interests_new RENAME TO user_technical_interests;

CREATE TABLE user_focus_areas_new (
    user_id  TEXT    NOT NULL REFERENCES user_details (user_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES tags (id),
    PRIMARY KEY (user_id, position)
) WITHOUT ROWID;
INSERT INTO user_focus_areas_new (user_id, position, entry_id)
    SELECT user_id, position, entry_id FROM user_focus_areas;
DROP TABLE user_focus_areas;
ALTER TABLE user_focus_areas_new RENAME TO user_focus_areas;

-- The triggers, unchanged.

-- user_skills: list 0.
CREATE TRIGGER user_skills_entries_insert AFTER INSERT ON user_skills
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[0]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_skills l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER user_skills_entries_delete AFTER DELETE ON user_skills
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[0]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_skills l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER user_skills_entries_update AFTER UPDATE ON user_skills
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[0]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_skills l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

-- user_investment_interests: list 1.
CREATE TRIGGER user_investment_interests_entries_insert AFTER INSERT ON user_investment_interests
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[1]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_investment_interests l JOIN investment_interests c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER user_investment_interests_entries_delete AFTER DELETE ON user_investment_interests
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[1]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_investment_interests l JOIN investment_interests c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER user_investment_interests_entries_update AFTER UPDATE ON user_investment_interests
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[1]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_investment_interests l JOIN investment_interests c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

-- user_technical_interests: list 2.
CREATE TRIGGER user_technical_interests_entries_insert AFTER INSERT ON user_technical_interests
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[2]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_technical_interests l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER user_technical_interests_entries_delete AFTER DELETE ON user_technical_interests
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[2]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_technical_interests l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER user_technical_interests_entries_update AFTER UPDATE ON user_technical_interests
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[2]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_technical_interests l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

-- user_focus_areas: list 3.
CREATE TRIGGER user_focus_areas_entries_insert AFTER INSERT ON user_focus_areas
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[3]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_focus_areas l JOIN tags c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER user_focus_areas_entries_delete AFTER DELETE ON user_focus_areas
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[3]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_focus_areas l JOIN tags c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER user_focus_areas_entries_update AFTER UPDATE ON user_focus_areas
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[3]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_focus_areas l JOIN tags c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

-- An entry of developer_skills renamed or described anew: the lists that hold it.
CREATE TRIGGER developer_skills_entries_update AFTER UPDATE OF name, description ON developer_skills
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[0]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_skills l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (SELECT user_id FROM user_skills WHERE entry_id = NEW.id);
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[2]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_technical_interests l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (SELECT user_id FROM user_technical_interests WHERE entry_id = NEW.id);
END;

-- An entry of investment_interests renamed or described anew: the lists that hold it.
CREATE TRIGGER investment_interests_entries_update AFTER UPDATE OF name, description ON investment_interests
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[1]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_investment_interests l JOIN investment_interests c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (SELECT user_id FROM user_investment_interests WHERE entry_id = NEW.id);
END;

-- An entry of tags renamed or described anew: the lists that hold it.
CREATE TRIGGER tags_entries_update AFTER UPDATE OF name, description ON tags
BEGIN
    UPDATE user_details SET list_entries = json_replace(list_entries, '$[3]',
        json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_focus_areas l JOIN tags c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)))
    WHERE user_id IN (SELECT user_id FROM user_focus_areas WHERE entry_id = NEW.id);
END;
