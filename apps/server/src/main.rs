//! The iam-user-details server (placeholder until the server issue).
fn main() {}
