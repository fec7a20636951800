//! The audit key: a secret kept outside the database that marks every audit entry, so that
//! someone who can write to the database but cannot read this file cannot rewrite the chain.
//!
//! The SHA-256 chain of [`crate::audit`] finds an edited entry only if the editor did not
//! recompute the hashes after it; anyone with database access can. Each entry therefore also
//! carries `mac = HMAC-SHA256(key, hash)` (lowercase hex, over the 64 hex characters of the
//! entry's hash, which covers its content and the whole chain before it). Without the key a
//! rewritten chain cannot be given valid marks.
//!
//! The key file is text, created once with mode 0600 and never overwritten:
//!
//! ```text
//! # minyi audit key …
//! key <64 hex characters: 32 random bytes>
//! first-entry <id of the first entry marked with this key>
//! ```
//!
//! `first-entry` records, outside the database, where marking began: entries before it were
//! written before the key existed and are reported as unkeyed; from it on every entry must
//! carry a valid mark (otherwise removing the marks would pass for an old database).
//!
//! Where it lives: `--audit-key-file` / `MINYI_AUDIT_KEY_FILE` if given; otherwise, for
//! SQLite, `<database file>.audit-key` next to the database; for PostgreSQL,
//! `$XDG_DATA_HOME/minyi/<database name>.audit-key` (`~/.local/share/minyi/…`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

type HmacSha256 = Hmac<Sha256>;

/// A loaded audit key. `Debug` never prints the secret.
#[derive(Clone)]
pub struct AuditKey {
    /// HMAC-SHA256 keyed with the secret, cloned for each mark.
    hmac: HmacSha256,
    first_entry: i64,
    path: PathBuf,
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditKey")
            .field("key", &"[redacted]")
            .field("first_entry", &self.first_entry)
            .field("path", &self.path)
            .finish()
    }
}

/// Why the key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the audit key file {0} does not exist")]
    Missing(PathBuf),
    #[error("cannot read the audit key file {0}: {1}")]
    Unreadable(PathBuf, std::io::Error),
    #[error("cannot create the audit key file {0}: {1}")]
    Create(PathBuf, std::io::Error),
    #[error("the audit key file {0} is not a minyi audit key: {1}")]
    Malformed(PathBuf, String),
}

