//! Build identity, for `--version` and the sweep fingerprint.
//!
//! - `CACHESTORM_BUILD`: MD5 of everything that decides what the binary
//!   computes: every file under `src/`, `Cargo.toml`, `Cargo.lock`, this file
//!   and the compiler's version. Two binaries with the same value compute the
//!   same numbers; shards or journals written by a different value are
//!   refused by `merge` and `--resume`. It needs no git, so it works the same
//!   in a checkout with uncommitted edits and in an unpacked crate tarball.
//! - `CACHESTORM_COMMIT`: the git commit (12 hex digits, `-dirty` when files
//!   differ from it), for people to read: from `git` when the source is a
//!   checkout, else from the `.cargo_vcs_info.json` that `cargo package`
//!   writes, else `unknown`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use md5::{Digest, Md5};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn commit() -> String {
    if let Some(c) = git(&["rev-parse", "--short=12", "HEAD"]) {
        // Watch what moves HEAD, so a new commit re-runs this script (not
        // the index, which `git status` rewrites: the dirty flag is as of
        // the last build that changed a source or the commit).
        if let Some(p) = git(&["rev-parse", "--git-path", "HEAD"]) {
            println!("cargo:rerun-if-changed={p}");
        }
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"])
            && let Some(p) = git(&["rev-parse", "--git-path", &r])
        {
            println!("cargo:rerun-if-changed={p}");
        }
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        return if dirty { format!("{c}-dirty") } else { c };
    }
    // An unpacked `cargo package` tarball: {"git": {"sha1": "…"}, …}.
    if let Ok(text) = fs::read_to_string(".cargo_vcs_info.json")
        && let Some(i) = text.find("\"sha1\"")
    {
        let rest = &text[i + 6..];
        let hex: String = rest
            .chars()
            .skip_while(|c| !c.is_ascii_hexdigit())
            .take_while(char::is_ascii_hexdigit)
            .take(12)
            .collect();
        if hex.len() == 12 {
            let dirty = text.contains("\"dirty\": true") || text.contains("\"dirty\":true");
            return if dirty { format!("{hex}-dirty") } else { hex };
        }
    }
    "unknown".into()
}

fn main() {
    let mut files = Vec::new();
    files_under(Path::new("src"), &mut files);
    for f in ["Cargo.toml", "Cargo.lock", "build.rs"] {
        files.push(PathBuf::from(f));
    }
    files.sort();
    let mut h = Md5::new();
    for f in &files {
        let bytes = fs::read(f).unwrap_or_default();
        // Separators spelled out so no two file sets hash alike.
        h.update(
            format!(
                "{} {}\n",
                f.to_string_lossy().replace('\\', "/"),
                bytes.len()
            )
            .as_bytes(),
        );
        h.update(&bytes);
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    h.update(format!("rustc {rustc_version}\n").as_bytes());
    let build: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=CACHESTORM_BUILD={}", &build[..16]);
    println!("cargo:rustc-env=CACHESTORM_COMMIT={}", commit());
    for p in ["src", "Cargo.toml", "Cargo.lock", "build.rs"] {
        println!("cargo:rerun-if-changed={p}");
    }
}
