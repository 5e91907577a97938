//! The experiment reader's tests.

use super::literal::same_value;
use super::*;
use std::path::{Path, PathBuf};
use toml::de::DeValue;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const MODEL: &str = include_str!("../../../models/testbed/frozen.toml");

fn exp(body: &str) -> Result<Experiment, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.toml", MODEL);
    let p = write(
        dir.path(),
        "e.toml",
        &format!("model = \"m.toml\"\nreplications = 2\n{body}"),
    );
    Experiment::load(&p)
}

#[test]
fn grid_order_first_key_slowest_and_flattened_keys() {
    let e = exp(
        "[vary]\nclient.op_timeout = [\"100ms\", \"2500ms\"]\n\"fault.0.kind\" = [\"frozen\", \"crash\", \"slow\"]\n",
    )
    .unwrap();
    assert_eq!(e.axes[0].key, "client.op_timeout");
    assert_eq!(e.axes[1].key, "fault.0.kind");
    assert_eq!(e.points.len(), 6);
    assert_eq!(e.point_values(0), ["100ms", "frozen"]);
    assert_eq!(e.point_values(1), ["100ms", "crash"]);
    assert_eq!(e.point_values(3), ["2500ms", "frozen"]);
    assert_eq!(e.axes[0].values[0].literal, "\"100ms\"");
    assert_eq!(e.metrics.len(), DEFAULT_METRICS.len());
}

#[test]
fn order_follows_the_file_not_the_alphabet() {
    let e = exp("[vary]\nservice.threads = [1, 2]\nclient.op_timeout = [\"1s\"]\n").unwrap();
    assert_eq!(e.axes[0].key, "service.threads");
    assert_eq!(e.axes[1].key, "client.op_timeout");
}

#[test]
fn ranges_of_integers_floats_and_durations() {
    let e = exp(
        "[vary]\nservice.threads = { from = 50, to = 200, step = 50 }\nworkload.rate = { from = 0.1, to = 0.5, step = 0.1 }\nclient.op_timeout = { from = \"100ms\", to = \"1s\", step = \"300ms\" }\n",
    )
    .unwrap();
    let d =
        |i: usize| -> Vec<String> { e.axes[i].values.iter().map(|v| v.display.clone()).collect() };
    assert_eq!(d(0), ["50", "100", "150", "200"]);
    assert_eq!(d(1), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
    assert_eq!(d(2), ["100ms", "400ms", "700ms", "1s"]);
}

#[test]
fn excludes_remove_matching_points_and_must_match_something() {
    let e =
        exp("[vary]\na.b = [1, 2]\nc = [\"100ms\", \"2s\"]\n[[exclude]]\na.b = 2\nc = \"0.1s\"\n");
    // a.b is not a model key, but that is only found when models are built.
    let e = e.unwrap();
    assert_eq!(e.points.len(), 3);
    assert!(!e.points.contains(&vec![1, 0]));
    let err = exp("[vary]\na = [1, 2]\n[[exclude]]\na = 3\n").unwrap_err();
    assert!(err.message.contains("never matches"), "{err}");
    assert_eq!(err.origin.to_string().split(':').nth(1), Some("6"));
    let err = exp("[vary]\na = [1, 2]\n[[exclude]]\nb = 3\n").unwrap_err();
    assert!(err.message.contains("not a key of [vary]"), "{err}");
    let err = exp("[vary]\na = [1]\n[[exclude]]\na = 1\n").unwrap_err();
    assert!(err.message.contains("remove all"), "{err}");
}

#[test]
fn bad_values_are_reported_where_they_are_written() {
    let e = exp("[vary]\nclient.op_timeout = [\"100ms\", \"soon\"]\n").unwrap();
    let err = e.model_for(1).unwrap_err();
    let s = err.to_string();
    assert!(s.contains("e.toml:4:31"), "{s}");
    assert!(s.contains("client.op_timeout"), "{s}");
    let e = exp("[vary]\nclient.op_timout = [\"100ms\"]\n").unwrap();
    let s = e.model_for(0).unwrap_err().to_string();
    assert!(s.contains("e.toml:4:21"), "{s}");
    assert!(s.contains("did you mean `op_timeout`"), "{s}");
}

#[test]
fn structural_errors() {
    let s = exp("[vary]\nclient.op_timeout = \"100ms\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        s.contains("e.toml:4:21") && s.contains("list of values"),
        "{s}"
    );
    let s = exp("[vary]\nseed = [1, 2]\n").unwrap_err().to_string();
    assert!(s.contains("seed"), "{s}");
    let s = exp("[vary]\na = [1, 1]\n").unwrap_err().to_string();
    assert!(s.contains("twice"), "{s}");
    let s = exp("[vary]\na = [1]\n[set]\na = 2\n")
        .unwrap_err()
        .to_string();
    assert!(s.contains("twice"), "{s}");
    let s = exp("[vary]\na.b = [1]\n[set]\na = { b = 2 }\n")
        .unwrap_err()
        .to_string();
    assert!(s.contains("overlaps"), "{s}");
    let s = exp("replicatons = 3\n").unwrap_err().to_string();
    assert!(s.contains("did you mean"), "{s}");
    let s = exp("[vary]\na = { from = 1, to = 0, step = 1 }\n")
        .unwrap_err()
        .to_string();
    assert!(s.contains("below"), "{s}");
    let s = exp("rank_by = \"over_slo\"\nmetrics = [\"latency_ms.p99\"]\n")
        .unwrap_err()
        .to_string();
    assert!(s.contains("not one of the reported metrics"), "{s}");
}

#[test]
fn missing_model_points_at_the_model_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "e.toml",
        "model = \"nope.toml\"\nreplications = 1\n",
    );
    let s = Experiment::load(&p).unwrap_err().to_string();
    assert!(s.contains("e.toml:1:9"), "{s}");
    assert!(s.contains("nope.toml"), "{s}");
}

