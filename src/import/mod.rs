//! `cachestorm import`: a model skeleton from the configuration files an
//! architect already has — twemproxy's `nutcracker.yml`, an mcrouter JSON
//! config, an HAProxy `haproxy.cfg` backend, spymemcached settings (Java
//! properties or `ConnectionFactoryBuilder` calls). Each reader fills a
//! [`Skeleton`]; [`Skeleton::render`] writes a commented TOML model that
//! `cachestorm check` accepts, where every value no file gave is marked
//! `ASSUMPTION` and every setting read but not modelled is listed.
//!
//! Nothing here knows the simulator: the skeleton is text, validated by the
//! same `check` as a hand-written model.

mod haproxy;
mod mcrouter;
mod skeleton;
mod spymemcached;
mod twemproxy;

use std::fmt;
use std::path::{Path, PathBuf};

pub use skeleton::Skeleton;

/// A configuration file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// twemproxy (nutcracker) YAML.
    Twemproxy,
    /// mcrouter JSON (comments allowed, as mcrouter allows them).
    Mcrouter,
    /// HAProxy configuration: its first `backend` (or `listen`) section.
    Haproxy,
    /// spymemcached settings: `key=value` properties or builder calls.
    Spymemcached,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [
        Format::Twemproxy,
        Format::Mcrouter,
        Format::Haproxy,
        Format::Spymemcached,
    ];

    /// Its name in messages and in the skeleton's comments.
    pub fn name(self) -> &'static str {
        match self {
            Format::Twemproxy => "twemproxy",
            Format::Mcrouter => "mcrouter",
            Format::Haproxy => "HAProxy",
            Format::Spymemcached => "spymemcached",
        }
    }

    /// The format of `path`, from its extension, else from its text.
    pub fn detect(path: &Path, text: &str) -> Option<Format> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("yml" | "yaml") => return Some(Format::Twemproxy),
            Some("json") => return Some(Format::Mcrouter),
            Some("cfg") => return Some(Format::Haproxy),
            Some("properties") => return Some(Format::Spymemcached),
            _ => {}
        }
        let first_word = |l: &str| l.split_whitespace().next().map(str::to_string);
        let words: Vec<String> = text.lines().filter_map(first_word).collect();
        if words.iter().any(|w| w == "backend" || w == "listen") {
            Some(Format::Haproxy)
        } else if text.contains("setOpTimeout")
            || text.contains("setFailureMode")
            || text.contains("servers=")
        {
            Some(Format::Spymemcached)
        } else if text.trim_start().starts_with('{') {
            Some(Format::Mcrouter)
        } else {
            None
        }
    }
}

/// Why a configuration could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file is malformed, or says something the model cannot hold.
    #[error("{}", at(path, *line, *column, message))]
    Input {
        /// The file.
        path: PathBuf,
        /// 1-based line, 0 when the problem is the whole file.
        line: usize,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The skeleton could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The output file exists and `--force` was not given.
    #[error("{} exists: give --force to replace it", .0.display())]
    Exists(PathBuf),
}

fn at(path: &Path, line: usize, column: Option<usize>, message: &str) -> String {
    match (line, column) {
        (0, _) => format!("{}: {message}", path.display()),
        (l, Some(c)) => format!("{}:{l}:{c}: {message}", path.display()),
        (l, None) => format!("{}:{l}: {message}", path.display()),
    }
}

impl ImportError {
    /// True when the user's input is at fault (exit 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ImportError::Input { .. } | ImportError::Read { .. } | ImportError::Exists(_) => true,
            ImportError::Write { .. } => false,
        }
    }
}

/// One file being read: its path and text, to place errors.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at `line` (1-based; 0 = the whole file).
    pub fn error(&self, line: usize, message: impl fmt::Display) -> ImportError {
        ImportError::Input {
            path: self.path.to_path_buf(),
            line,
            column: None,
            message: message.to_string(),
        }
    }

    /// The line (1-based) where `needle` first occurs, 0 when it does not:
    /// places a problem found after parsing (JSON and YAML values carry no
    /// position once parsed).
    pub fn line_of(&self, needle: &str) -> usize {
        self.text
            .find(needle)
            .map_or(0, |i| self.text[..i].matches('\n').count() + 1)
    }

    /// The file's name for comments.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().to_string(),
        )
    }
}

