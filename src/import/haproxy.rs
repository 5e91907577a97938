//! An HAProxy configuration: the `defaults` section and the first `backend`
//! (or `listen`) section in front of the service. Its servers are the
//! service instances; `maxconn` on them (or on `default-server`), `timeout
//! queue`, `timeout connect`, `timeout server` and `balance` fill
//! `[frontend]` (HAProxy 2.x semantics, as the model's front end).

use super::skeleton::{Line, Skeleton};
use super::{ImportError, Source};

/// A time as HAProxy reads it (`us`, `ms`, `s`, `m`, `h`, `d`; a bare
/// number is milliseconds), spelled as the model wants it.
fn duration(v: &str) -> Option<String> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "" | "ms" => format!("\"{n}ms\""),
        "us" => format!("\"{n}us\""),
        "s" => format!("\"{n}s\""),
        "m" => format!("\"{n}m\""),
        "h" => format!("\"{n}h\""),
        "d" => format!("\"{}h\"", n * 24),
        _ => return None,
    })
}

#[derive(Default)]
struct Section {
    name: String,
    line: usize,
    /// (what, value, line)
    timeouts: Vec<(String, String, usize)>,
    balance: Option<(String, usize)>,
    default_maxconn: Option<(u64, usize)>,
    /// (name, maxconn, line)
    servers: Vec<(String, Option<u64>, usize)>,
}

/// Reads `haproxy.cfg`.
pub fn read(src: &Source, sk: &mut Skeleton) -> Result<(), ImportError> {
    let mut defaults = Section::default();
    let mut backends: Vec<Section> = Vec::new();
    // 0: outside, 1: defaults, 2: a backend, 3: another section.
    let mut in_section = 0;
    for (i, raw) in src.text.lines().enumerate() {
        let n = i + 1;
        let text = raw.split('#').next().unwrap_or("");
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some(&first) = words.first() else {
            continue;
        };
        let top = !raw.starts_with(char::is_whitespace);
        match first {
            "defaults" if top => in_section = 1,
            "backend" | "listen" if top => {
                let Some(name) = words.get(1) else {
                    return Err(src.error(n, format!("`{first}` needs a name")));
                };
                backends.push(Section {
                    name: name.to_string(),
                    line: n,
                    ..Section::default()
                });
                in_section = 2;
            }
            "global" | "frontend" | "resolvers" | "peers" | "userlist" | "mailers" | "program"
            | "http-errors" | "ring" | "cache"
                if top =>
            {
                in_section = 3
            }
            _ => {
                let sec = match in_section {
                    1 => &mut defaults,
                    2 => backends.last_mut().expect("a backend"),
                    _ => continue,
                };
                read_keyword(src, n, &words, sec)?;
            }
        }
    }
    let file = src.name();
    let Some(b) = backends.first() else {
        return Err(src.error(
            0,
            "no `backend` or `listen` section: import reads the backend in front of the service",
        ));
    };
    if backends.len() > 1 {
        let others: Vec<&str> = backends[1..].iter().map(|b| b.name.as_str()).collect();
        sk.notes.push(format!(
            "{file}: backends {} are not read (only the first, `{}`)",
            others.join(", "),
            b.name
        ));
    }
    if b.servers.is_empty() {
        return Err(src.error(
            b.line,
            format!("backend `{}` has no `server` lines", b.name),
        ));
    }
    let from = |what: &str, line: usize| format!("{file}: {what} (line {line})");
    let maxconn = b.servers[0]
        .1
        .map(|m| (m, b.servers[0].2, "server maxconn"))
        .or(b
            .default_maxconn
            .map(|(m, l)| (m, l, "default-server maxconn")))
        .or(defaults
            .default_maxconn
            .map(|(m, l)| (m, l, "defaults default-server maxconn")));
    let limits: Vec<Option<u64>> = b
        .servers
        .iter()
        .map(|s| s.1.or(b.default_maxconn.map(|d| d.0)))
        .collect();
    if limits.iter().any(|l| *l != limits[0]) {
        sk.notes.push(format!(
            "{file}: backend `{}` servers have different maxconn {limits:?}: the first one's applies to every instance",
            b.name
        ));
    }
    sk.frontend.push(match maxconn {
        Some((m, l, what)) => Line::new("maxconn", m.to_string(), from(what, l)),
        None => Line::new(
            "maxconn",
            "0",
            format!("{file} sets no server maxconn: HAProxy's default, no limit"),
        ),
    });
    for (what, key) in [
        ("queue", "timeout_queue"),
        ("connect", "timeout_connect"),
        ("server", "timeout_server"),
    ] {
        let found = b
            .timeouts
            .iter()
            .chain(defaults.timeouts.iter())
            .find(|t| t.0 == what);
        if let Some((_, v, l)) = found {
            sk.frontend.push(Line::new(
                key,
                v.clone(),
                from(&format!("timeout {what}"), *l),
            ));
        }
    }
    let balance = b.balance.as_ref().or(defaults.balance.as_ref());
    match balance {
        Some((alg, l)) if alg == "roundrobin" || alg == "leastconn" => sk.frontend.push(Line::new(
            "balance",
            format!("\"{alg}\""),
            from("balance", *l),
        )),
        Some((alg, l)) => sk.frontend.push(Line::new(
            "balance",
            "\"roundrobin\"",
            format!(
                "ASSUMPTION: {} is {alg}, which cachestorm does not model",
                from("balance", *l)
            ),
        )),
        None => sk.frontend.push(Line::new(
            "balance",
            "\"roundrobin\"",
            format!("{file} sets none: HAProxy's default"),
        )),
    }
    if sk.instances.is_some() {
        return Err(src.error(
            b.line,
            "a second HAProxy configuration: import one backend at a time",
        ));
    }
    sk.instances = Some(Line::new(
        "instances",
        b.servers.len().to_string(),
        format!(
            "{file}: the {} servers of backend `{}`",
            b.servers.len(),
            b.name
        ),
    ));
    Ok(())
}

