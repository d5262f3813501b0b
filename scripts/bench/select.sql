\set id random(1, :users)
SELECT * FROM user_details WHERE user_id = :id::text;
