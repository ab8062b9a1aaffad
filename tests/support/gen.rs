//! A deterministic labelled generator of records of every shape: process starts that are attacks, NVDisplay
//! near misses, look-alikes (other children and parents, renamed shells, homoglyphs, other case, paths
//! without a backslash), other events of the same shapes, decoys (rule-like text inside unrelated values),
//! command lines with the splitters' hard characters (spaces, tabs, quotes, runs of backslashes before
//! quotes, `""`, empty arguments, non-ASCII), numbers, booleans and nulls where strings are expected,
//! dotted, nested and mixed keys, arrays, `\u` escapes and varied spacing in the JSON text.
//!
//! Labels come from [`super::reference`] on the exact bytes written. The output is a function of the
//! arguments only (its own small PRNG, no external crate).

use serde_json::{json, Map, Value};

use super::reference::{self, Shape};

/// splitmix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// How often each kind of record appears.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    /// Share of records that are process events (the rest: network, file, logon, ... of the same shape).
    pub process: f64,
    /// Share of process events that are attacks (services.exe starting a shell).
    pub attack: f64,
    /// Share of process events that are NVDisplay near misses (an attack line with an NVDisplay argument).
    pub nv: f64,
    /// Share of process events that are look-alikes.
    pub lookalike: f64,
    /// Share of records carrying rule-like text in an unrelated value.
    pub decoy: f64,
    /// Share of records whose values are disturbed (numbers, booleans, nulls, arrays, case).
    pub odd: f64,
    /// Share of records re-keyed with dotted or mixed keys.
    pub dotted: f64,
}

impl Default for Rates {
    fn default() -> Rates {
        Rates {
            process: 0.6,
            attack: 0.25,
            nv: 0.1,
            lookalike: 0.3,
            decoy: 0.05,
            odd: 0.1,
            dotted: 0.1,
        }
    }
}

/// Generated records with their labels.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub lines: Vec<Vec<u8>>,
    /// The reference's verdict on each line.
    pub labels: Vec<bool>,
    /// The shape each line was generated as (what the reference detects may differ, e.g. ECS precedence).
    pub made_as: Vec<Shape>,
    /// The shape the reference detects.
    pub shapes: Vec<Option<Shape>>,
}

impl Corpus {
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l).count()
    }
}

/// `n` records, each of a shape drawn from `shapes` (repeat a shape to weigh it), seeded.
pub fn corpus(shapes: &[Shape], n: usize, seed: u64, rates: Rates) -> Corpus {
    let mut rng = Rng::new(seed);
    let mut c = Corpus::default();
    for _ in 0..n {
        let shape = *rng.pick(shapes);
        let v = record(&mut rng, shape, &rates);
        let line = to_json(&mut rng, &v);
        let verdict = reference::evaluate_line(&line).expect("generated records are JSON objects");
        c.lines.push(line);
        c.labels.push(verdict.alert);
        c.made_as.push(shape);
        c.shapes.push(verdict.shape);
    }
    c
}

// ------------------------------------------------------------------------------------ the events

const SHELLS: [&str; 4] = [
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "powershell_ise.exe",
];
const NV: &str = "NVDisplay.ContainerLocalSystem";

/// One process event, before it is written in a shape.
#[derive(Debug, Clone)]
pub struct Proc {
    pub child: String,
    pub parent: String,
    pub dir: String,
    pub parent_dir: String,
    pub cmd: String,
    pub start: bool,
    pub sysmon: bool,
    /// `None`: no host.os.type; else the value written.
    pub os: Option<Value>,
}

/// Random ASCII case changes.
pub fn recase(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.chance(0.3) {
                c.to_ascii_uppercase()
            } else if rng.chance(0.3) {
                c.to_ascii_lowercase()
            } else {
                c
            }
        })
        .collect()
}