impl AuditKey {
    /// Reads an existing key file.
    pub fn load(path: &Path) -> Result<AuditKey, KeyError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing(path.to_path_buf()));
            }
            Err(e) => return Err(KeyError::Unreadable(path.to_path_buf(), e)),
        };
        let (secret, first_entry) =
            Self::parse(&text).map_err(|why| KeyError::Malformed(path.to_path_buf(), why))?;
        Self::from_secret(&secret, first_entry, path)
    }

    fn from_secret(secret: &[u8], first_entry: i64, path: &Path) -> Result<AuditKey, KeyError> {
        let hmac = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .map_err(|e| KeyError::Malformed(path.to_path_buf(), e.to_string()))?;
        Ok(AuditKey {
            hmac,
            first_entry,
            path: path.to_path_buf(),
        })
    }

    fn parse(text: &str) -> Result<([u8; 32], i64), String> {
        let mut secret = None;
        let mut first = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(' ') {
                Some(("key", hex_key)) => {
                    let mut bytes = [0u8; 32];
                    hex::decode_to_slice(hex_key.trim(), &mut bytes).map_err(|_| {
                        format!("line {}: the key is not 64 hexadecimal characters", n + 1)
                    })?;
                    secret = Some(bytes);
                }
                Some(("first-entry", id)) => {
                    let id: i64 = id
                        .trim()
                        .parse()
                        .ok()
                        .filter(|id| *id >= 1)
                        .ok_or_else(|| format!("line {}: first-entry is not an entry id", n + 1))?;
                    first = Some(id);
                }
                _ => return Err(format!("line {}: unexpected {line:?}", n + 1)),
            }
        }
        match (secret, first) {
            (Some(s), Some(f)) => Ok((s, f)),
            (None, _) => Err("no `key` line".into()),
            (_, None) => Err("no `first-entry` line".into()),
        }
    }

    /// Creates a new key file (never replacing one) with 32 random bytes, marking entries
    /// from `first_entry` on. The file is written and synced before the key is used, so no
    /// entry is ever marked with a key that is not on disk. It appears whole or not at all
    /// (written under a temporary name, then hard-linked, which fails if the name exists):
    /// a crash or a second process starting at the same moment never leaves a half-written
    /// key, and the second process reads the first one's.
    pub fn create(path: &Path, first_entry: i64) -> Result<AuditKey, KeyError> {
        let fail = |e| KeyError::Create(path.to_path_buf(), e);
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| fail(std::io::Error::other(format!("random generator: {e}"))))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut temp_name = path.as_os_str().to_owned();
        temp_name.push(format!(".new-{}", &crate::secrets::random_token()[..12]));
        let temp = PathBuf::from(temp_name);
        let mut file = crate::files::create_new_private(&temp).map_err(fail)?;
        let text = format!(
            "# minyi audit key: marks every audit entry (HMAC-SHA256) so that the chain cannot be\n\
             # rewritten by someone who can only write to the database. Keep it out of the\n\
             # database administrators' reach, back it up apart from the database, never edit it.\n\
             key {}\nfirst-entry {first_entry}\n",
            hex::encode(secret)
        );
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::hard_link(&temp, path));
        // The temporary name goes whatever happened; the key, if linked, stays under `path`.
        let _ = std::fs::remove_file(&temp);
        written.map_err(fail)?;
        Self::from_secret(&secret, first_entry, path)
    }

    /// The mark of an entry with hash `hash`: HMAC-SHA256 in lowercase hex.
    pub fn mark(&self, hash: &str) -> String {
        let mut m = self.hmac.clone();
        m.update(hash.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// Whether `mark` is the mark of `hash` (compared in constant time).
    pub fn check(&self, hash: &str, mark: &str) -> bool {
        let Ok(bytes) = hex::decode(mark) else {
            return false;
        };
        let mut m = self.hmac.clone();
        m.update(hash.as_bytes());
        m.verify_slice(&bytes).is_ok()
    }

    /// A key for another purpose, derived from this one: HMAC-SHA256 of `label`. Every
    /// server sharing the audit key derives the same one; nothing derived reveals the key.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let mut m = self.hmac.clone();
        m.update(b"minyi derived key\n");
        m.update(label.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// The first entry marked with this key.
    pub fn first_entry(&self) -> i64 {
        self.first_entry
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The key file named on the command line or in the environment, for this process.
static KEY_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Names the key file for every database this process opens (`--audit-key-file`,
/// `MINYI_AUDIT_KEY_FILE`). The first call wins.
pub fn set_key_file(path: &Path) {
    let _ = KEY_FILE.set(path.to_path_buf());
}

/// The key file named by [`set_key_file`], if any.
pub fn configured_key_file() -> Option<&'static Path> {
    KEY_FILE.get().map(PathBuf::as_path)
}

/// The default key file of a PostgreSQL database: `$XDG_DATA_HOME/minyi/<name>.audit-key`,
/// or `~/.local/share/minyi/<name>.audit-key`, or `./<name>.audit-key` without a home.
pub fn postgres_default(database: &str) -> PathBuf {
    let name = format!("{database}.audit-key");
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        });
    match data {
        Some(d) => d.join("minyi").join(name),
        None => PathBuf::from(name),
    }
}

/// Keys loaded by this process, by file: read once, and one key per file even when two
/// tasks first need it at the same moment.
static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<AuditKey>>>> = OnceLock::new();

/// The key in `path`, creating the file (marking from `next_entry` on) if it does not exist.
pub fn load_or_create(path: &Path, next_entry: i64) -> Result<Arc<AuditKey>, KeyError> {
    let mut loaded = LOADED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(k) = loaded.get(path) {
        return Ok(k.clone());
    }
    let key = match AuditKey::load(path) {
        Ok(k) => k,
        Err(KeyError::Missing(_)) => match AuditKey::create(path, next_entry) {
            Ok(k) => k,
            // Another process made it first: use that one.
            Err(KeyError::Create(_, e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                AuditKey::load(path)?
            }
            Err(e) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let key = Arc::new(key);
    loaded.insert(path.to_path_buf(), key.clone());
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_reads_back_and_marks_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.audit-key");
        let made = AuditKey::create(&path, 7).unwrap();
        let read = AuditKey::load(&path).unwrap();
        assert_eq!(read.first_entry(), 7);
        let mark = made.mark("abc");
        assert_eq!(mark.len(), 64);
        assert!(read.check("abc", &mark));
        assert!(!read.check("abd", &mark));
        assert!(!read.check("abc", "zz"));
        let text = std::fs::read_to_string(&path).unwrap();
        let secret = text.lines().find_map(|l| l.strip_prefix("key ")).unwrap();
        assert_eq!(secret.len(), 64);
        assert!(!format!("{read:?}").contains(secret));
        // Never overwritten, and no temporary file left behind.
        assert!(AuditKey::create(&path, 1).is_err());
        assert_eq!(AuditKey::load(&path).unwrap().first_entry(), 7);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_mark_is_rfc_2104_hmac_sha256() {
        // python3: hmac.new(bytes(range(32)), b"abc", "sha256").hexdigest()
        let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
        let key = AuditKey::from_secret(&secret, 1, Path::new("k")).unwrap();
        assert_eq!(
            key.mark("abc"),
            "f0133729c4163dede81e21cd47839256da58171238c8a0d874397c73b14e1e47"
        );
    }

    #[test]
    fn a_damaged_key_file_is_named() {
        for bad in ["", "key 12\nfirst-entry 1\n", "first-entry 1\n", "key x\n"] {
            assert!(AuditKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
