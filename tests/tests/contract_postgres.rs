//! The repository contract on PostgreSQL: a fresh database per test.
iam_tests::contract_suite!(iam_tests::stores::postgres);