/// A random argument made of the splitters' hard characters.
pub fn hard_arg(rng: &mut Rng) -> String {
    const PARTS: [&str; 22] = [
        " ", "\t", "\"", "\\", "\\\\", "\\\"", "\\\\\"", "\\\\\\\"", "\"\"", "a", "b", "-x", "é",
        "ſ", "\u{3000}", "\u{a0}", "\u{2007}", "\u{1680}", "\n", "\r", "\u{85}", NV,
    ];
    let n = rng.below(6);
    (0..n).map(|_| *rng.pick(&PARTS)).collect()
}

/// Quotes one argument the way Windows programs expect (`CommandLineToArgvW` inverse).
fn quote_windows(a: &str) -> String {
    if !a.is_empty() && !a.contains([' ', '\t', '"']) {
        return a.to_string();
    }
    let mut out = String::from("\"");
    let mut slashes = 0;
    for c in a.chars() {
        if c == '\\' {
            slashes += 1;
            continue;
        }
        if c == '"' {
            out.push_str(&"\\".repeat(slashes * 2 + 1));
        } else {
            out.push_str(&"\\".repeat(slashes));
        }
        slashes = 0;
        out.push(c);
    }
    out.push_str(&"\\".repeat(slashes * 2));
    out.push('"');
    out
}

/// A command line for `child` with `args`, written one of several ways.
fn command_line(rng: &mut Rng, exe: &str, args: &[String]) -> String {
    let mut all = vec![exe.to_string()];
    all.extend(args.iter().cloned());
    let seps = [" ", " ", " ", "  ", "\t", " \t ", "\u{3000}"];
    let joined = |rng: &mut Rng, parts: Vec<String>| -> String {
        let mut s = String::new();
        for (k, p) in parts.into_iter().enumerate() {
            if k > 0 {
                let sep = seps[rng.below(seps.len())];
                s.push_str(sep);
            }
            s.push_str(&p);
        }
        s
    };
    let mut cmd = match rng.below(6) {
        // Plain.
        0 | 1 => joined(rng, all),
        // Windows-quoted.
        2 | 3 => {
            let q = all.iter().map(|a| quote_windows(a)).collect();
            joined(rng, q)
        }
        // Quoted naively (quotes kept in the text as they are).
        4 => {
            let q = all.iter().map(|a| format!("\"{a}\"")).collect();
            joined(rng, q)
        }
        // The whole line in quotes (SentinelOne writes some this way).
        _ => format!("\"{}\"", joined(rng, all)),
    };
    if rng.chance(0.1) {
        cmd.push(' ');
    }
    if rng.chance(0.05) {
        cmd.insert(0, ' ');
    }
    if rng.chance(0.05) {
        // SentinelOne-style doubled backslashes.
        cmd = cmd.replace('\\', "\\\\");
    }
    cmd
}

fn attack_args(rng: &mut Rng) -> Vec<String> {
    let pool: [&[&str]; 8] = [
        &["/c", "whoami"],
        &["/c", "echo", "x", ">", "\\\\.\\pipe\\svc"],
        &["-nop", "-w", "hidden", "-enc", "SQBFAFgAKABOAGUAdwA="],
        &["/c", "C:\\Program Files\\Tool\\run.bat"],
        &["-c", "Get-Process | Out-File \"C:\\x y\\o.txt\""],
        &["/c", "\"\""],
        &["/q", "/c", "start", "\"\"", "C:\\tmp\\a b.exe"],
        &[],
    ];
    let mut a: Vec<String> = rng.pick(&pool).iter().map(|s| s.to_string()).collect();
    if rng.chance(0.4) {
        for _ in 0..1 + rng.below(3) {
            a.push(hard_arg(rng));
        }
    }
    a
}

fn nv_args(rng: &mut Rng) -> Vec<String> {
    let nv = [
        NV.to_string(),
        NV.to_ascii_lowercase(),
        NV.to_ascii_uppercase(),
        format!("-s={NV}"),
        format!("{NV}\\LocalSystem"),
        format!("\"{NV}\""),
        format!("{NV} "),
        NV.replace('s', "ſ"),
        NV.replace('i', "İ"),
        format!("{NV}\t-f"),
        format!("x{NV}"),
    ];
    let mut a = vec!["-s".to_string(), rng.pick(&nv).clone()];
    if rng.chance(0.5) {
        a.push("-f".into());
        a.push("C:\\ProgramData\\NVIDIA\\NVDisplay.Container.log".into());
    }
    if rng.chance(0.3) {
        a.insert(0, hard_arg(rng));
    }
    a
}

