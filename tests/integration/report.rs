//! What a reviewer opens: `report.html` of a run and of a sweep, loaded in
//! a real headless Chromium (Debian's `chromium`): no console or load
//! error, every inline image laid out with its text, nothing fetched from
//! the network, and a 1280 px wide screenshot that is not blank. And the
//! plots' text: no chart of a run or a sweep titles or labels an axis with
//! a raw dotted key (they may appear only in the small print for the
//! reproducer).
//!
//! Without Chromium the browser checks are skipped with a printed reason,
//! unless `CACHESTORM_REQUIRE_BROWSER=1` (CI sets it), which makes a
//! missing browser a failure. `CACHESTORM_CHROMIUM` names another binary.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use crate::common::root;
use assert_cmd::Command;
use cachestorm::output::metric::{METRICS, WINDOWS};
use cachestorm::output::names::RAW_KEYS;

fn cachestorm() -> Command {
    let mut c = Command::cargo_bin("cachestorm").unwrap();
    c.current_dir(root());
    c
}

/// A run of the testbed's frozen node and a sweep of it over two fault
/// kinds, with their plots and reports.
fn outputs(dir: &Path) -> (PathBuf, PathBuf) {
    let run = dir.join("run");
    cachestorm()
        .args(["run", "models/testbed/frozen.toml", "--quiet", "--out"])
        .arg(&run)
        .assert()
        .success();
    let exp = dir.join("e.toml");
    let model = root().join("models/testbed/frozen.toml");
    std::fs::write(
        &exp,
        format!(
            "# Which op timeout survives a frozen or a crashed node?\nname = \"report test\"\nmodel = {model:?}\nreplications = 2\nseed = 5\n\
             [vary]\n\"fault.0.kind\" = [\"frozen\", \"crash\"]\n\"client.op_timeout\" = [\"100ms\", \"2500ms\"]\n"
        ),
    )
    .unwrap();
    let sweep = dir.join("sweep");
    cachestorm()
        .args(["sweep", "--quiet", "--threads", "2", "--out"])
        .arg(&sweep)
        .arg(&exp)
        .assert()
        .success();
    (run, sweep)
}

/// Every dotted key a chart could show raw: every metric (each window and
/// node) and the sweep's varied keys.
fn raw_keys(params: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = METRICS
        .iter()
        .flat_map(|m| m.keys(8))
        .filter(|k| k.contains('.'))
        .collect();
    keys.extend(params.iter().map(|p| p.to_string()));
    assert!(
        keys.iter()
            .any(|k| k == &format!("windows.{}.success_ratio", WINDOWS[1]))
    );
    keys
}

/// The text of every `<text>` element of an SVG.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        let after = &rest[i..];
        let open_end = after.find('>').unwrap();
        let close = after.find("</text>").unwrap();
        out.push(after[open_end + 1..close].trim().to_string());
        rest = &after[close..];
    }
    out
}

#[test]
fn no_chart_shows_a_raw_dotted_key_outside_the_small_print() {
    let dir = tempfile::tempdir().unwrap();
    let (run, sweep) = outputs(dir.path());
    let keys = raw_keys(&["fault.0.kind", "client.op_timeout"]);
    let mut charts = 0;
    for folder in [&run, &sweep] {
        for e in std::fs::read_dir(folder).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "svg") {
                continue;
            }
            charts += 1;
            let texts = svg_texts(&std::fs::read_to_string(&path).unwrap());
            assert!(texts.len() > 5, "{}", path.display());
            let small_print: Vec<&String> =
                texts.iter().filter(|t| t.starts_with(RAW_KEYS)).collect();
            for t in texts.iter().filter(|t| !t.starts_with(RAW_KEYS)) {
                for k in &keys {
                    assert!(
                        !t.contains(k.as_str()),
                        "{}: the text {t:?} shows the raw key {k}",
                        path.display()
                    );
                }
            }
            // A sweep's chart names its raw keys in small print.
            if folder == &sweep {
                assert!(
                    small_print
                        .iter()
                        .any(|t| t.contains("windows.fault.success_ratio")),
                    "{}: {texts:?}",
                    path.display()
                );
            }
        }
    }
    // timeline, nodes; heatmap, lines (op timeout is a duration), ranking.
    assert_eq!(charts, 5);
}

