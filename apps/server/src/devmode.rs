//! The development mode: on the embedded store with no verification configured, the server makes
//! a secret (kept beside the database file, so tokens survive a restart), gives a demo user some
//! details, and prints a curl line that works as it is.

use std::io::Write as _;
use std::path::Path;

use secrecy::SecretString;

/// The demo user of the development mode.
pub const DEMO_USER: &str = "demo";

/// The file holding the development secret, in the database's folder.
pub const SECRET_FILE: &str = "dev-jwt-secret";

/// Reads the development secret in `dir`, for the `token` command: never makes one.
///
/// # Errors
/// When there is none yet, naming where it was looked for.
pub fn existing_secret(dir: &Path) -> anyhow::Result<SecretString> {
    let path = dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(SecretString::from(text.trim().to_owned())),
        _ => anyhow::bail!(
            "no development secret at {}: start `iam-server serve` with the same IAM_DATABASE_URL first (it makes one beside the database), or set IAM_JWT_SECRET",
            path.display()
        ),
    }
}

/// Reads the development secret in `dir`, creating it (readable by the owner only) when missing.
///
/// # Errors
/// When the file cannot be read or written.
pub fn secret(dir: &Path) -> std::io::Result<SecretString> {
    let path = dir.join(SECRET_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let text = text.trim();
        if !text.is_empty() {
            return Ok(SecretString::from(text.to_owned()));
        }
    }
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(dir)?;
    }
    let value = format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(value.as_bytes())?;
    Ok(SecretString::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_secret_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("iam-dev-{}", rand::random::<u64>()));
        let first = secret(&dir).unwrap();
        let second = secret(&dir).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(first.expose_secret().len(), 64);
        std::fs::remove_dir_all(dir).ok();
    }
}