const DIRS: [&str; 8] = [
    "C:\\Windows\\System32\\",
    "C:\\Windows\\System32\\",
    "C:\\Windows\\SysWOW64\\",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\",
    "\\\\?\\C:\\Windows\\system32\\",
    "C:\\Users\\Public\\",
    "",
    "C:/Windows/System32/",
];

fn lookalike_child(rng: &mut Rng) -> String {
    let pool = [
        "svchost.exe",
        "msiexec.exe",
        "PSEXESVC.exe",
        "TrustedInstaller.exe",
        "NVDisplay.Container.exe",
        "cmd.com",
        "cmd.exe.bak",
        "cmd",
        "cmd.exe ",
        " cmd.exe",
        "сmd.exe",
        "powerſhell.exe",
        "pwsh.exe\u{0}",
        "powershell_ise.EXE",
        "CMD.EXE",
        "PowerShell.exe",
        "\u{212a}md.exe",
        "",
    ];
    rng.pick(&pool).to_string()
}

fn lookalike_parent(rng: &mut Rng) -> String {
    let pool = [
        "services.exe.bak",
        "service.exe",
        "SERVICES.EXE",
        "Services.Exe",
        "explorer.exe",
        "svchost.exe",
        "WmiPrvSE.exe",
        "PSEXESVC.exe",
        "wsmprovhost.exe",
        "servİces.exe",
        "ſervices.exe",
        "services",
        "services.exe ",
        "",
    ];
    rng.pick(&pool).to_string()
}

fn os_value(rng: &mut Rng, rates: &Rates, raw: bool) -> Option<Value> {
    if rng.chance(rates.odd) {
        return Some(
            rng.pick(&[
                json!(1),
                json!(0),
                json!(true),
                json!(false),
                json!(null),
                json!("Windows"),
                json!(""),
                json!(["windows"]),
                json!([null, "windows"]),
                json!(["linux", "windows"]),
                json!([1]),
                json!([]),
                json!([null]),
            ])
            .clone(),
        );
    }
    if raw && rng.chance(0.4) {
        return None;
    }
    Some(json!(
        *rng.pick(&["windows", "windows", "windows", "linux", "macos"])
    ))
}

