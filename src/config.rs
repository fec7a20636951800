//! Settings of a running server, from flags and environment variables (see the README).

use std::fmt;

/// Everything `minyi serve` needs to know. `Debug` never prints the database password.
#[derive(Clone)]
pub struct Config {
    /// Where to listen, e.g. `127.0.0.1:8080`.
    pub bind: String,
    /// `sqlite://minyi.db` (default) or `postgres://…`.
    pub database_url: String,
    /// The address people reach the app at; survey links are built on it.
    pub base_url: String,
    /// Largest accepted upload body, in bytes.
    pub upload_limit: usize,
    /// Most data rows accepted in one roster file.
    pub max_rows: u64,
    /// Where the questionnaire files are read from when a campaign's fieldwork starts
    /// (the copies built into the binary are used if this folder does not exist).
    pub forms_dir: std::path::PathBuf,
}

impl Config {
    /// Cookies get the `Secure` attribute when the app is reached over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://minyi.db".into(),
            base_url: "http://127.0.0.1:8080".into(),
            upload_limit: 20 * 1024 * 1024,
            max_rows: 1_000_000,
            forms_dir: "survey-forms".into(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("base_url", &self.base_url)
            .field("upload_limit", &self.upload_limit)
            .field("max_rows", &self.max_rows)
            .field("forms_dir", &self.forms_dir)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_never_appear_in_debug_output() {
        let c = Config {
            database_url: "postgres://minyi:hunter2@db/minyi".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://minyi:***@db/minyi"));
        assert_eq!(redact_url("sqlite://minyi.db"), "sqlite://minyi.db");
    }
}
