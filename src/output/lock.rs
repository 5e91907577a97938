//! One writer per output folder: an advisory lock (`flock(2)` through std's
//! [`File::try_lock`]) on a hidden file in the folder, taken by every writer
//! (`run`, `sweep`, `sweep --resume`, `merge`, `plot`) before it looks at the
//! folder's contents and held until it is done. A second writer is refused
//! at once, with a line naming the holder (its pid, command and start time,
//! which the holder writes into the lock file).
//!
//! The lock is released by the kernel when its holder exits, however it
//! exits (a kill -9 included), so a crash never leaves a folder locked. The
//! file is removed when the holder finishes; a file left by a crash is
//! stale and the next writer simply takes it. Removing a lock file while
//! another process waits on it would let two writers lock two different
//! files of the same name, so after locking, a writer checks that the file
//! it locked is still the one at the path (same device and inode), and tries
//! again otherwise.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The lock file's name in an output folder (hidden, never an output).
pub const LOCK_NAME: &str = ".cachestorm.lock";

/// A held lock on an output folder; released (and its file removed) when
/// dropped.
#[derive(Debug)]
pub struct FolderLock {
    path: PathBuf,
    file: Option<File>,
}

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another writer holds it.
    #[error(
        "{dir} is in use by another cachestorm ({holder}); wait for it to finish, or choose another folder with --out"
    )]
    Busy {
        /// The folder.
        dir: PathBuf,
        /// Who holds it, as the holder wrote it.
        holder: String,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock {}: {source}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

impl FolderLock {
    /// Locks the existing folder `dir` for this process, or says who holds
    /// it.
    pub fn acquire(dir: &Path) -> Result<FolderLock, LockError> {
        let path = dir.join(LOCK_NAME);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        for _ in 0..100 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = Read::by_ref(&mut file).take(4096).read_to_string(&mut text);
                    let holder = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    return Err(LockError::Busy {
                        dir: dir.to_path_buf(),
                        holder: if holder.is_empty() {
                            "a writer that has not yet said who it is".into()
                        } else {
                            holder
                        },
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            // The holder before us may have removed the file between our
            // open and our lock: then we hold a lock nobody else can see.
            let ours = file.metadata().map_err(io)?;
            match std::fs::symlink_metadata(&path) {
                Ok(now) if same_file(&ours, &now) => {}
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(e)),
            }
            let me = format!(
                "pid {}, `{}`, started {} s after the Unix epoch",
                std::process::id(),
                command_line(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            );
            file.set_len(0).map_err(io)?;
            file.write_all(me.as_bytes()).map_err(io)?;
            return Ok(FolderLock {
                path,
                file: Some(file),
            });
        }
        Err(io(io::Error::other(
            "the lock file kept being replaced while locking it",
        )))
    }
}

/// The command line, shortened for the lock file.
fn command_line() -> String {
    let mut s: String = std::env::args().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 300 {
        s = s.chars().take(300).collect::<String>() + "…";
    }
    s.replace(['\n', '\r'], " ")
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Remove while still holding the lock, then release it by closing.
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let a = FolderLock::acquire(dir.path()).unwrap();
        assert!(dir.path().join(LOCK_NAME).exists());
        let e = FolderLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is in use by another cachestorm"), "{e}");
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        drop(a);
        assert!(!dir.path().join(LOCK_NAME).exists());
        let _b = FolderLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_stale_lock_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_NAME), "pid 1, a crashed writer").unwrap();
        let _a = FolderLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_NAME)).unwrap();
        assert!(
            text.starts_with(&format!("pid {}", std::process::id())),
            "{text}"
        );
    }
}