/// A process event: an attack, a near miss or a look-alike, or an ordinary start.
fn process_event(rng: &mut Rng, rates: &Rates, raw: bool) -> Proc {
    let roll = rng.next() as f64 / u64::MAX as f64;
    let (mut child, mut parent, args);
    if roll < rates.attack {
        let shell = *rng.pick(&SHELLS);
        child = recase(rng, shell);
        parent = recase(rng, "services.exe");
        args = attack_args(rng);
    } else if roll < rates.attack + rates.nv {
        let shell = *rng.pick(&SHELLS);
        child = recase(rng, shell);
        parent = "services.exe".into();
        args = nv_args(rng);
    } else if roll < rates.attack + rates.nv + rates.lookalike {
        child = if rng.chance(0.5) {
            lookalike_child(rng)
        } else {
            rng.pick(&SHELLS).to_string()
        };
        parent = if rng.chance(0.5) {
            lookalike_parent(rng)
        } else {
            "services.exe".into()
        };
        args = attack_args(rng);
    } else {
        child = rng
            .pick(&["chrome.exe", "notepad.exe", "conhost.exe", "svchost.exe"])
            .to_string();
        parent = rng
            .pick(&[
                "explorer.exe",
                "services.exe",
                "svchost.exe",
                "userinit.exe",
            ])
            .to_string();
        args = if rng.chance(0.5) {
            vec![hard_arg(rng)]
        } else {
            vec!["--type=renderer".into()]
        };
    }
    if child.is_empty() && rng.chance(0.5) {
        child = "x.exe".into();
    }
    if parent.is_empty() && rng.chance(0.5) {
        parent = "x.exe".into();
    }
    let dir = rng.pick(&DIRS).to_string();
    let parent_dir = rng.pick(&DIRS).to_string();
    let exe = if rng.chance(0.5) {
        format!("{dir}{child}")
    } else {
        child.clone()
    };
    let cmd = if rng.chance(0.05) {
        rng.pick(&["", "-", " ", "\"\"", "\""]).to_string()
    } else {
        command_line(rng, &exe, &args)
    };
    Proc {
        child,
        parent,
        dir,
        parent_dir,
        cmd,
        start: rng.chance(0.85),
        sysmon: rng.chance(0.6),
        os: os_value(rng, rates, raw),
    }
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

impl Proc {
    fn image(&self) -> String {
        format!("{}{}", self.dir, self.child)
    }
    fn parent_image(&self) -> String {
        format!("{}{}", self.parent_dir, self.parent)
    }
    fn channel(&self) -> &'static str {
        if self.sysmon {
            SYSMON
        } else {
            "Security"
        }
    }
    fn eid(&self, rng: &mut Rng) -> u64 {
        match (self.sysmon, self.start) {
            (true, true) => 1,
            (false, true) => 4688,
            (true, false) => *rng.pick(&[3, 5, 11, 13, 22]),
            (false, false) => *rng.pick(&[4624, 4689, 4672, 5156]),
        }
    }
    fn event_data(&self) -> Value {
        if self.sysmon {
            json!({"RuleName": "-", "UtcTime": "2024-05-13 06:16:14.123", "ProcessId": "4412",
                "Image": self.image(), "CommandLine": self.cmd, "CurrentDirectory": "C:\\Windows\\system32\\",
                "User": "NT AUTHORITY\\SYSTEM", "IntegrityLevel": "System",
                "ParentImage": self.parent_image(), "ParentCommandLine": "C:\\Windows\\system32\\services.exe"})
        } else {
            json!({"SubjectUserName": "WIN$", "NewProcessId": "0x1a4", "NewProcessName": self.image(),
                "TokenElevationType": "%%1936", "CommandLine": self.cmd,
                "ParentProcessName": self.parent_image(), "MandatoryLabel": "S-1-16-16384"})
        }
    }
    fn host(&self, v: &mut Map<String, Value>) {
        let mut host = json!({"name": "ws-0142.corp.example.org"});
        if let Some(os) = &self.os {
            host["os"] = json!({"type": os, "family": "windows"});
        }
        v.insert("host".into(), host);
    }

    /// The event written in `shape`.
    pub fn write(&self, rng: &mut Rng, shape: Shape) -> Value {
        let mut m = Map::new();
        m.insert("@timestamp".into(), json!("2024-05-13T06:16:14.123Z"));
        match shape {
            Shape::Ecs => {
                let args = reference::argv_windows(&self.cmd);
                let mut p = json!({"pid": 4412, "name": self.child, "executable": self.image(),
                    "command_line": self.cmd, "parent": {"name": self.parent, "pid": 668}});
                if !args.is_empty() || rng.chance(0.5) {
                    p["args"] = json!(args);
                }
                let kind = if self.start { "start" } else { "end" };
                let ty = match rng.below(4) {
                    0 => json!(kind),
                    1 => json!([kind, "process_started"]),
                    _ => json!([kind]),
                };
                m.insert(
                    "event".into(),
                    json!({"category": ["process"], "type": ty, "kind": "event"}),
                );
                self.host(&mut m);
                if rng.chance(0.05) {
                    // Winlogbeat 7 Sysmon module output: ECS next to the raw event.
                    m.insert(
                        "winlog".into(),
                        json!({"channel": SYSMON, "event_id": 1, "event_data": self.event_data()}),
                    );
                }
                m.insert("process".into(), p);
            }
            Shape::WinlogbeatSysmon | Shape::WinlogbeatSecurity => {
                let this = Proc {
                    sysmon: shape == Shape::WinlogbeatSysmon,
                    ..self.clone()
                };
                let eid = this.eid(rng);
                let eid = if rng.chance(0.2) {
                    json!(eid)
                } else {
                    json!(eid.to_string())
                };
                m.insert("event".into(), json!({"code": eid, "kind": "event"}));
                this.host(&mut m);
                m.insert(
                    "winlog".into(),
                    json!({"channel": this.channel(), "event_id": eid, "provider_name": "p",
                        "computer_name": "ws-0142", "event_data": this.event_data()}),
                );
            }
            Shape::Nxlog => {
                m.insert("EventID".into(), json!(self.eid(rng)));
                m.insert("Channel".into(), json!(self.channel()));
                m.insert("SourceName".into(), json!("Microsoft-Windows-Sysmon"));
                m.insert("Hostname".into(), json!("ws-0142"));
                if let Value::Object(d) = self.event_data() {
                    m.extend(d);
                }
                if rng.chance(0.5) {
                    m.insert("host".into(), json!("ws-0142"));
                }
                if let Some(os) = &self.os {
                    if rng.chance(0.5) {
                        m.insert("host".into(), json!({"os": {"type": os}}));
                    }
                }
                m.insert("Message".into(), json!("Process Create:"));
            }
            Shape::Evtx => {
                let eid = self.eid(rng);
                let id = if rng.chance(0.3) {
                    json!({"#attributes": {"Qualifiers": 0}, "#text": eid})
                } else {
                    json!(eid)
                };
                m.insert(
                    "Event".into(),
                    json!({"#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
                        "System": {"EventID": id, "Channel": self.channel(), "Computer": "ws-0142"},
                        "EventData": self.event_data()}),
                );
                if self.os.is_some() && rng.chance(0.3) {
                    self.host(&mut m);
                }
            }
            Shape::Winevtlog => {
                m.insert("ProviderName".into(), json!("Microsoft-Windows-Sysmon"));
                m.insert("EventID".into(), json!(self.eid(rng)));
                m.insert("Channel".into(), json!(self.channel()));
                m.insert("Computer".into(), json!("ws-0142"));
                if rng.chance(0.3) {
                    m.insert("EventData".into(), self.event_data());
                } else {
                    let n = if self.sysmon {
                        *rng.pick(&[21, 22, 23, 21, 22, 23, 20, 24])
                    } else {
                        *rng.pick(&[15, 15, 9, 14, 16])
                    };
                    let (image, parent, cmd) = if self.sysmon {
                        if n == 21 {
                            (4, 19, 9)
                        } else {
                            (4, 20, 10)
                        }
                    } else {
                        (5, 13, 8)
                    };
                    let mut ins: Vec<Value> = (0..n).map(|k| json!(format!("v{k}"))).collect();
                    for (k, s) in [
                        (image, self.image()),
                        (parent, self.parent_image()),
                        (cmd, self.cmd.clone()),
                    ] {
                        if k < n {
                            ins[k] = json!(s);
                        }
                    }
                    if rng.chance(0.1) {
                        let k = rng.below(n);
                        ins[k] = rng.pick(&[json!(null), json!(7), json!(true)]).clone();
                    }
                    m.insert("StringInserts".into(), json!(ins));
                }
                if self.os.is_some() && rng.chance(0.3) {
                    self.host(&mut m);
                }
            }
            Shape::VectorWinevtlog => {
                // As Vector's windows_event_log source writes it (legacy namespace): `host` and `message`
                // from the log schema, System values top-level, named data in `event_data`.
                m.remove("@timestamp");
                let eid = self.eid(rng);
                let eid = if rng.chance(0.1) {
                    json!(eid.to_string())
                } else {
                    json!(eid)
                };
                let provider = if self.sysmon {
                    "Microsoft-Windows-Sysmon"
                } else {
                    "Microsoft-Windows-Security-Auditing"
                };
                for (k, v) in [
                    ("timestamp", json!("2024-05-13T06:16:14.123Z")),
                    ("message", json!("Process Create:")),
                    ("host", json!("ws-0142")),
                    ("event_id", eid),
                    ("record_id", json!(81234)),
                    ("level", json!("Information")),
                    ("level_value", json!(4)),
                    ("channel", json!(self.channel())),
                    ("provider_name", json!(provider)),
                    ("computer", json!("ws-0142")),
                    ("process_id", json!(3316)),
                    ("thread_id", json!(4180)),
                    ("version", json!(if self.sysmon { 5 } else { 2 })),
                ] {
                    m.insert(k.into(), v);
                }
                if rng.chance(0.9) {
                    m.insert("event_data".into(), self.event_data());
                }
                if rng.chance(0.1) {
                    // Unnamed data only: never the process fields.
                    m.insert("string_inserts".into(), json!(["v0", "v1"]));
                }
                if self.os.is_some() && rng.chance(0.3) {
                    self.host(&mut m);
                }
            }
            Shape::SentinelOne => {
                let name = if self.start {
                    "PROCESSCREATION"
                } else {
                    *rng.pick(&[
                        "PROCESSTERMINATION",
                        "processcreation",
                        "PROCESSMODIFICATION",
                    ])
                };
                for (k, v) in [
                    ("meta.event.name", json!(name)),
                    ("event.type", json!("Process Creation")),
                    ("event.category", json!("process")),
                    (
                        "endpoint.os",
                        json!(*rng.pick(&["windows", "windows", "linux", "Windows", "win"])),
                    ),
                    ("tgt.process.name", json!(self.child)),
                    ("tgt.process.image.path", json!(self.image())),
                    ("tgt.process.cmdline", json!(self.cmd)),
                    ("src.process.name", json!(self.parent)),
                    (
                        "src.process.parent.name",
                        json!(*rng.pick(&["wininit.exe", "services.exe"])),
                    ),
                ] {
                    m.insert(k.into(), v);
                }
            }
            Shape::M365 => {
                let action = if self.start {
                    *rng.pick(&["ProcessCreated", "processcreated", "PROCESSCREATED"])
                } else {
                    *rng.pick(&["ProcessTerminated", "OpenProcessApiCall"])
                };
                let mut props = json!({"ActionType": action, "FileName": self.child,
                    "FolderPath": self.image(), "InitiatingProcessFileName": self.parent,
                    "ProcessCommandLine": self.cmd, "DeviceName": "ws-0142"});
                if rng.chance(0.9) {
                    props["OSPlatform"] = json!(*rng.pick(&[
                        "Windows10",
                        "WindowsServer2019",
                        "windows11",
                        "Linux",
                        "macOS"
                    ]));
                }
                m.insert(
                    "category".into(),
                    json!(*rng.pick(&[
                        "AdvancedHunting-DeviceProcessEvents",
                        "advancedhunting-deviceprocessevents",
                        "AdvancedHunting-DeviceProcessEvents"
                    ])),
                );
                m.insert("properties".into(), props);
            }
            Shape::CrowdstrikeFdr => {
                m.remove("@timestamp");
                let name = if self.start {
                    *rng.pick(&[
                        "ProcessRollup2",
                        "ProcessRollup2",
                        "SyntheticProcessRollup2",
                        "ServiceStarted",
                        "WmiCreateProcess",
                        "HostedServiceStarted",
                    ])
                } else {
                    *rng.pick(&[
                        "EndOfProcess",
                        "ProcessRollup2Stats",
                        "processrollup2",
                        "ProcessRollup2V19",
                        "CommandHistory",
                        "ImageHash",
                    ])
                };
                // The os the generic event carries decides the platform; an odd os gives a platform the
                // pipeline does not know (or none).
                let platform = match &self.os {
                    None => json!("Win"),
                    Some(o) if *o == json!("windows") => json!("Win"),
                    Some(o) if *o == json!("linux") => json!("Lin"),
                    Some(o) if *o == json!("macos") => json!("Mac"),
                    Some(_) => rng
                        .pick(&[
                            json!(null),
                            json!("win"),
                            json!("Windows"),
                            json!(1),
                            json!("iOS"),
                            json!(["Win"]),
                        ])
                        .clone(),
                };
                // FDR writes Windows images as device paths; some records keep a drive letter, a bare name,
                // a POSIX path or the `/` of a cloning runc.
                let image = match rng.below(10) {
                    0 => format!("C:\\Windows\\{}", self.child),
                    1 => self.child.clone(),
                    2 => format!("/usr/bin/{}", self.child),
                    3 => "/".into(),
                    4 => format!("{}{}\\", self.dir, self.child),
                    _ => format!(
                        "\\Device\\HarddiskVolume{}\\{}{}",
                        rng.below(4) + 1,
                        self.dir.trim_start_matches("C:\\"),
                        self.child
                    ),
                };
                // Arguments the pipeline's `remove_nulls` drops.
                let cmd = if rng.chance(0.1) {
                    format!(
                        "{} - none \"\" {}",
                        self.cmd,
                        rng.pick(&["-", "none", "\"-\"", "x"])
                    )
                } else {
                    self.cmd.clone()
                };
                let parent = match rng.below(12) {
                    0 => json!(null),
                    1 => json!(*rng.pick(&["-", "none", ""])),
                    2 => json!(self.parent_image()),
                    _ => json!(self.parent),
                };
                for (k, v) in [
                    ("event_simpleName", json!(name)),
                    ("name", json!(format!("{name}V19"))),
                    ("event_platform", platform),
                    ("timestamp", json!("1743508799999")),
                    ("ImageFileName", json!(image)),
                    ("CommandLine", json!(cmd)),
                    ("ParentBaseFileName", parent),
                    ("ParentProcessId", json!("3000051703140")),
                    ("aid", json!("40b756af7c1d76ef66cb380d94090915")),
                    ("cid", json!("4092825518eaf67377a6e4492ae44577")),
                ] {
                    if !v.is_null() {
                        m.insert(k.into(), v);
                    }
                }
            }
        }
        Value::Object(m)
    }
}

