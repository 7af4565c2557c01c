//! Persistent secrets on disk: one JSON file per secret in a directory only
//! the user can read (0700, files 0600), each written to a temporary file and
//! renamed into place so a reader or a crash never sees half a secret.
//!
//! Like DuckDB's `local_file` storage, the values (SECRET included) are
//! stored in plain text, protected by the file permissions: as in DuckDB,
//! a file group or others can read is refused, not loaded.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SecretError};
use crate::params::Parameters;
use crate::secret::Secret;

/// File name suffix of a stored secret.
pub const SECRET_FILE_SUFFIX: &str = ".s3sql_secret";
const FORMAT: &str = "s3sql-secret";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StoredSecret {
    format: String,
    version: u32,
    name: String,
    parameters: Parameters,
}

/// The directory that holds persistent secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretDirectory {
    path: PathBuf,
}

/// What loading a directory found: the secrets, and the files that could
/// not be read (reported, never deleted or overwritten).
#[derive(Debug, Default)]
pub struct LoadedSecrets {
    /// Secrets read back whole.
    pub secrets: Vec<Secret>,
    /// One error per unreadable file, naming it.
    pub problems: Vec<SecretError>,
}

/// An XDG base directory variable's value (`XDG_CONFIG_HOME`,
/// `XDG_STATE_HOME`), when set and absolute: a relative one is ignored,
/// as XDG says, since it would put files in whatever directory s3sql runs in.
pub fn xdg_base_dir(variable: &str) -> Option<PathBuf> {
    std::env::var_os(variable)
        .filter(|v| Path::new(v).is_absolute())
        .map(PathBuf::from)
}

impl SecretDirectory {
    /// A directory at `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `$XDG_CONFIG_HOME/s3sql/stored_secrets`, else
    /// `$HOME/.config/s3sql/stored_secrets`; `None` when neither is set.
    /// A relative XDG_CONFIG_HOME is ignored, as XDG says: it would put the
    /// secrets in whatever directory s3sql runs in.
    pub fn default_location() -> Option<Self> {
        let base = xdg_base_dir("XDG_CONFIG_HOME").or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
        Some(Self::new(base.join("s3sql").join("stored_secrets")))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file that holds secret `name`.
    pub fn file_for(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}{SECRET_FILE_SUFFIX}"))
    }

    /// Reads every secret file. A missing directory holds no secrets.
    pub fn load(&self) -> LoadedSecrets {
        let mut loaded = LoadedSecrets::default();
        let paths = match files_with_suffix(&self.path, SECRET_FILE_SUFFIX) {
            Ok(paths) => paths,
            Err(problem) => {
                loaded.problems.push(problem);
                return loaded;
            }
        };
        for path in paths {
            match read_secret(&path) {
                Ok(secret) => loaded.secrets.push(secret),
                Err(problem) => loaded.problems.push(problem),
            }
        }
        loaded
    }

    /// Writes `secret` atomically, replacing an earlier version.
    pub fn write(&self, secret: &Secret) -> Result<()> {
        let stored = StoredSecret {
            format: FORMAT.to_owned(),
            version: VERSION,
            name: secret.name().to_owned(),
            parameters: secret.parameters().clone(),
        };
        let target = self.file_for(secret.name());
        let json = serde_json::to_vec_pretty(&stored).map_err(|e| SecretError::Storage {
            action: "encode",
            path: target.clone(),
            source: std::io::Error::other(e),
        })?;
        write_private(&self.path, &target, secret.name(), &json)
    }

    /// Deletes secret `name`'s file; a missing file is fine.
    pub fn remove(&self, name: &str) -> Result<()> {
        remove_if_present(&self.file_for(name))
    }
}

