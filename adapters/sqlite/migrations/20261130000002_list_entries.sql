-- Each row's list entries, cached in the row, so that reading a profile does not join the four
-- link tables to their catalogues (PostgreSQL's `list_entries`, kept here by triggers instead).
-- `list_entries` holds one JSON array per list, in the order of `List::ALL` (skills, investment
-- interests, technical interests, focus areas), of `[position, id, name, description]` entries,
-- which the adapter puts in position order (an `ORDER BY` inside the aggregate would make the
-- schema unreadable to SQLite before 3.44, such as the command-line shell of Debian 12).
-- Triggers on the link tables rebuild a user's list after every row written, and triggers on the
-- catalogues rebuild the lists that hold an entry whose name or description changes, so the
-- cache never disagrees with the tables, whoever writes them.
-- Never edit a released migration: add a new one.

ALTER TABLE user_details ADD COLUMN list_entries TEXT NOT NULL DEFAULT '[[],[],[],[]]';

-- The users whose cached entries a catalogue edit changes (as on PostgreSQL).
CREATE INDEX user_skills_entry_idx ON user_skills (entry_id);
CREATE INDEX user_investment_interests_entry_idx ON user_investment_interests (entry_id);
CREATE INDEX user_technical_interests_entry_idx ON user_technical_interests (entry_id);
CREATE INDEX user_focus_areas_entry_idx ON user_focus_areas (entry_id);

UPDATE user_details SET list_entries = json_array(
    json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_skills l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)),
    json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_investment_interests l JOIN investment_interests c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)),
    json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_technical_interests l JOIN developer_skills c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id)),
    json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description))
              FROM user_focus_areas l JOIN tags c ON c.id = l.entry_id
              WHERE l.user_id = user_details.user_id))
);

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