/// A non-process event of `shape`.
fn other_event(rng: &mut Rng, shape: Shape) -> Value {
    let mut p = process_event(rng, &Rates::default(), true);
    p.start = false;
    let mut v = p.write(rng, shape);
    // Same shape, another kind of event.
    match shape {
        Shape::Ecs => {
            v["event"]["category"] = json!(*rng.pick(&["network", "file", "registry", "dns"]));
            v["event"]["type"] = json!(["connection"]);
            if rng.chance(0.5) {
                v.as_object_mut().unwrap().remove("process");
            }
        }
        Shape::SentinelOne => v["meta.event.name"] = json!("TCPV4"),
        Shape::M365 => v["category"] = json!("AdvancedHunting-DeviceNetworkEvents"),
        Shape::CrowdstrikeFdr => {
            v["event_simpleName"] =
                json!(*rng.pick(&["DnsRequest", "NetworkConnectIP4", "FileOpenInfo"]))
        }
        Shape::Nxlog | Shape::Winevtlog if rng.chance(0.3) => v["Channel"] = json!("Application"),
        Shape::VectorWinevtlog if rng.chance(0.3) => v["channel"] = json!("Application"),
        Shape::Evtx if rng.chance(0.3) => v["Event"]["System"]["Channel"] = json!("System"),
        _ => {}
    }
    v
}

