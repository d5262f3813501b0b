\set id random(1, :users)
\set n random(1, 1000000000)
UPDATE user_details SET bio = 'pgbench ' || :n, version = version + 1 WHERE user_id = :id::text;
