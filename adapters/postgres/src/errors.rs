//! Translating sqlx errors into the ports' outcomes.

use iam_ports::Cause;

/// True when the error means the database cannot be reached now (network, pool exhausted, server
/// shutting down or refusing connections), as opposed to a fault in a query.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exception; class 28: the server refuses these credentials;
            // class 40: the transaction was rolled back to resolve a conflict with another
            // ([`is_rolled_back`]); 3D000: the database does not exist (yet); 57P01-03: shutting
            // down or not accepting connections; 53300: too many connections. Each clears without
            // a restart of ours.
            code.starts_with("08")
                || code.starts_with("28")
                || code.starts_with("40")
                || matches!(&*code, "3D000" | "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// True when the database rolled the transaction back to resolve a conflict with another one
/// (class 40: a deadlock or a serialization failure): nothing of it was applied, and the same work
/// may succeed when tried again.
pub fn is_rolled_back(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("40")),
        _ => false,
    }
}

/// The name of the constraint a database error broke, if any.
pub(crate) fn constraint(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

/// Sorts an error into `unavailable` or `unexpected`, through the two given constructors.
pub(crate) fn classify<E>(
    error: sqlx::Error,
    unavailable: impl FnOnce(Cause) -> E,
    unexpected: impl FnOnce(Cause) -> E,
) -> E {
    if is_unavailable(&error) {
        unavailable(Box::new(error))
    } else {
        unexpected(Box::new(error))
    }
}

/// A failed batched statement, shared by every job in its batch.
pub(crate) type BatchError = iam_batch::BatchError<sqlx::Error>;