/// Rule-like text inside an unrelated value.
fn decoy(rng: &mut Rng, v: &mut Value) {
    let texts = [
        r#"{"process":{"parent":{"name":"services.exe"},"name":"cmd.exe"}}"#,
        "ParentImage: C:\\Windows\\System32\\services.exe Image: C:\\Windows\\System32\\cmd.exe",
        "\"process.name\":\"powershell.exe\",\"host.os.type\":\"windows\"",
        "winlog.channel Microsoft-Windows-Sysmon/Operational event_id 1",
    ];
    if let Value::Object(m) = v {
        m.insert("message".into(), json!(*rng.pick(&texts)));
    }
}

/// Disturbs values: arrays around scalars, nulls and numbers next to them, an array of objects.
pub fn oddities(rng: &mut Rng, v: &mut Value, depth: usize) {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let child = m.get_mut(&k).unwrap();
                if child.is_object() && depth < 4 && rng.chance(0.05) {
                    *child = json!([child.clone()]);
                    continue;
                }
                if !child.is_object() && !child.is_array() && rng.chance(0.08) {
                    *child = match rng.below(4) {
                        0 => json!([child.clone()]),
                        1 => json!([null, child.clone()]),
                        2 => json!([child.clone(), "decoy"]),
                        _ => json!([[child.clone()]]),
                    };
                    continue;
                }
                if child.is_string() && rng.chance(0.01) {
                    *child = rng.pick(&[json!(null), json!(1), json!(false)]).clone();
                    continue;
                }
                oddities(rng, child, depth + 1);
            }
        }
        Value::Array(a) => {
            for e in a {
                oddities(rng, e, depth + 1);
            }
        }
        _ => {}
    }
}