/// The browser, or why there is none.
fn chromium() -> Result<String, String> {
    let bin = std::env::var("CACHESTORM_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    match Process::new(&bin).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(bin),
        Ok(o) => Err(format!(
            "`{bin} --version` failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(format!("`{bin}` cannot be started: {e}")),
    }
}

/// The headless browser, or `None` after saying why the test is skipped;
/// with `CACHESTORM_REQUIRE_BROWSER=1` (CI) a missing browser fails.
fn browser_or_skip() -> Option<String> {
    match chromium() {
        Ok(b) => Some(b),
        Err(why) => {
            if std::env::var("CACHESTORM_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("CACHESTORM_REQUIRE_BROWSER=1 but no browser: {why}");
            }
            println!("skipped: no headless browser ({why}); install Debian's `chromium`");
            None
        }
    }
}

fn headless(bin: &str, profile: &Path) -> Process {
    let mut c = Process::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Records load and script errors and `console.error` calls, then, once
/// loaded, writes what it found on the body for `--dump-dom` to show.
const PROBE: &str = r#"<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target && (e.target.src || e.target.href);
  __errors.push(String(e.message || t || 'error'));
}, true);
var __ce = console.error;
console.error = function () { __errors.push(Array.prototype.join.call(arguments, ' ')); __ce.apply(console, arguments); };
window.addEventListener('load', function () {
  var svgs = Array.prototype.slice.call(document.querySelectorAll('svg'));
  var bad = svgs.filter(function (s) {
    var r = s.getBoundingClientRect();
    return !(r.width > 300 && r.height > 150) || s.querySelectorAll('text').length < 5;
  }).length;
  var net = performance.getEntriesByType('resource').length;
  document.body.setAttribute('data-probe', 'images=' + svgs.length + ';bad=' + bad + ';net=' + net + ';errors=' + __errors.length + ';' + __errors.join('|'));
});
</script>"#;

/// Loads `report` in the browser: (images, images not laid out, resources
/// fetched, errors).
fn probe(bin: &str, report: &Path) -> (usize, usize, usize, String) {
    let html = std::fs::read_to_string(report).unwrap();
    let probed = report.with_file_name(".probe.html");
    std::fs::write(
        &probed,
        html.replacen("<head>", &format!("<head>\n{PROBE}"), 1),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = headless(bin, profile.path())
        .args([
            "--window-size=1280,900",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", probed.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let Some(at) = dom.find("data-probe=\"") else {
        panic!(
            "{}: no probe result; stderr: {}",
            report.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let text = &dom[at + 12..];
    let text = &text[..text.find('"').unwrap()];
    let field = |name: &str| -> String {
        text.split(';')
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_string()
    };
    let errors = text.splitn(5, ';').nth(4).unwrap_or_default().to_string();
    std::fs::remove_file(&probed).unwrap();
    (
        field("images").parse().unwrap(),
        field("bad").parse().unwrap(),
        field("net").parse().unwrap(),
        format!("{} {errors}", field("errors")),
    )
}

/// A 1280 px wide screenshot of `report`: (share of pixels that are not
/// near white, distinct colours).
fn screenshot(bin: &str, report: &Path, png: &Path) -> (f64, usize) {
    let profile = tempfile::tempdir().unwrap();
    let out = headless(bin, profile.path())
        .args(["--window-size=1280,1600"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    assert!(
        png.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.width, 1280, "the screenshot is 1280 px wide");
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::BTreeSet::new();
    let mut ink = 0usize;
    let n = pixels.len() / channels;
    for px in pixels.chunks(channels) {
        if px[..3].iter().any(|&c| c < 230) {
            ink += 1;
        }
        colours.insert((px[0] >> 3, px[1] >> 3, px[2] >> 3));
    }
    (ink as f64 / n as f64, colours.len())
}

#[test]
fn reports_open_in_a_real_browser() {
    let Some(bin) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (run, sweep) = outputs(dir.path());
    for (folder, charts) in [(&run, 2), (&sweep, 3)] {
        let report = folder.join("report.html");
        let html = std::fs::read_to_string(&report).unwrap();
        // Self-contained: nothing to fetch (an SVG's namespace is a name,
        // not an address), every plot inline.
        let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(
            !without_ns.contains("http://")
                && !without_ns.contains("https://")
                && !html.contains("<img")
        );
        assert_eq!(html.matches("<svg").count(), charts, "{}", report.display());
        let (images, bad, net, errors) = probe(&bin, &report);
        assert_eq!(images, charts, "{}", report.display());
        assert_eq!(bad, 0, "{}: an image is not laid out", report.display());
        assert_eq!(net, 0, "{}: resources were fetched", report.display());
        assert!(
            errors.starts_with("0 "),
            "{}: errors: {errors}",
            report.display()
        );
        let (ink, colours) = screenshot(&bin, &report, &folder.join("shot.png"));
        assert!(
            ink > 0.03 && colours > 20,
            "{}: a blank page? ink {ink}, {colours} colours",
            report.display()
        );
    }
    // The sweep's report asks its question and ranks by the worst case.
    let html = std::fs::read_to_string(sweep.join("report.html")).unwrap();
    assert!(html.contains("Which op timeout survives a frozen or a crashed node?"));
    assert!(html.contains("worst case"));
    assert!(html.contains("href=\"results.csv\""));
}

/// The README's main job, as a newcomer runs it: its `report.html` opens in
/// a real browser with every chart it drew, asks the experiment's question
/// and ranks by the worst case. About a minute of CPU on two cores, so it
/// runs only where a browser is (CI requires one).
#[test]
fn the_main_jobs_report_opens_in_a_real_browser() {
    let Some(bin) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("incident-mitigations");
    cachestorm()
        .args([
            "sweep",
            "experiments/incident-mitigations.toml",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    // Every chart the sweep drew is inline in its report.
    let charts = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count();
    assert!(charts >= 2, "the main job drew {charts} charts");
    assert_eq!(html.matches("<svg").count(), charts);
    let (images, bad, net, errors) = probe(&bin, &report);
    assert_eq!((images, bad, net), (charts, 0, 0), "{}", report.display());
    assert!(errors.starts_with("0 "), "errors: {errors}");
    let (ink, colours) = screenshot(&bin, &report, &dir.path().join("shot.png"));
    assert!(
        ink > 0.03 && colours > 20,
        "a blank page? ink {ink}, {colours} colours"
    );
    // The question from the experiment's leading comment, and the ranking
    // by the worst case across the three faults.
    let question = std::fs::read_to_string(root().join("experiments/incident-mitigations.toml"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim_start_matches('#')
        .trim()
        .to_string();
    assert!(html.contains("worst case"), "no worst-case ranking");
    assert!(
        html.contains(&question),
        "the report does not ask: {question}"
    );
}
