//! Configuration errors: one clear line naming where (file, line and column,
//! or the `--set` argument), the key, what was found and what is allowed.

use std::fmt;
use std::path::PathBuf;

/// Where a bad value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A position in a file (1-based line and column).
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
    },
    /// A value that did not come from the file, e.g. `--set key=value`, or a
    /// swept value from an experiment (its own position is in the text).
    Override(String),
    /// The file as a whole (empty, unreadable, not text).
    WholeFile(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line, column } => {
                write!(f, "{}:{}:{}", path.display(), line, column)
            }
            Origin::Override(what) => write!(f, "{what}"),
            Origin::WholeFile(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A model or experiment that cannot be used, with everything needed to fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Where the problem is.
    pub origin: Origin,
    /// The dotted key path (`client.op_timeout`, `fault.0.node`), empty for
    /// the document as a whole.
    pub key: String,
    /// What is wrong, including what was found.
    pub message: String,
    /// What would be accepted, when that can be said briefly.
    pub allowed: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin)?;
        if !self.key.is_empty() {
            write!(f, "key `{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(allowed) = &self.allowed {
            write!(f, " (allowed: {allowed})")?;
        }
        Ok(())
    }
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `found`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(
    found: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let found_l = found.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&found_l, &c.to_ascii_lowercase()), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 3) && d < c.len().max(found.len()))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let keys = ["op_timeout", "policy", "spymemcached"];
        assert_eq!(did_you_mean("op_timout", keys), Some("op_timeout"));
        assert_eq!(did_you_mean("polcy", keys), Some("policy"));
        assert_eq!(did_you_mean("spymemcache", keys), Some("spymemcached"));
        assert_eq!(did_you_mean("zzz", keys), None);
        assert_eq!(did_you_mean("threads", keys), None);
    }

    #[test]
    fn renders_one_line() {
        let e = ConfigError {
            origin: Origin::File {
                path: "m.toml".into(),
                line: 3,
                column: 14,
            },
            key: "client.op_timeout".into(),
            message: "expected a duration with a unit, found 100".into(),
            allowed: Some("ns, us, ms, s, m, h".into()),
        };
        let s = e.to_string();
        assert_eq!(
            s,
            "m.toml:3:14: key `client.op_timeout`: expected a duration with a unit, found 100 (allowed: ns, us, ms, s, m, h)"
        );
        assert!(!s.contains('\n'));
    }
}