/// Rewrites some nested objects as dotted keys (`{"a":{"b":1}}` → `{"a.b":1}`), sometimes only part of one.
pub fn dotted(rng: &mut Rng, v: &mut Value) {
    let Value::Object(m) = v else { return };
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        if let Some(child) = m.get_mut(&k) {
            dotted(rng, child);
        }
        if !m.get(&k).is_some_and(Value::is_object) || !rng.chance(0.5) {
            continue;
        }
        let Some(Value::Object(inner)) = m.remove(&k) else {
            unreachable!()
        };
        let mut keep = Map::new();
        for (ik, iv) in inner {
            if rng.chance(0.8) {
                m.insert(format!("{k}.{ik}"), iv);
            } else {
                keep.insert(ik, iv);
            }
        }
        if !keep.is_empty() {
            m.insert(k, Value::Object(keep));
        }
    }
}

/// One record of `shape`.
pub fn record(rng: &mut Rng, shape: Shape, rates: &Rates) -> Value {
    let raw = shape != Shape::Ecs;
    let mut v = if rng.chance(rates.process) {
        let p = process_event(rng, rates, raw);
        p.write(rng, shape)
    } else {
        other_event(rng, shape)
    };
    if rng.chance(rates.decoy) {
        decoy(rng, &mut v);
    }
    if rng.chance(rates.odd) {
        oddities(rng, &mut v, 0);
    }
    if rng.chance(rates.dotted) {
        dotted(rng, &mut v);
    }
    v
}

