//! Test files: an SQLite file in WAL mode, in a temporary folder of its own.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// A WAL-mode SQLite file in a new temporary folder, removed with the folder when dropped, so a
/// test that fails leaves nothing behind either. Derefs to the file's path.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// Creates the file (`name` tells the folders of the tests apart) and returns it with a
    /// connection to it in WAL mode, after running `setup` on that connection.
    pub(crate) fn wal(name: &str, setup: &str) -> (Self, Connection) {
        let dir = std::env::temp_dir().join(format!(
            "iam-sqlite-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = Self(dir.join("t.db"));
        let conn = Connection::open(&*file).unwrap();
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
        conn.execute_batch(setup).unwrap();
        (file, conn)
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
