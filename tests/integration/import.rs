//! `cachestorm import`: each documented format gives a model that `check`
//! accepts and that runs, with the files' values in it; malformed files exit
//! 2 with one line naming the file, the line and what is wrong.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

use crate::common::root;

fn cachestorm() -> Command {
    let mut c = Command::cargo_bin("cachestorm").unwrap();
    c.current_dir(root());
    c
}

fn data(name: &str) -> String {
    format!("tests/data/import/{name}")
}

fn import(files: &[&str]) -> Output {
    let mut c = cachestorm();
    c.arg("import");
    for f in files {
        c.arg(data(f));
    }
    c.output().unwrap()
}

/// Imports `files` into `dir/model.toml`, checks it and runs it briefly;
/// returns the model as TOML.
fn import_check_run(dir: &Path, files: &[&str]) -> toml::Table {
    let out = import(files);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{files:?}: {err}");
    let model = dir.join("model.toml");
    std::fs::write(&model, &out.stdout).unwrap();
    cachestorm().arg("check").arg(&model).assert().success();
    cachestorm()
        .args([
            "run",
            "--quiet",
            "--no-plots",
            "--set",
            "duration=3s",
            "--set",
            "warmup=1s",
            "--out",
        ])
        .arg(dir.join("run"))
        .arg(&model)
        .assert()
        .success();
    let text = String::from_utf8(out.stdout).unwrap();
    // What no file says is marked for review.
    for key in ["duration = ", "rate = ", "threads = "] {
        let line = text.lines().find(|l| l.starts_with(key)).unwrap();
        assert!(line.contains("ASSUMPTION"), "{line}");
    }
    text.parse().unwrap()
}

fn at<'a>(t: &'a toml::Table, path: &str) -> &'a toml::Value {
    let mut parts = path.split('.');
    let mut v = &t[parts.next().unwrap()];
    for p in parts {
        v = match p.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[p],
        };
    }
    v
}

fn s<'a>(t: &'a toml::Table, path: &str) -> &'a str {
    at(t, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not text"))
}

#[test]
fn nutcracker_pools_become_the_twemproxy_client_and_cache_pools() {
    let t = tempfile::tempdir().unwrap();
    let m = import_check_run(t.path(), &["nutcracker.yml"]);
    assert_eq!(s(&m, "client.policy"), "twemproxy");
    assert_eq!(s(&m, "client.twemproxy.timeout"), "400ms");
    assert_eq!(
        at(&m, "client.twemproxy.auto_eject_hosts").as_bool(),
        Some(true)
    );
    assert_eq!(
        at(&m, "client.twemproxy.server_failure_limit").as_integer(),
        Some(1)
    );
    assert_eq!(s(&m, "client.twemproxy.server_retry_timeout"), "2s");
    assert_eq!(s(&m, "client.twemproxy.locator"), "ketama");
    assert_eq!(s(&m, "cluster.pool.0.name"), "alpha");
    assert_eq!(s(&m, "cluster.pool.0.nodes.2"), "10.0.1.3:11211");
    assert_eq!(s(&m, "cluster.pool.1.name"), "sessions");
    assert_eq!(at(&m, "cluster.pool.1.nodes").as_array().unwrap().len(), 2);
    let text = String::from_utf8(import(&["nutcracker.yml"]).stdout).unwrap();
    // Unequal weights, the proxy's own settings and the second pool's
    // client settings are said not to be modelled.
    assert!(text.contains("weights [2, 1]"), "{text}");
    assert!(
        text.contains("listen") && text.contains("proxy tier"),
        "{text}"
    );
    assert!(text.contains("pool `sessions`: its timeout"), "{text}");
}

#[test]
fn an_haproxy_backend_becomes_the_frontend_and_instances() {
    let t = tempfile::tempdir().unwrap();
    let m = import_check_run(t.path(), &["haproxy.cfg", "spymemcached.properties"]);
    assert_eq!(at(&m, "service.instances").as_integer(), Some(3));
    assert_eq!(at(&m, "frontend.maxconn").as_integer(), Some(100));
    assert_eq!(s(&m, "frontend.timeout_queue"), "2s");
    assert_eq!(s(&m, "frontend.timeout_connect"), "5s");
    assert_eq!(s(&m, "frontend.timeout_server"), "30s");
    assert_eq!(s(&m, "frontend.balance"), "leastconn");
    // and the client from the properties.
    assert_eq!(s(&m, "client.policy"), "spymemcached");
    assert_eq!(s(&m, "client.op_timeout"), "1s");
    assert_eq!(s(&m, "client.spymemcached.failure_mode"), "cancel");
    assert_eq!(s(&m, "client.spymemcached.locator"), "ketama");
    assert_eq!(s(&m, "client.spymemcached.hash"), "ketama");
    assert_eq!(
        at(&m, "client.spymemcached.timeout_exception_threshold").as_integer(),
        Some(998)
    );
    assert_eq!(s(&m, "client.spymemcached.op_queue_max_block"), "10s");
    assert_eq!(at(&m, "cluster.nodes").as_array().unwrap().len(), 3);
}

