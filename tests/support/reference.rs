//! A plain reference of "System Shells via Services" (v313) over `serde_json::Value`, written from the
//! project's specification of the rule, of EQL's semantics as Elasticsearch runs this query, and of the raw
//! record shapes (how Elastic's ingest pipelines derive the rule's fields from them). It shares no code with
//! the library: its own field lookup (the document flattened to dotted paths), its own shape detection, its
//! own basenames and command-line splitters (Go's `commandLineToArgv` transcribed; the 4688 and Defender
//! scripts' loops), its own comparisons. Naive on purpose: it allocates freely and is slow.

use serde_json::Value;

/// A record shape (named as the `sources` property spells them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    Ecs,
    WinlogbeatSysmon,
    WinlogbeatSecurity,
    Nxlog,
    Evtx,
    Winevtlog,
    SentinelOne,
    M365,
    CrowdstrikeFdr,
    VectorWinevtlog,
}

impl Shape {
    pub const ALL: [Shape; 10] = [
        Shape::Ecs,
        Shape::WinlogbeatSysmon,
        Shape::WinlogbeatSecurity,
        Shape::Nxlog,
        Shape::Evtx,
        Shape::Winevtlog,
        Shape::SentinelOne,
        Shape::M365,
        Shape::CrowdstrikeFdr,
        Shape::VectorWinevtlog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Ecs => "ecs",
            Shape::WinlogbeatSysmon => "winlogbeat_sysmon",
            Shape::WinlogbeatSecurity => "winlogbeat_security",
            Shape::Nxlog => "nxlog",
            Shape::Evtx => "evtx",
            Shape::Winevtlog => "winevtlog",
            Shape::SentinelOne => "sentinelone",
            Shape::M365 => "m365",
            Shape::CrowdstrikeFdr => "crowdstrike_fdr",
            Shape::VectorWinevtlog => "vector_winevtlog",
        }
    }
}

/// The rule's six fields as a record gives them (every value, in no particular order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub category: Vec<String>,
    pub event_type: Vec<String>,
    pub os: Vec<String>,
    pub name: Vec<String>,
    pub parent: Vec<String>,
    pub args: Vec<String>,
}

impl Fields {
    /// (ECS name, values) pairs, each list sorted.
    pub fn named(&self) -> Vec<(&'static str, Vec<String>)> {
        let s = |v: &Vec<String>| {
            let mut v = v.clone();
            v.sort();
            v
        };
        vec![
            ("event.category", s(&self.category)),
            ("event.type", s(&self.event_type)),
            ("host.os.type", s(&self.os)),
            ("process.name", s(&self.name)),
            ("process.parent.name", s(&self.parent)),
            ("process.args", s(&self.args)),
        ]
    }
}

/// What the reference says about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub shape: Option<Shape>,
    pub fields: Fields,
    pub alert: bool,
}

// ------------------------------------------------------------------------------------ documents

/// Every node of a document with its dotted path: objects are walked (their keys joined with `.`), arrays
/// are transparent (each element sits at the array's path). `null` nodes are kept here and treated as
/// missing by the readers below.
fn flatten<'v>(v: &'v Value, path: String, out: &mut Vec<(String, &'v Value)>) {
    match v {
        Value::Array(items) => {
            for item in items {
                flatten(item, path.clone(), out);
            }
        }
        Value::Object(map) => {
            if !path.is_empty() {
                out.push((path.clone(), v));
            }
            for (k, child) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(child, p, out);
            }
        }
        _ => out.push((path, v)),
    }
}

/// A record read by dotted paths.
pub struct Doc<'v> {
    nodes: Vec<(String, &'v Value)>,
}

impl<'v> Doc<'v> {
    pub fn new(v: &'v Value) -> Doc<'v> {
        let mut nodes = Vec::new();
        flatten(v, String::new(), &mut nodes);
        Doc { nodes }
    }

    /// Every node at `path` (arrays flattened).
    pub fn all(&self, path: &str) -> Vec<&'v Value> {
        self.nodes
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| *v)
            .collect()
    }

    /// The string values at `path`.
    pub fn strings(&self, path: &str) -> Vec<String> {
        self.all(path)
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// A value Elasticsearch would index (string, number or boolean; `null` is missing, an object is not a
    /// value) is at `path`.
    pub fn present(&self, path: &str) -> bool {
        self.all(path)
            .iter()
            .any(|v| v.is_string() || v.is_number() || v.is_boolean())
    }

    pub fn has_object(&self, path: &str) -> bool {
        self.all(path).iter().any(|v| v.is_object())
    }

    /// `path` holds the event id `id` as a string or as a number.
    pub fn is_id(&self, path: &str, id: u64) -> bool {
        self.all(path).iter().any(|v| match v {
            Value::String(s) => *s == id.to_string(),
            Value::Number(n) => n.as_u64() == Some(id),
            _ => false,
        })
    }
}

