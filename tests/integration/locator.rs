//! Bit-exactness of the spymemcached Ketama locator against vectors recorded
//! from the real Java client (spymemcached 2.12.3, KETAMA_HASH, four nodes
//! `127.0.0.1:24211..=24214`); see `shared/reference/spymemcached.md` §6.

use cachestorm::sim::locator::{HashAlg, Locator, LocatorKind};

const FIRST_PORT: u16 = 24211;
const NODES: u16 = 4;

fn ketama_locator() -> Locator {
    let keys: Vec<String> = (0..NODES)
        .map(|i| format!("127.0.0.1:{}", FIRST_PORT + i))
        .collect();
    Locator::new(LocatorKind::Ketama, HashAlg::Ketama, &keys).expect("four nodes")
}

fn port(node: u16) -> u16 {
    FIRST_PORT + node
}

#[test]
fn primary_counts_for_10000_keys() {
    let loc = ketama_locator();
    let mut counts = [0u32; NODES as usize];
    for i in 0..10_000 {
        counts[usize::from(loc.primary(&format!("key:{i}")))] += 1;
    }
    assert_eq!(counts, [2738, 2087, 2641, 2534]);
}

/// Every row of `tests/data/keymap.csv`: the primary, and the node
/// Redistribute picks when only the primary is down. An empty
/// `redistribute_port` means none of the 7 `getSequence` probes left the
/// primary, so the client falls back to the (dead) primary.
#[test]
fn keymap_csv_matches_primary_and_redistribution() {
    let loc = ketama_locator();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keymap.csv");
    let mut reader = csv::Reader::from_path(path).expect("keymap.csv");
    assert_eq!(
        reader.headers().expect("header"),
        vec!["key", "primary_port", "redistribute_port"]
    );
    let mut rows = 0;
    let mut stuck = Vec::new();
    for record in reader.records() {
        let record = record.expect("csv row");
        let key = &record[0];
        let want_primary: u16 = record[1].parse().expect("primary port");
        let route = loc.route(key);
        let primary = route.primary();
        assert_eq!(port(primary), want_primary, "primary of {key}");
        assert_eq!(loc.primary(key), primary, "primary() vs route() for {key}");

        let placed = route.place(|n| n != primary);
        if record[2].is_empty() {
            assert_eq!(placed, primary, "{key} should not be redistributable");
            assert!(route.iter().all(|n| n == primary), "{key}");
            stuck.push(key.to_string());
        } else {
            let want: u16 = record[2].parse().expect("redistribute port");
            assert_ne!(placed, primary, "{key} should be redistributable");
            assert_eq!(port(placed), want, "redistribution target of {key}");
        }
        rows += 1;
    }
    assert_eq!(rows, 10_000);
    assert_eq!(stuck, vec!["key:6870".to_string()]);
}

/// Every row of `tests/data/locator_java.csv`, printed by the real
/// `ArrayModNodeLocator` / `KetamaNodeLocator` classes of spymemcached 2.12.3
/// (nodes `10.0.0.1:11211`, `10.0.0.2:11211`, …; 1, 2, 3, 5 and 10 nodes;
/// NATIVE_HASH and KETAMA_HASH; ASCII, Cyrillic, astral-plane and empty
/// keys). Covers the library default (ArrayMod + NATIVE_HASH) and the
/// NATIVE_HASH Ketama ring, which keymap.csv does not.
#[test]
fn java_locator_dump_matches() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/locator_java.csv");
    let mut reader = csv::Reader::from_path(path).expect("locator_java.csv");
    let mut cache: Vec<((String, String, usize), Locator)> = Vec::new();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("csv row");
        let (kind_s, hash_s) = (record[0].to_string(), record[1].to_string());
        let n: usize = record[2].parse().expect("node count");
        let key = &record[3];
        let want_primary: u16 = record[4].parse().expect("primary");
        let want_seq: Vec<u16> = record[5]
            .split_whitespace()
            .map(|s| s.parse().expect("sequence item"))
            .collect();

        let id = (kind_s.clone(), hash_s.clone(), n);
        let loc = match cache.iter().find(|(k, _)| *k == id) {
            Some((_, loc)) => loc,
            None => {
                let kind = match kind_s.as_str() {
                    "ArrayMod" => LocatorKind::ArrayMod,
                    "Ketama" => LocatorKind::Ketama,
                    other => panic!("unknown locator {other}"),
                };
                let hash = match hash_s.as_str() {
                    "NATIVE_HASH" => HashAlg::Native,
                    "KETAMA_HASH" => HashAlg::Ketama,
                    other => panic!("unknown hash {other}"),
                };
                let keys: Vec<String> = (1..=n).map(|i| format!("10.0.0.{i}:11211")).collect();
                let loc = Locator::new(kind, hash, &keys).expect("nodes");
                cache.push((id, loc));
                &cache.last().expect("just pushed").1
            }
        };
        let what = format!("{kind_s} {hash_s} n={n} key={key:?}");
        assert_eq!(loc.primary(key), want_primary, "primary, {what}");
        let seq: Vec<u16> = loc.route(key).iter().collect();
        assert_eq!(seq, want_seq, "sequence, {what}");
        rows += 1;
    }
    assert_eq!(rows, 2 * 2 * 5 * 105);
}