#[test]
fn builder_calls_read_as_the_properties_do() {
    let t = tempfile::tempdir().unwrap();
    let m = import_check_run(t.path(), &["spymemcached-builder.txt"]);
    assert_eq!(s(&m, "client.op_timeout"), "500ms");
    assert_eq!(s(&m, "client.spymemcached.failure_mode"), "redistribute");
    assert_eq!(s(&m, "client.spymemcached.locator"), "array_mod");
    assert_eq!(s(&m, "client.spymemcached.hash"), "native");
    assert_eq!(
        at(&m, "client.spymemcached.timeout_exception_threshold").as_integer(),
        Some(100)
    );
    assert_eq!(s(&m, "client.spymemcached.max_reconnect_delay"), "30s");
    assert_eq!(
        at(&m, "client.spymemcached.op_queue_len").as_integer(),
        Some(16384)
    );
    assert_eq!(s(&m, "cluster.nodes.1"), "10.0.1.2:11211");
}

#[test]
fn mcrouter_routes_name_the_gutter_pool() {
    let t = tempfile::tempdir().unwrap();
    let m = import_check_run(t.path(), &["mcrouter.json"]);
    assert_eq!(s(&m, "client.policy"), "mcrouter");
    assert_eq!(s(&m, "client.mcrouter.server_timeout"), "200ms");
    assert_eq!(s(&m, "client.mcrouter.gutter"), "gutter");
    assert_eq!(s(&m, "client.mcrouter.failover_exptime"), "10s");
    assert_eq!(s(&m, "cluster.pool.0.name"), "main");
    assert_eq!(at(&m, "cluster.pool.0.nodes").as_array().unwrap().len(), 4);
    let t2 = tempfile::tempdir().unwrap();
    let m = import_check_run(t2.path(), &["mcrouter-allsync.json"]);
    assert_eq!(s(&m, "cluster.pool.0.nodes.0"), "10.0.1.1:11211");
    let text = String::from_utf8(import(&["mcrouter-allsync.json"]).stdout).unwrap();
    assert!(text.contains("AllSyncRoute over 2 children"), "{text}");
}

#[test]
fn malformed_files_exit_2_naming_file_and_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "typo.yml",
            ":6:3:",
            "unknown field `timout`, expected one of",
        ),
        (
            "badvalue.yml",
            ":2:12:",
            "`timeout`: invalid i64 (found `soon`)",
        ),
        (
            "noport.yml",
            ":3:",
            "`10.0.1.1` is not `host:port:weight [name]`",
        ),
        ("syntax.yml", ":2:12:", "`servers`: unclosed bracket"),
        ("trailing.json", ":6:1:", "trailing comma"),
        (
            "unknownpool.json",
            ":3:",
            "pool `other`, which `pools` does not define",
        ),
        ("badtime.cfg", ":2:", "timeout queue: `soon` is not a time"),
        ("nobackend.cfg", ": ", "no `backend` or `listen` section"),
        (
            "badmode.properties",
            ":2:",
            "failureMode: `Sometimes` is not Redistribute, Retry or Cancel",
        ),
    ];
    for (file, place, what) in cases {
        let out = import(&[&format!("bad/{file}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "{file}: {err}");
        let prefix = format!("error: {}{place}", data(&format!("bad/{file}")));
        assert!(err.starts_with(&prefix), "{file}: {err} (wanted {prefix})");
        assert!(err.contains(what), "{file}: {err} (wanted {what})");
    }
    // Two client configurations: a model has one client policy.
    let out = import(&["nutcracker.yml", "mcrouter.json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("one client policy"), "{err}");
    // A file that is none of the formats.
    let t = tempfile::tempdir().unwrap();
    let odd: PathBuf = t.path().join("notes.txt");
    std::fs::write(&odd, "hello\n").unwrap();
    let out = cachestorm().arg("import").arg(&odd).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot tell its format"));
}

#[test]
fn out_writes_the_file_and_keeps_an_existing_one_without_force() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("m.toml");
    cachestorm()
        .args(["import", &data("haproxy.cfg"), "--out"])
        .arg(&out)
        .assert()
        .success();
    let first = std::fs::read(&out).unwrap();
    std::fs::write(&out, "mine").unwrap();
    cachestorm()
        .args(["import", &data("haproxy.cfg"), "--out"])
        .arg(&out)
        .assert()
        .code(2);
    assert_eq!(std::fs::read(&out).unwrap(), b"mine");
    cachestorm()
        .args(["import", &data("haproxy.cfg"), "--force", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), first);
}