/// Reads every file (its format detected, or `format` for all) into one
/// skeleton and renders it.
pub fn import(paths: &[PathBuf], format: Option<Format>) -> Result<String, ImportError> {
    let mut sk = Skeleton::default();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
            path: path.clone(),
            source,
        })?;
        let src = Source { path, text: &text };
        let Some(f) = format.or_else(|| Format::detect(path, &text)) else {
            return Err(src.error(
                0,
                "cannot tell its format: name it *.yml (twemproxy), *.json (mcrouter), *.cfg (HAProxy) or *.properties (spymemcached), or give --format",
            ));
        };
        match f {
            Format::Twemproxy => twemproxy::read(&src, &mut sk)?,
            Format::Mcrouter => mcrouter::read(&src, &mut sk)?,
            Format::Haproxy => haproxy::read(&src, &mut sk)?,
            Format::Spymemcached => spymemcached::read(&src, &mut sk)?,
        }
        sk.sources.push(format!("{} ({})", src.name(), f.name()));
    }
    Ok(sk.render())
}

/// Writes the model to `path` (atomically), refusing an existing file
/// unless `force`.
pub fn write(path: &Path, model: &str, force: bool) -> Result<(), ImportError> {
    if path.exists() && !force {
        return Err(ImportError::Exists(path.to_path_buf()));
    }
    crate::output::write_atomic(path, model.as_bytes()).map_err(|source| ImportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Splits `host:port[:weight]` into its address (`host:port`) and weight.
pub(crate) fn split_server(s: &str) -> Option<(String, Option<u32>)> {
    let mut parts = s.rsplitn(3, ':').collect::<Vec<_>>();
    parts.reverse();
    match parts.as_slice() {
        [host, port] if !host.is_empty() && port.parse::<u16>().is_ok() => {
            Some((format!("{host}:{port}"), None))
        }
        [host, port, weight] if !host.is_empty() && port.parse::<u16>().is_ok() => {
            // `host:port:weight` (twemproxy), else an IPv6-less `a:b:port`.
            weight
                .parse::<u32>()
                .ok()
                .map(|w| (format!("{host}:{port}"), Some(w)))
        }
        _ => None,
    }
}

/// A duration in milliseconds as the model spells it.
pub(crate) fn ms(v: u64) -> String {
    if v > 0 && v.is_multiple_of(1000) {
        format!("\"{}s\"", v / 1000)
    } else {
        format!("\"{v}ms\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_split_into_address_and_weight() {
        assert_eq!(
            split_server("10.0.0.1:11211"),
            Some(("10.0.0.1:11211".into(), None))
        );
        assert_eq!(
            split_server("10.0.0.1:11211:3"),
            Some(("10.0.0.1:11211".into(), Some(3)))
        );
        assert_eq!(split_server("10.0.0.1"), None);
        assert_eq!(split_server("10.0.0.1:port"), None);
        assert_eq!(split_server(":11211"), None);
    }

    #[test]
    fn formats_are_detected_by_extension_then_text() {
        let d = |p: &str, t: &str| Format::detect(Path::new(p), t);
        assert_eq!(d("a.yml", ""), Some(Format::Twemproxy));
        assert_eq!(d("a.json", ""), Some(Format::Mcrouter));
        assert_eq!(d("haproxy.cfg", ""), Some(Format::Haproxy));
        assert_eq!(d("x", "global\nbackend app\n"), Some(Format::Haproxy));
        assert_eq!(d("x", ".setOpTimeout(100)"), Some(Format::Spymemcached));
        assert_eq!(d("x", " {\"pools\": {}}"), Some(Format::Mcrouter));
        assert_eq!(d("x", "hello"), None);
        assert_eq!(ms(2000), "\"2s\"");
        assert_eq!(ms(250), "\"250ms\"");
    }
}