// ----------------------------------------------------------------------------------- JSON text

/// Writes `v` as JSON with varied spacing and some characters written as `\u` escapes (or `\/`).
pub fn to_json(rng: &mut Rng, v: &Value) -> Vec<u8> {
    let spaced = rng.chance(0.2);
    let escapes = rng.chance(0.2);
    let mut out = String::new();
    write_value(rng, v, spaced, escapes, &mut out);
    out.into_bytes()
}

fn write_str(rng: &mut Rng, s: &str, escapes: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            '/' if escapes && rng.chance(0.3) => out.push_str("\\/"),
            c if escapes && (c as u32) < 0x10000 && rng.chance(0.1) => {
                if rng.chance(0.5) {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_value(rng: &mut Rng, v: &Value, spaced: bool, escapes: bool, out: &mut String) {
    let (comma, colon) = if spaced { (", ", ": ") } else { (",", ":") };
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => out.push_str(&v.to_string()),
        Value::String(s) => write_str(rng, s, escapes, out),
        Value::Array(a) => {
            out.push('[');
            for (k, e) in a.iter().enumerate() {
                if k > 0 {
                    out.push_str(comma);
                }
                write_value(rng, e, spaced, escapes, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            // Key order varies: a rotation of the map's order.
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            if !entries.is_empty() {
                let r = rng.below(entries.len());
                entries.rotate_left(r);
            }
            for (k, (key, e)) in entries.into_iter().enumerate() {
                if k > 0 {
                    out.push_str(comma);
                }
                write_str(rng, key, escapes, out);
                out.push_str(colon);
                write_value(rng, e, spaced, escapes, out);
            }
            out.push('}');
        }
    }
}