/// The files in `dir` whose names end in `suffix` (dot files left out),
/// sorted; a missing directory holds none.
pub(crate) fn files_with_suffix(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SecretError::Storage {
                action: "list",
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && n.ends_with(suffix))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// Writes `bytes` to `target` in `dir` (created 0700) as a 0600 file:
/// through a temporary file renamed into place, so a reader or a crash
/// never sees half of it. `stem` names the temporary file.
pub(crate) fn write_private(dir: &Path, target: &Path, stem: &str, bytes: &[u8]) -> Result<()> {
    let temp = write_temp(dir, stem, bytes)?;
    if let Err(source) = fs::rename(&temp, target) {
        let _ = fs::remove_file(&temp);
        return Err(storage("rename into place", target)(source));
    }
    sync_directory(dir);
    Ok(())
}

/// [`write_private`], but only if `target` is not there: the file is
/// linked into place, which fails when the name is taken, so of two
/// writers racing for one name exactly one wins. Whether this one did.
pub(crate) fn create_private(dir: &Path, target: &Path, stem: &str, bytes: &[u8]) -> Result<bool> {
    let temp = write_temp(dir, stem, bytes)?;
    let linked = fs::hard_link(&temp, target);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_directory(dir);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(storage("link into place", target)(source)),
    }
}

/// `bytes` in a new 0600 temporary file of `dir` (created 0700), synced.
fn write_temp(dir: &Path, stem: &str, bytes: &[u8]) -> Result<std::path::PathBuf> {
    create_private_directory(dir)?;
    let temp = dir.join(format!(
        ".{stem}.{}.{}.tmp",
        std::process::id(),
        next_temp_id()
    ));
    let written = (|| {
        let mut file = open_private(&temp).map_err(storage("create", &temp))?;
        file.write_all(bytes).map_err(storage("write", &temp))?;
        file.sync_all().map_err(storage("sync", &temp))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map(|()| temp)
}

/// Makes a rename or link in `dir` durable; failure to sync a directory is
/// not fatal.
fn sync_directory(dir: &Path) {
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Deletes `path`; a missing file is fine.
pub(crate) fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SecretError::Storage {
            action: "delete",
            path: path.to_owned(),
            source,
        }),
    }
}

fn create_private_directory(path: &Path) -> Result<()> {
    let storage = |source| SecretError::Storage {
        action: "create directory",
        path: path.to_owned(),
        source,
    };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(path).map_err(storage)?;
        // An existing directory may have been created looser: tighten it.
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(storage)
    }
    #[cfg(not(unix))]
    builder.create(path).map_err(storage)
}

fn storage(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SecretError {
    let path = path.to_owned();
    move |source| SecretError::Storage {
        action,
        path,
        source,
    }
}

fn next_temp_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn open_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The bytes of file `path` (a `what`: "persistent secret"), refused
/// when group or others can read it, as DuckDB refuses such a secret file.
pub(crate) fn read_unshared(path: &Path, what: &'static str) -> Result<Vec<u8>> {
    let read = |source| SecretError::Storage {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let mut file = fs::File::open(path).map_err(read)?;
    // The mode is that of the file opened, so a swap after the check is moot.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretError::OpenToOthers {
                what,
                path: path.to_owned(),
                mode,
            });
        }
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(read)?;
    Ok(bytes)
}

fn read_secret(path: &Path) -> Result<Secret> {
    let corrupt = |reason: String| SecretError::CorruptFile {
        path: path.to_owned(),
        reason,
    };
    let bytes = read_unshared(path, "persistent secret")?;
    // serde_json's messages give positions, not the text, so no value leaks.
    let stored: StoredSecret =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not a secret file: {e}")))?;
    if stored.format != FORMAT || stored.version != VERSION {
        return Err(corrupt(format!(
            "format '{}' version {} is not {FORMAT} version {VERSION}",
            stored.format, stored.version
        )));
    }
    let expected = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(SECRET_FILE_SUFFIX))
        .unwrap_or_default();
    if stored.name != expected {
        return Err(corrupt(format!(
            "it holds secret '{}' but is named for '{expected}'",
            stored.name
        )));
    }
    Secret::new(&stored.name, stored.parameters).map_err(|e| corrupt(e.to_string()))
}