#[test]
fn variants_are_one_named_axis_before_the_others() {
    let e = exp(concat!(
        "[set]\ndrain = \"5s\"\n",
        "[vary]\nclient.op_timeout = [\"100ms\", \"1s\"]\n",
        "[[variant]]\nname = \"as is\"\n",
        "[[variant]]\nname = \"short drain, 4 threads\"\ndrain = \"1s\"\n\"service.threads\" = 4\n",
        "[[exclude]]\nvariant = \"as is\"\nclient.op_timeout = \"1s\"\n",
    ))
    .unwrap();
    assert_eq!(e.axes[0].key, VARIANT);
    assert_eq!(e.axes[1].key, "client.op_timeout");
    assert_eq!(e.points.len(), 3, "4 points minus one excluded");
    assert_eq!(e.point_values(0), vec!["as is", "100ms"]);
    let plain = e.model_for(0).unwrap();
    assert_eq!((plain.drain, plain.service.threads), (5_000_000_000, 200));
    let variant = e.model_for(2).unwrap();
    assert_eq!(e.point_values(2), vec!["short drain, 4 threads", "1s"]);
    assert_eq!((variant.drain, variant.service.threads), (1_000_000_000, 4));
    assert_eq!(variant.client.op_timeout, 1_000_000_000);
    // A variant may not set a key that [vary] varies, and needs a name.
    let clash = exp(
        "[vary]\nservice.threads = [1, 2]\n[[variant]]\nname = \"a\"\n\"service.threads\" = 3\n",
    );
    assert!(clash.unwrap_err().message.contains("varied in [vary]"));
    let unnamed = exp("[[variant]]\ndrain = \"1s\"\n");
    assert!(unnamed.unwrap_err().message.contains("no `name`"));
    let bad = exp("[[variant]]\nname = \"a\"\n\"client.op_timeout\" = 5\n")
        .unwrap()
        .model_for(0)
        .unwrap_err();
    assert!(bad.origin.to_string().contains("e.toml:5:"), "{bad}");
}

#[test]
fn set_applies_and_inline_tables_replace() {
    let e = exp(
        "[vary]\nclient.op_timeout = [\"100ms\"]\n[set]\ndrain = \"5s\"\ncluster.service_time = { dist = \"constant\", value = \"1ms\" }\n",
    )
    .unwrap();
    assert_eq!(e.sets[0].key, "drain");
    assert_eq!(e.sets[1].key, "cluster.service_time");
    let m = e.model_for(0).unwrap();
    assert_eq!(m.drain, 5_000_000_000);
}

#[test]
fn literals_are_canonical() {
    let v = |s: &str| literal(DeValue::parse(s).unwrap().get_ref());
    assert_eq!(v("0x10"), "16");
    assert_eq!(v("2.0"), "2.0");
    assert_eq!(v("1e3"), "1000.0");
    assert_eq!(v("'a\"b'"), "\"a\\\"b\"");
    assert_eq!(v("{ b = 1, a = \"x\" }"), "{ a = \"x\", b = 1 }");
    assert!(same_value("\"100ms\"", "\"0.1s\""));
    assert!(same_value("2", "2.0"));
    assert!(!same_value("\"a\"", "\"b\""));
}

#[test]
fn the_copy_names_the_resolved_model() {
    let e = exp("").unwrap();
    let t = e.text_with_model(Path::new("/abs/m.toml"));
    assert!(
        t.starts_with("model = \"/abs/m.toml\"\nreplications = 2"),
        "{t}"
    );
    assert_eq!(e.points, vec![Vec::<usize>::new()]);
}

fn exp_with_replications(replications: &str) -> Result<Experiment, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.toml", MODEL);
    let p = write(
        dir.path(),
        "e.toml",
        &format!("model = \"m.toml\"\nreplications = {replications}\n"),
    );
    Experiment::load(&p)
}

#[test]
fn replications_may_stop_sequentially() {
    let e = exp_with_replications("{ min = 3, max = 10, until = \"±1 pp\" }").unwrap();
    assert_eq!(e.replications.value, 10);
    let s = e.sequential.unwrap();
    assert_eq!((s.min, s.until.as_str()), (3, "±1 pp"));
    assert_eq!(s.half_width(), 0.01);
    assert!(exp_with_replications("4").unwrap().sequential.is_none());
    for bad in [
        "{ min = 1, max = 10, until = \"±1 pp\" }",
        "{ min = 5, max = 4, until = \"±1 pp\" }",
        "{ min = 3, max = 10, until = \"1 %\" }",
    ] {
        let err = exp_with_replications(bad).unwrap_err().to_string();
        assert!(
            err.contains("e.toml:2:") && err.contains("replications"),
            "{bad}: {err}"
        );
    }
}