fn number(src: &Source, n: usize, what: &str, v: Option<&&str>) -> Result<u64, ImportError> {
    v.and_then(|v| v.parse().ok()).ok_or_else(|| {
        src.error(
            n,
            format!(
                "`{what}` needs a whole number, found `{}`",
                v.unwrap_or(&"")
            ),
        )
    })
}

fn read_keyword(src: &Source, n: usize, w: &[&str], sec: &mut Section) -> Result<(), ImportError> {
    match w[0] {
        "timeout" => {
            let (Some(what), Some(v)) = (w.get(1), w.get(2)) else {
                return Err(src.error(n, "`timeout` needs a name and a time (`timeout queue 30s`)"));
            };
            let Some(d) = duration(v) else {
                return Err(src.error(
                    n,
                    format!("timeout {what}: `{v}` is not a time (a number with us, ms, s, m, h or d; bare = ms)"),
                ));
            };
            sec.timeouts.push((what.to_string(), d, n));
        }
        "balance" => {
            let Some(alg) = w.get(1) else {
                return Err(src.error(n, "`balance` needs an algorithm"));
            };
            sec.balance = Some((alg.to_string(), n));
        }
        "default-server" => {
            if let Some(i) = w.iter().position(|x| *x == "maxconn") {
                sec.default_maxconn = Some((number(src, n, "maxconn", w.get(i + 1))?, n));
            }
        }
        "server" => {
            let (Some(name), Some(_addr)) = (w.get(1), w.get(2)) else {
                return Err(src.error(
                    n,
                    "`server` needs a name and an address (`server app1 10.0.0.1:8080`)",
                ));
            };
            let maxconn = match w.iter().position(|x| *x == "maxconn") {
                Some(i) => Some(number(src, n, "maxconn", w.get(i + 1))?),
                None => None,
            };
            sec.servers.push((name.to_string(), maxconn, n));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn haproxy_times() {
        assert_eq!(duration("30s").as_deref(), Some("\"30s\""));
        assert_eq!(duration("500").as_deref(), Some("\"500ms\""));
        assert_eq!(duration("1d").as_deref(), Some("\"24h\""));
        assert_eq!(duration("fast"), None);
        assert_eq!(duration("3x"), None);
    }
}
