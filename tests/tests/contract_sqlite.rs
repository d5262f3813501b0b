//! The repository contract on SQLite: a fresh file per test.
iam_tests::contract_suite!(iam_tests::stores::sqlite);
