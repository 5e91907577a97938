//! An mcrouter JSON config (`pools` and `route` / `routes`, as in mcrouter's
//! wiki "Config Files" and "List of Route Handles"). Comments (`//`, `/* */`)
//! are allowed, as mcrouter allows them. The route decides the pools' roles:
//! `PoolRoute|A` (or `{"type": "PoolRoute", "pool": …}`) serves from A;
//! `FailoverWithExptimeRoute` (`normal`, `failover`, `failover_exptime`) and
//! `FailoverRoute` (`children`) name a gutter pool; the `All*Route`s
//! (replicated writes) are read with their first child only.
//!
//! Today mcrouter is modelled as a client policy (a sidecar per service
//! instance, `docs/policies.md`); proxy-level settings are listed as not
//! modelled, to map to the proxy tier once it lands.

use serde_json::Value;

use super::skeleton::{Client, Line, Pool, Skeleton, quoted};
use super::{ImportError, Source, ms, split_server};

/// Removes `//` and `/* */` comments outside strings, keeping every line
/// break so positions stay right.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// What the route says about the pools.
#[derive(Default)]
struct Roles {
    main: Option<String>,
    gutter: Option<String>,
    exptime: Option<u64>,
    notes: Vec<String>,
}

/// The pool a route sends to: `PoolRoute|A`, `Pool|A`, or a PoolRoute
/// object; a nested route's main pool otherwise.
fn pool_of(route: &Value, roles: &mut Roles) -> Option<String> {
    match route {
        Value::String(s) => {
            let (kind, rest) = s.split_once('|')?;
            match kind {
                "PoolRoute" | "Pool" => Some(rest.to_string()),
                _ => {
                    roles
                        .notes
                        .push(format!("route `{s}`: only its pool is modelled"));
                    None
                }
            }
        }
        Value::Object(o) => {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
            match kind {
                "PoolRoute" => match o.get("pool") {
                    Some(Value::String(p)) => Some(p.clone()),
                    Some(Value::Object(p)) => {
                        p.get("name").and_then(Value::as_str).map(str::to_string)
                    }
                    _ => None,
                },
                _ => {
                    let mut inner = Roles::default();
                    walk(route, &mut inner);
                    roles.notes.append(&mut inner.notes);
                    inner.main
                }
            }
        }
        _ => None,
    }
}

fn walk(route: &Value, roles: &mut Roles) {
    let Value::Object(o) = route else {
        roles.main = pool_of(route, roles);
        return;
    };
    let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "FailoverWithExptimeRoute" => {
            if let Some(n) = o.get("normal") {
                roles.main = pool_of(n, roles);
            }
            if let Some(f) = o.get("failover") {
                let f = match f {
                    Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
                    other => other.clone(),
                };
                roles.gutter = pool_of(&f, roles);
            }
            roles.exptime = o.get("failover_exptime").and_then(Value::as_u64);
        }
        "FailoverRoute" => {
            let children = o.get("children").and_then(Value::as_array);
            if let Some(c) = children {
                roles.main = c.first().and_then(|r| pool_of(r, roles));
                roles.gutter = c.get(1).and_then(|r| pool_of(r, roles));
                if c.len() > 2 {
                    roles
                        .notes
                        .push("FailoverRoute: children after the second are not modelled".into());
                }
            }
        }
        "AllSyncRoute" | "AllAsyncRoute" | "AllInitialRoute" | "AllMajorityRoute"
        | "AllFastestRoute" => {
            if let Some(c) = o.get("children").and_then(Value::as_array) {
                roles.main = c.first().and_then(|r| pool_of(r, roles));
                if c.len() > 1 {
                    roles.notes.push(format!(
                        "{kind} over {} children: the replicated requests to the other children are not modelled (the first child's pool serves)",
                        c.len()
                    ));
                }
            }
        }
        "PoolRoute" => roles.main = pool_of(route, roles),
        other => {
            roles.notes.push(format!(
                "route type `{other}` is not modelled: the first pool serves"
            ));
        }
    }
}

fn json_error(src: &Source, e: &serde_json::Error) -> ImportError {
    let text = e.to_string();
    let message = text.split(" at line ").next().unwrap_or(&text).to_string();
    ImportError::Input {
        path: src.path.to_path_buf(),
        line: e.line(),
        column: Some(e.column()),
        message: format!("not valid JSON: {message}"),
    }
}

