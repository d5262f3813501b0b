-- A user's four lists with their catalogue entries, kept in the row, so that reading a profile
-- needs no join against the link and catalogue tables. The link tables stay the truth (catalogue
-- queries use them); `list_entries` is rebuilt from them by `user_list_entries` in the same
-- transaction as every list write, and by a trigger when a catalogue entry is renamed or its
-- description changes. Shape: {"skills": [[id, name, description], …], "investment_interests": …,
-- "technical_interests": …, "focus_area": …}, each in the user's order.

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

ALTER TABLE user_details ADD COLUMN list_entries jsonb NOT NULL
    DEFAULT '{"skills": [], "investment_interests": [], "technical_interests": [], "focus_area": []}';

UPDATE user_details SET list_entries = user_list_entries(user_id);

-- Lookups of the users linked to a catalogue entry, for the refresh below.
CREATE INDEX user_skills_entry_idx ON user_skills (entry_id);
CREATE INDEX user_technical_interests_entry_idx ON user_technical_interests (entry_id);
CREATE INDEX user_investment_interests_entry_idx ON user_investment_interests (entry_id);
CREATE INDEX user_focus_areas_entry_idx ON user_focus_areas (entry_id);

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