// ---------------------------------------------------------------------------------- derivations

/// Sysmon: the text after the last `\`; absent without a `\`, for a path of one character or less, and for an
/// empty name.
pub fn basename_sysmon(path: &str) -> Option<String> {
    if path.chars().count() <= 1 {
        return None;
    }
    let (_, name) = path.rsplit_once('\\')?;
    if name.is_empty() {
        None
    } else {
        Some(name.to_string())
    }
}

/// Security 4688: the text after the last `\`, or the whole path.
pub fn basename_4688(path: &str) -> String {
    path.split('\\').next_back().unwrap_or("").to_string()
}

/// Go's `readNextArg` (syscall/exec_windows.go, the version with the "prior to 2008" `""` rule), on chars.
fn read_next_arg(cmd: &[char]) -> (String, &[char]) {
    let mut b = String::new();
    let mut inquote = false;
    let mut nslash = 0usize;
    let mut i = 0;
    while i < cmd.len() {
        let c = cmd[i];
        match c {
            ' ' | '\t' if !inquote => {
                b.push_str(&"\\".repeat(nslash));
                return (b, &cmd[i + 1..]);
            }
            '"' => {
                b.push_str(&"\\".repeat(nslash / 2));
                if nslash.is_multiple_of(2) {
                    if inquote && i + 1 < cmd.len() && cmd[i + 1] == '"' {
                        b.push('"');
                        i += 1;
                    }
                    inquote = !inquote;
                } else {
                    b.push('"');
                }
                nslash = 0;
                i += 1;
                continue;
            }
            '\\' => {
                nslash += 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        b.push_str(&"\\".repeat(nslash));
        nslash = 0;
        b.push(c);
        i += 1;
    }
    b.push_str(&"\\".repeat(nslash));
    (b, &[])
}

/// Sysmon / SentinelOne `process.args`: Go's `commandLineToArgv`. `""` and `-` (dropped by the pipeline
/// before splitting) give no arguments.
pub fn argv_windows(cmd: &str) -> Vec<String> {
    if cmd.is_empty() || cmd == "-" {
        return vec![];
    }
    let chars: Vec<char> = cmd.chars().collect();
    let mut rest: &[char] = &chars;
    let mut args = Vec::new();
    while !rest.is_empty() {
        if rest[0] == ' ' || rest[0] == '\t' {
            rest = &rest[1..];
            continue;
        }
        let (arg, r) = read_next_arg(rest);
        args.push(arg);
        rest = r;
    }
    args
}

/// Java's `Character.isWhitespace`.
pub fn java_whitespace(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{1C}'..='\u{1F}' | ' '
        | '\u{1680}' | '\u{2000}'..='\u{2006}' | '\u{2008}'..='\u{200A}'
        | '\u{2028}' | '\u{2029}' | '\u{205F}' | '\u{3000}')
}

/// Security 4688 `process.args`: quotes toggle and stay, whitespace outside quotes ends a token, the tail is
/// always added. An empty command line gives nothing.
pub fn argv_4688(cmd: &str) -> Vec<String> {
    if cmd.is_empty() {
        return vec![];
    }
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut inquote = false;
    for c in cmd.chars() {
        if c == '"' {
            inquote = !inquote;
            cur.push(c);
        } else if java_whitespace(c) && !inquote {
            args.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    args.push(cur);
    args
}

/// Defender `process.args`: Java `trim()` (every char ≤ U+0020), split on the space, empty tokens dropped.
pub fn argv_m365(cmd: &str) -> Vec<String> {
    cmd.trim_matches(|c: char| c <= ' ')
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// SentinelOne `process.args`: `\\` → `\` over the raw line, one pair of outer quotes removed, then
/// [`argv_windows`].
pub fn argv_sentinelone(cmd: &str) -> Vec<String> {
    let collapsed = cmd.replace("\\\\", "\\");
    let c = collapsed.as_str();
    let c = if c.len() >= 2 && c.starts_with('"') && c.ends_with('"') {
        &c[1..c.len() - 1]
    } else {
        c
    };
    argv_windows(c)
}

/// CrowdStrike FDR `process.args` (the crowdstrike `fdr` pipeline, script `split_command_line`, then
/// `remove_nulls`): Go's `commandLineToArgv` keeping no empty argument, then `-` and `none` removed.
pub fn argv_fdr(cmd: &str) -> Vec<String> {
    let chars: Vec<char> = cmd.chars().collect();
    let mut rest: &[char] = &chars;
    let mut args = Vec::new();
    while !rest.is_empty() {
        if rest[0] == ' ' || rest[0] == '\t' {
            rest = &rest[1..];
            continue;
        }
        let (arg, r) = read_next_arg(rest);
        rest = r;
        if !arg.is_empty() {
            args.push(arg);
        }
    }
    args.retain(|a| a != "-" && a != "none");
    args
}

/// CrowdStrike FDR `process.name` before `remove_nulls` (script `process_name`): Painless
/// `splitOnToken(sep)[-1]` when the executable starts with `\` or `/`, else the whole executable.
pub fn fdr_process_name(exe: &str) -> String {
    for sep in ['\\', '/'] {
        if exe.starts_with(sep) {
            return exe.split(sep).next_back().unwrap_or("").to_string();
        }
    }
    exe.to_string()
}

/// The `event_simpleName`s the crowdstrike `fdr` pipeline's `categorize` parameters give category
/// `process` and type `start`.
pub const FDR_PROCESS_STARTS: [&str; 26] = [
    "ActiveDirectoryIncomingPsExecExecution2",
    "ClassifiedProcessStart",
    "CreateProcessArgs",
    "CreateThreadKernelNoStartImage",
    "CreateThreadNoStartImage",
    "EddScanStart",
    "FileWrittenAndExecutedInContainer",
    "FlashThreadCreateProcess",
    "HostedServiceStarted",
    "KernelServiceStarted",
    "OdsStarted",
    "PhpExecuteScript",
    "ProcessExecOnRDPFile",
    "ProcessExecOnWinRMFile",
    "ProcessRollup",
    "ProcessRollup2",
    "ProcessSessionCreated",
    "PtyAttached",
    "RecentlyModifiedFileExecutedInContainer",
    "RemoteThreadCreate",
    "ServiceStarted",
    "SuspectCreateThreadStack",
    "SyntheticProcessRollup2",
    "WSLDistributionStarted",
    "WSLVMStarted",
    "WmiCreateProcess",
];

/// CrowdStrike FDR: the six fields of one record (`event_simpleName` present).
fn fdr_fields(doc: &Doc) -> Fields {
    // `remove_nulls` deletes these values wherever they are.
    let kept = |v: &String| !v.is_empty() && v != "-" && v != "none";
    let mut f = Fields::default();
    if !doc
        .strings("event_simpleName")
        .iter()
        .any(|n| FDR_PROCESS_STARTS.contains(&n.as_str()))
    {
        return f;
    }
    f.category.push("process".into());
    f.event_type.push("start".into());
    for platform in doc.strings("event_platform") {
        let os = match platform.as_str() {
            "Lin" => "linux",
            "Mac" => "macos",
            "Win" => "windows",
            "iOS" => "ios",
            _ => continue,
        };
        f.os.push(os.into());
    }
    // `split_command_line` runs only once `host.os.type` is set.
    let cmds = if f.os.is_empty() {
        vec![]
    } else {
        doc.strings("CommandLine")
    };
    for c in &cmds {
        f.args.extend(argv_fdr(c));
    }
    for exe in doc.strings("ImageFileName") {
        if exe.is_empty() {
            continue;
        }
        let name = fdr_process_name(&exe);
        if exe == "/" && name.is_empty() {
            // `parse_process_name_from_command_line`: args[0] after its last `/` (the split keeps no empty
            // argument; `-` and `none` are removed only at the end).
            for c in &cmds {
                let first = argv_windows(c).into_iter().find(|a| !a.is_empty());
                if let Some(a) = first {
                    let n = a.rsplit('/').next().unwrap_or("").to_string();
                    f.name.push(n);
                }
            }
        } else {
            f.name.push(name);
        }
    }
    f.name.retain(kept);
    f.parent = doc.strings("ParentBaseFileName");
    f.parent.retain(kept);
    f
}

// ---------------------------------------------------------------------------------------- shapes

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    hay.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

/// Derives the six fields of a Windows event-log record whose named event data sits under `data`
/// (`""` for top-level), or whose values are given directly.
struct WinEvent {
    sysmon: bool,
    start: bool,
    images: Vec<String>,
    parents: Vec<String>,
    cmds: Vec<String>,
}

fn win_fields(doc: &Doc, e: WinEvent) -> Fields {
    let mut f = Fields::default();
    if e.start {
        f.category.push("process".into());
        f.event_type.push("start".into());
    }
    if doc.present("host.os.type") {
        f.os = doc.strings("host.os.type");
    } else {
        f.os.push("windows".into());
    }
    for (paths, out) in [(&e.images, &mut f.name), (&e.parents, &mut f.parent)] {
        for p in paths {
            if e.sysmon {
                out.extend(basename_sysmon(p));
            } else {
                out.push(basename_4688(p));
            }
        }
    }
    for c in &e.cmds {
        f.args.extend(if e.sysmon {
            argv_windows(c)
        } else {
            argv_4688(c)
        });
    }
    f
}

fn named_event(doc: &Doc, prefix: &str, sysmon: bool, start: bool) -> WinEvent {
    let get = |k: &str| doc.strings(&format!("{prefix}{k}"));
    let (image, parent) = if sysmon {
        ("Image", "ParentImage")
    } else {
        ("NewProcessName", "ParentProcessName")
    };
    WinEvent {
        sysmon,
        start,
        images: get(image),
        parents: get(parent),
        cmds: get("CommandLine"),
    }
}

/// Sysmon (`Some(true)`), Security (`Some(false)`) or another channel.
fn channel_kind(doc: &Doc, path: &str) -> Option<bool> {
    let ch = doc.strings(path);
    if ch.iter().any(|c| c == SYSMON) {
        Some(true)
    } else if ch.iter().any(|c| c == "Security") {
        Some(false)
    } else {
        None
    }
}

/// Detects the shape (every shape enabled) and derives the six fields.
pub fn derive(v: &Value) -> (Option<Shape>, Fields) {
    let doc = Doc::new(v);
    // ECS precedence.
    if doc.present("process.name") || doc.present("process.parent.name") {
        let f = Fields {
            category: doc.strings("event.category"),
            event_type: doc.strings("event.type"),
            os: doc.strings("host.os.type"),
            name: doc.strings("process.name"),
            parent: doc.strings("process.parent.name"),
            args: doc.strings("process.args"),
        };
        return (Some(Shape::Ecs), f);
    }
    // Winlogbeat / Elastic Agent.
    if let Some(sysmon) = channel_kind(&doc, "winlog.channel") {
        let start = doc.is_id("winlog.event_id", if sysmon { 1 } else { 4688 });
        let shape = if sysmon {
            Shape::WinlogbeatSysmon
        } else {
            Shape::WinlogbeatSecurity
        };
        let e = named_event(&doc, "winlog.event_data.", sysmon, start);
        return (Some(shape), win_fields(&doc, e));
    }
    // evtx_dump.
    if doc.present("Event.System.Channel") {
        let Some(sysmon) = channel_kind(&doc, "Event.System.Channel") else {
            return (Some(Shape::Evtx), Fields::default());
        };
        let id = if sysmon { 1 } else { 4688 };
        let start =
            doc.is_id("Event.System.EventID", id) || doc.is_id("Event.System.EventID.#text", id);
        let e = named_event(&doc, "Event.EventData.", sysmon, start);
        return (Some(Shape::Evtx), win_fields(&doc, e));
    }
    // NXLog / Fluent Bit in_winevtlog.
    if doc.present("Channel") {
        let inserts = doc.all("StringInserts");
        let fb = !inserts.is_empty() || doc.has_object("EventData") || doc.present("ProviderName");
        let shape = if fb { Shape::Winevtlog } else { Shape::Nxlog };
        let Some(sysmon) = channel_kind(&doc, "Channel") else {
            return (Some(shape), Fields::default());
        };
        let start = doc.is_id("EventID", if sysmon { 1 } else { 4688 });
        let e = if !fb {
            named_event(&doc, "", sysmon, start)
        } else if doc.has_object("EventData") {
            named_event(&doc, "EventData.", sysmon, start)
        } else {
            let n = inserts.len();
            let at = |k: Option<usize>| -> Vec<String> {
                k.and_then(|k| inserts.get(k))
                    .and_then(|v| v.as_str())
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default()
            };
            let (image, parent, cmd) = if sysmon {
                match n {
                    21 => (Some(4), Some(19), Some(9)),
                    22 | 23 => (Some(4), Some(20), Some(10)),
                    _ => (Some(4), None, None),
                }
            } else {
                (Some(5), (n >= 15).then_some(13), Some(8))
            };
            WinEvent {
                sysmon,
                start,
                images: at(image),
                parents: at(parent),
                cmds: at(cmd),
            }
        };
        return (Some(shape), win_fields(&doc, e));
    }
    // SentinelOne Cloud Funnel.
    if doc.present("meta.event.name") {
        let start = doc
            .strings("meta.event.name")
            .iter()
            .any(|n| n == "PROCESSCREATION");
        let mut f = Fields::default();
        if start {
            f.category.push("process".into());
            f.event_type.push("start".into());
        }
        f.os = doc
            .strings("endpoint.os")
            .into_iter()
            .filter(|o| ["linux", "windows", "macos", "ios", "android"].contains(&o.as_str()))
            .collect();
        f.name = doc.strings("tgt.process.name");
        f.parent = doc.strings("src.process.name");
        for c in doc.strings("tgt.process.cmdline") {
            f.args.extend(argv_sentinelone(&c));
        }
        return (Some(Shape::SentinelOne), f);
    }
    // Microsoft Defender DeviceProcessEvents.
    if doc
        .strings("category")
        .iter()
        .any(|c| contains_ignore_ascii_case(c, "DeviceProcessEvents"))
    {
        let mut f = Fields {
            category: vec!["process".into()],
            ..Fields::default()
        };
        if doc
            .strings("properties.ActionType")
            .iter()
            .any(|a| contains_ignore_ascii_case(a, "ProcessCreated"))
        {
            f.event_type.push("start".into());
        }
        if doc
            .strings("properties.OSPlatform")
            .iter()
            .any(|o| contains_ignore_ascii_case(o, "windows"))
        {
            f.os.push("windows".into());
        }
        f.name = doc.strings("properties.FileName");
        f.parent = doc.strings("properties.InitiatingProcessFileName");
        for c in doc.strings("properties.ProcessCommandLine") {
            f.args.extend(argv_m365(&c));
        }
        return (Some(Shape::M365), f);
    }
    // CrowdStrike Falcon Data Replicator.
    if doc.present("event_simpleName") {
        return (Some(Shape::CrowdstrikeFdr), fdr_fields(&doc));
    }
    // Vector windows_event_log: System values top-level in snake_case, named event data in `event_data`
    // (unnamed data alone goes to `string_inserts`, which Sysmon 1 and 4688 never use).
    if doc.present("channel") && doc.present("provider_name") {
        let Some(sysmon) = channel_kind(&doc, "channel") else {
            return (Some(Shape::VectorWinevtlog), Fields::default());
        };
        let start = doc.is_id("event_id", if sysmon { 1 } else { 4688 });
        let e = named_event(&doc, "event_data.", sysmon, start);
        return (Some(Shape::VectorWinevtlog), win_fields(&doc, e));
    }
    (None, Fields::default())
}

// ------------------------------------------------------------------------------------------ rule

/// EQL `:` on one value: ASCII letters fold, nothing else does (the rule's patterns have no wildcards).
fn like(value: &str, pattern: &str) -> bool {
    let fold = |s: &str| -> Vec<char> { s.chars().map(|c| c.to_ascii_lowercase()).collect() };
    fold(value) == fold(pattern)
}

/// The rule v313 on the six fields. Every comparison is any-of over the field's values; a missing field
/// makes `==` and `:` false and `not` true.
pub fn rule(f: &Fields) -> bool {
    let any_eq = |vals: &[String], want: &str| vals.iter().any(|v| v == want);
    let any_like =
        |vals: &[String], pats: &[&str]| vals.iter().any(|v| pats.iter().any(|p| like(v, p)));
    any_eq(&f.category, "process")
        && any_eq(&f.os, "windows")
        && any_eq(&f.event_type, "start")
        && any_like(&f.parent, &["services.exe"])
        && any_like(
            &f.name,
            &[
                "cmd.exe",
                "powershell.exe",
                "pwsh.exe",
                "powershell_ise.exe",
            ],
        )
        && !any_like(&f.args, &["NVDisplay.ContainerLocalSystem"])
}

/// The reference's verdict on a record with every shape enabled.
pub fn evaluate(v: &Value) -> Verdict {
    let (shape, fields) = derive(v);
    let alert = shape.is_some() && rule(&fields);
    Verdict {
        shape,
        fields,
        alert,
    }
}

/// The verdict on one JSON line; `None` when it is not a JSON object.
pub fn evaluate_line(line: &[u8]) -> Option<Verdict> {
    let v: Value = serde_json::from_slice(line).ok()?;
    v.is_object().then(|| evaluate(&v))
}