/// Reads an mcrouter config.
pub fn read(src: &Source, sk: &mut Skeleton) -> Result<(), ImportError> {
    let clean = strip_comments(src.text);
    let v: Value = serde_json::from_str(&clean).map_err(|e| json_error(src, &e))?;
    let Some(root) = v.as_object() else {
        return Err(src.error(
            1,
            "an mcrouter config is a JSON object with `pools` and `route`",
        ));
    };
    let Some(pools) = root.get("pools").and_then(Value::as_object) else {
        return Err(src.error(
            src.line_of("\"pools\"").max(1),
            "no `pools` object: an mcrouter config maps pool names to {\"servers\": [\"host:port\", …]}",
        ));
    };
    if pools.is_empty() {
        return Err(src.error(src.line_of("\"pools\""), "`pools` is empty"));
    }
    let file = src.name();
    let mut roles = Roles::default();
    if let Some(r) = root.get("route") {
        walk(r, &mut roles);
    } else if let Some(rs) = root.get("routes").and_then(Value::as_array) {
        if let Some(r) = rs.first().and_then(|r| r.get("route")) {
            walk(r, &mut roles);
        }
        if rs.len() > 1 {
            roles.notes.push(format!(
                "{} routes (by key prefix): only the first is modelled",
                rs.len()
            ));
        }
    } else {
        roles.notes.push("no `route`: the first pool serves".into());
    }
    let mut timeout: Option<(u64, String)> = None;
    let mut ordered: Vec<Pool> = Vec::new();
    for (name, p) in pools {
        let at = src.line_of(&format!("\"{name}\""));
        let Some(servers) = p.get("servers").and_then(Value::as_array) else {
            return Err(src.error(at, format!("pool `{name}` has no `servers` list")));
        };
        let mut nodes = Vec::new();
        for s in servers {
            let text = s.as_str().unwrap_or("");
            // mcrouter servers: "host:port" or "host:port:protocol[:ssl…]".
            let addr: String = text.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
            let Some((node, _)) = split_server(&addr) else {
                return Err(src.error(
                    src.line_of(&s.to_string()).max(at),
                    format!("pool `{name}`: server {s} is not \"host:port\""),
                ));
            };
            nodes.push(node);
        }
        if nodes.is_empty() {
            return Err(src.error(at, format!("pool `{name}` has no servers")));
        }
        if let Some(t) = p.get("server_timeout") {
            let Some(t) = t.as_u64() else {
                return Err(src.error(
                    src.line_of("\"server_timeout\""),
                    format!(
                        "pool `{name}`: server_timeout must be milliseconds (an integer), not {t}"
                    ),
                ));
            };
            if timeout.is_none() || roles.main.as_deref() == Some(name.as_str()) {
                timeout = Some((t, format!("{file}: pool `{name}` server_timeout")));
            }
        }
        let comment = format!("from {file}, pool `{name}` (line {at})");
        let pool = Pool {
            name: name.clone(),
            nodes,
            comment,
        };
        // The main pool first: flows use the first pool.
        if roles.main.as_deref() == Some(name.as_str()) {
            ordered.insert(0, pool);
        } else {
            ordered.push(pool);
        }
    }
    for role in [&roles.main, &roles.gutter].into_iter().flatten() {
        if !pools.contains_key(role) {
            return Err(src.error(
                src.line_of(role),
                format!("the route names pool `{role}`, which `pools` does not define"),
            ));
        }
    }
    let mut settings = Vec::new();
    match timeout {
        Some((t, from)) => settings.push(Line::new("server_timeout", ms(t), from)),
        None => settings.push(Line::new(
            "server_timeout",
            "\"1000ms\"",
            format!("{file} sets none: mcrouter's --server-timeout default (ASSUMPTION if your command line sets it)"),
        )),
    }
    if let Some(g) = &roles.gutter {
        settings.push(Line::new(
            "gutter",
            quoted(g),
            format!("{file}: the route's failover pool"),
        ));
        let exptime = match roles.exptime {
            Some(e) => Line::new(
                "failover_exptime",
                format!("\"{e}s\""),
                format!("{file}: failover_exptime"),
            ),
            None => Line::new(
                "failover_exptime",
                "\"60s\"",
                "ASSUMPTION: FailoverWithExptimeRoute's default; a plain FailoverRoute sets no expiry",
            ),
        };
        settings.push(exptime);
    }
    for n in roles.notes {
        sk.notes.push(format!("{file}: {n}"));
    }
    sk.notes.push(format!(
        "{file}: mcrouter's own process (threads, --timeouts-until-tko and probe options on its command line, connection pooling) maps to the proxy tier once cachestorm models mcrouter as a component; today it is a sidecar client policy"
    ));
    sk.pools.extend(ordered);
    sk.set_client(Client {
        policy: "mcrouter",
        from: file,
        op_timeout: None,
        settings,
    })
    .map_err(|m| src.error(0, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_and_lines_stay() {
        let t = "{ // a\n \"a\": \"x//y\", /* b\n c */ \"b\": 1 }";
        let s = strip_comments(t);
        assert_eq!(s.lines().count(), t.lines().count());
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a"], "x//y");
        assert_eq!(v["b"], 1);
    }
}
