//! spymemcached settings, in either of two spellings:
//!
//! - Java properties, one `name=value` (or `name: value`) per line, `#` and
//!   `!` comments, names as the `ConnectionFactoryBuilder` setters without
//!   `set` and with an optional prefix (`memcached.opTimeout=1000`);
//! - the builder calls themselves, as in Java code
//!   (`.setOpTimeout(1000)`, `.setFailureMode(FailureMode.Cancel)`), with
//!   the servers from `AddrUtil.getAddresses("host:port host:port")`.
//!
//! Settings (spymemcached 2.12.3): `servers`, `opTimeout` (ms),
//! `failureMode`, `locatorType`, `hashAlg`, `timeoutExceptionThreshold`,
//! `opQueueMaxBlockTime` (ms), `maxReconnectDelay` (s), `opQueueLen` or
//! `ArrayOperationQueueFactory(n)`. Others are listed as not modelled.

use super::skeleton::{Client, Line, Pool, Skeleton};
use super::{ImportError, Source, ms, split_server};

/// (name, value, line) from either spelling.
fn settings(src: &Source) -> Result<Vec<(String, String, usize)>, ImportError> {
    let mut out = Vec::new();
    // Builder calls sit in Java code: other lines are skipped. Properties
    // are read line by line: a line that is not `name=value` is an error.
    let builder = src.text.contains(".set");
    for (i, raw) in src.text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with('!')
            || line.starts_with("//")
        {
            continue;
        }
        if let Some(at) = line.find("AddrUtil.getAddresses(") {
            let rest = &line[at + "AddrUtil.getAddresses(".len()..];
            let value = rest.split('"').nth(1).ok_or_else(|| {
                src.error(
                    n,
                    "AddrUtil.getAddresses needs a quoted list (\"host:port host:port\")",
                )
            })?;
            out.push(("servers".into(), value.to_string(), n));
            continue;
        }
        if let Some(at) = line
            .find(".set")
            .or_else(|| line.starts_with("set").then_some(0))
        {
            // A builder call: setName(argument).
            let call = line[at..].trim_start_matches('.');
            let Some(open) = call.find('(') else {
                return Err(src.error(n, format!("`{line}`: a builder call needs (argument)")));
            };
            let Some(close) = call.rfind(')') else {
                return Err(src.error(n, format!("`{line}`: unclosed `(`")));
            };
            let name = &call[3..open];
            let mut arg = call[open + 1..close].trim().to_string();
            // new ArrayOperationQueueFactory(16384) → 16384.
            if let Some(a) = arg.strip_prefix("new ArrayOperationQueueFactory(") {
                arg = a.trim_end_matches(')').to_string();
                out.push(("opQueueLen".into(), arg, n));
                continue;
            }
            let arg = arg
                .rsplit('.')
                .next()
                .unwrap_or(&arg)
                .trim_end_matches(['L', 'l'])
                .to_string();
            out.push((lower_first(name), arg, n));
            continue;
        }
        if builder {
            continue;
        }
        let Some(sep) = line.find(['=', ':']) else {
            return Err(src.error(
                n,
                format!("`{line}` is neither `name=value` nor a builder call `.setName(value)`"),
            ));
        };
        let name = line[..sep].trim();
        let name = name.rsplit('.').next().unwrap_or(name);
        out.push((name.to_string(), line[sep + 1..].trim().to_string(), n));
    }
    Ok(out)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Reads spymemcached settings.
pub fn read(src: &Source, sk: &mut Skeleton) -> Result<(), ImportError> {
    let file = src.name();
    let mut nodes = Vec::new();
    let mut op_timeout = None;
    let mut lines = Vec::new();
    let mut ignored = Vec::new();
    let num = |v: &str, n: usize, name: &str| -> Result<u64, ImportError> {
        v.parse()
            .map_err(|_| src.error(n, format!("{name}: `{v}` is not a whole number")))
    };
    for (name, v, n) in settings(src)? {
        let from = format!("{file}: {name} (line {n})");
        match name.as_str() {
            "servers" => {
                for s in v.split([' ', ',']).filter(|s| !s.is_empty()) {
                    let Some((node, _)) = split_server(s) else {
                        return Err(src.error(n, format!("servers: `{s}` is not host:port")));
                    };
                    nodes.push(node);
                }
            }
            "opTimeout" => op_timeout = Some(Line::new("op_timeout", ms(num(&v, n, &name)?), from)),
            "failureMode" => {
                let mode = match v.to_ascii_lowercase().as_str() {
                    "redistribute" => "redistribute",
                    "retry" => "retry",
                    "cancel" => "cancel",
                    _ => {
                        return Err(src.error(
                            n,
                            format!("failureMode: `{v}` is not Redistribute, Retry or Cancel"),
                        ));
                    }
                };
                lines.push(Line::new("failure_mode", format!("\"{mode}\""), from));
            }
            "locatorType" => {
                let l = match v.to_ascii_uppercase().as_str() {
                    "ARRAY_MOD" => "array_mod",
                    "CONSISTENT" => "ketama",
                    _ => {
                        return Err(src.error(
                            n,
                            format!("locatorType: `{v}` is not ARRAY_MOD or CONSISTENT"),
                        ));
                    }
                };
                lines.push(Line::new("locator", format!("\"{l}\""), from));
            }
            "hashAlg" => match v.to_ascii_uppercase().as_str() {
                "NATIVE_HASH" => lines.push(Line::new("hash", "\"native\"", from)),
                "KETAMA_HASH" => lines.push(Line::new("hash", "\"ketama\"", from)),
                other => lines.push(Line::new(
                    "hash",
                    "\"ketama\"",
                    format!("ASSUMPTION: {from} is {other}, which cachestorm does not model; KETAMA_HASH stands in"),
                )),
            },
            "timeoutExceptionThreshold" => lines.push(Line::new(
                "timeout_exception_threshold",
                num(&v, n, &name)?.to_string(),
                from,
            )),
            "opQueueMaxBlockTime" => lines.push(Line::new("op_queue_max_block", ms(num(&v, n, &name)?), from)),
            "maxReconnectDelay" => lines.push(Line::new(
                "max_reconnect_delay",
                format!("\"{}s\"", num(&v, n, &name)?),
                from,
            )),
            "opQueueLen" => lines.push(Line::new("op_queue_len", num(&v, n, &name)?.to_string(), from)),
            _ => ignored.push(name),
        }
    }
    if !ignored.is_empty() {
        sk.notes
            .push(format!("{file}: {} not modelled", ignored.join(", ")));
    }
    if nodes.is_empty() {
        sk.notes.push(format!(
            "{file}: no servers: the node list is an ASSUMPTION"
        ));
    } else {
        sk.pools.push(Pool {
            name: "cache".into(),
            nodes,
            comment: format!("from {file}: servers"),
        });
    }
    sk.set_client(Client {
        policy: "spymemcached",
        from: file,
        op_timeout,
        settings: lines,
    })
    .map_err(|m| src.error(0, m))
}
