//! Files that hold personal data — the database and its `-wal`/`-shm`, backups, exported
//! rosters and ranked lists — are readable and writable by their owner only (mode 0600),
//! whatever the process's umask: a permissive umask must not make phone numbers readable
//! by every account on the machine. On other systems than Unix the defaults apply.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of every private file.
#[cfg(unix)]
pub const PRIVATE_MODE: u32 = 0o600;

/// Create `path` (truncating it if it exists) as a private file.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_MODE);
    }
    let file = options.open(path)?;
    restrict_file(&file)?;
    Ok(file)
}

/// Create `path` as a new, empty private file; an error if it exists.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_MODE);
    }
    let file = options.open(path)?;
    restrict_file(&file)?;
    Ok(file)
}

/// Write `bytes` to `path` as a private file.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = create_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Make an existing file private (the umask may have narrowed the mode at creation, never
/// widened it, but a file made by an older version may be readable by others). Nothing
/// happens if it does not exist.
///
/// It works on the path and never opens the file: closing any descriptor of a file drops
/// every POSIX lock the process holds on it, and SQLite's locks on an open database and its
/// `-shm` would go with it (another process could then truncate the shared memory under
/// this one's feet).
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(meta) if meta.permissions().mode() & 0o777 != PRIVATE_MODE => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_MODE))
            }
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(unix)]
fn restrict_file(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if file.metadata()?.permissions().mode() & 0o777 != PRIVATE_MODE {
        file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_MODE))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_file(_file: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_for_their_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        write_private(&a, b"13800138000\n").unwrap();
        assert_eq!(mode(&a), 0o600);
        let b = dir.path().join("b.db");
        std::fs::write(&b, b"").unwrap();
        std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict(&b).unwrap();
        assert_eq!(mode(&b), 0o600);
        restrict(&dir.path().join("missing")).unwrap();
        assert!(
            create_new_private(&b).is_err(),
            "an existing file is not reused"
        );
    }
}
