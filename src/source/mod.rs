//! Raw record shapes as shippers carry them, and how the rule's ECS fields are derived from them the way
//! Elastic's ingest pipelines do (docs/shapes.md). `argv` holds the command-line splitters and image-path basenames.
//!
//! A [`Profiles`] knows the enabled shapes (the `sources` property) and the raw field paths they read; the
//! filter's [`crate::record::FieldSet`] is the rule/exception [`FieldTable`] names followed by those paths,
//! so one scan of a record collects everything. [`detect`] picks a record's shape from its own keys, and
//! [`SourceDoc`] answers the rule's six fields (`event.category`, `event.type`, `host.os.type`,
//! `process.name`, `process.parent.name`, `process.args`) from the shape's derived values, every other field
//! from the record itself. Derived names are slices of the record; arguments are split only when evaluation
//! asks for `process.args`, into a reused buffer.
//!
//! Detection (first that applies; shapes not enabled by `sources` are never recognised):
//! 1. ECS precedence: a record with a (non-null) `process.name` or `process.parent.name` is `ecs`, evaluated
//!    on its ECS fields exactly like Elastic (no `host.os.type`, no alert). When `ecs` is not enabled such a
//!    record has no shape (raw fields are used only when the ECS fields are absent).
//! 2. `winlog.channel` = `Microsoft-Windows-Sysmon/Operational` → `winlogbeat_sysmon` (start: `winlog.event_id`
//!    "1" or 1); `Security` → `winlogbeat_security` (start: 4688).
//! 3. `Event.System.Channel` → `evtx` (`Event.System.EventID`, or its `#text` when it carries attributes).
//! 4. Top-level `Channel` → `winevtlog` when the record has `StringInserts`, an `EventData` object or
//!    `ProviderName`, else `nxlog` (both: start on `EventID`).
//! 5. `meta.event.name` → `sentinelone` (start: `PROCESSCREATION`).
//! 6. `category` containing `DeviceProcessEvents` (ASCII case-insensitive) → `m365` (start: `properties.ActionType`
//!    containing `processcreated`).
//! 7. Top-level `event_simpleName` → `crowdstrike_fdr` (CrowdStrike Falcon Data Replicator JSON lines; start:
//!    one of [`FDR_STARTS`]).
//! 8. Top-level `channel` and `provider_name` → `vector_winevtlog` (Vector's `windows_event_log` source; start:
//!    `event_id` 1 / 4688, an integer there, a string `"1"` accepted like Winlogbeat's).
//!
//! Raw shapes derive `event.category` = `process` and `event.type` = `start` for a process start and nothing
//! otherwise (`m365`: `process` for every DeviceProcessEvents record); SentinelOne's own `event.*` keys are not
//! ECS and are ignored. The os of the Windows event-log shapes (Winlogbeat, NXLog, evtx, Fluent Bit, Vector) is
//! `host.os.type` when the record has one, else `windows`.
//!
//! | shape | start | `host.os.type` | `process.name` | `process.parent.name` | `process.args` |
//! |---|---|---|---|---|---|
//! | `winlogbeat_sysmon`, `evtx`, `nxlog`, `winevtlog`, `vector_winevtlog` (Sysmon) | event 1 | record's, else `windows` | `Image` basename | `ParentImage` basename | `CommandLine`, Go splitter |
//! | `winlogbeat_security`, … (Security) | event 4688 | record's, else `windows` | `NewProcessName` basename | `ParentProcessName` basename | `CommandLine`, 4688 splitter |
//! | `sentinelone` | `PROCESSCREATION` | `endpoint.os` | `tgt.process.name` | `src.process.name` | `tgt.process.cmdline` |
//! | `m365` | `ProcessCreated` | `windows` if `OSPlatform` says so | `FileName` | `InitiatingProcessFileName` | `ProcessCommandLine` |
//! | `crowdstrike_fdr` | [`FDR_STARTS`] | `event_platform` `Lin`/`Mac`/`Win`/`iOS` | `ImageFileName` ([`fdr_basename`]) | `ParentBaseFileName` | `CommandLine`, Go splitter |
//!
//! Vector's `windows_event_log` source (vectordotdev/vector, `src/sources/windows_event_log/parser.rs` at commit
//! c4868c2c, `set_windows_fields`, and `xml_parser.rs` at commit b7b76c76, `parse_section`) writes the System
//! values at the top level in snake_case (`channel`, `event_id` as an integer, `provider_name`, `computer`, ...),
//! every *named* `<Data Name=...>` of `EventData` into the `event_data` map (strings), and only the *unnamed*
//! `<Data>` elements into `string_inserts`. Sysmon 1 and Security 4688 name all their data, so their fields are
//! read from `event_data.*` (Winlogbeat's `winlog.event_data.*` names, same derivations); `string_inserts` never
//! holds them and is not read by position (unlike Fluent Bit's `StringInserts`). With the source's
//! `include_event_data` off a start has no names, like an event without them.
//!
//! CrowdStrike FDR follows Elastic's `crowdstrike` integration (elastic/integrations,
//! `packages/crowdstrike/data_stream/fdr/elasticsearch/ingest_pipeline/default.yml` and `categorize.yml`,
//! generated from `packages/crowdstrike/_dev/scripts/fdr-gen/default.go` at commit 805eec9f and
//! `categorize.json` at commit b3a54b92): `process.args` exist only when `event_platform` gives
//! `host.os.type`; the pipeline's final `remove_nulls` drops `""`, `-` and `none` from the names and from the
//! arguments; an executable of exactly `/` takes its name from the first argument. The parent name is the event's own `ParentBaseFileName`: the
//! pipeline does no `ParentProcessId` / `aid` join across events, so a process start without that key has no
//! parent name in Elastic either. Only process starts derive the six fields: for other FDR events the
//! pipeline takes the process fields from keys that depend on the event's category (library, driver,
//! network, `*Written` events), which svcshell does not model, so they derive nothing (the shape is still
//! reported).

pub mod argv;

use std::cell::RefCell;

use crate::eql::{Document, FieldTable, Program};
use crate::record::{Hits, Kind};

/// A record shape (the names are the `sources` property's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The name as `sources` spells it.
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

    pub fn from_name(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The Sysmon channel (the same name identifies Sysmon in every raw shape).
pub const SYSMON_CHANNEL: &[u8] = b"Microsoft-Windows-Sysmon/Operational";

/// The rule's six fields, in [`ECS_FIELDS`] order.
pub const ECS_FIELDS: [&str; 6] = [
    "event.category",
    "event.type",
    "host.os.type",
    "process.name",
    "process.parent.name",
    "process.args",
];

/// The rule's fields every shape derives as one contiguous slice of one raw string value (the record's own
/// value, or the basename of an image path), so a literal such a field must equal also appears in the raw
/// record: the literal prefilter may only be anchored on these. `event.*` and `host.os.type` are derived
/// from other values (or defaulted) by raw shapes, and `process.args` is split from a command line.
/// One exception: `crowdstrike_fdr` takes `process.name` from a split argument when the executable is `/`
/// (see [`fdr_name`]); such a record carries the key `ImageFileName`, which [`Profiles::prefilter_sets`] adds
/// to the literal set of `process.name` while that shape is enabled.
pub const SLICED_FIELDS: [&str; 2] = ["process.name", "process.parent.name"];

const CATEGORY: usize = 0;
const TYPE: usize = 1;
const OS: usize = 2;
const NAME: usize = 3;
const PARENT: usize = 4;
const ARGS: usize = 5;

// Roles: indexes into `Profiles::slots`. 0..6 are the ECS fields above.
const WL_CHANNEL: usize = 6;
const WL_EID: usize = 7;
/// Event data names, at an offset per prefix: Image, ParentImage, CommandLine, NewProcessName,
/// ParentProcessName.
const IMAGE: usize = 0;
const PIMAGE: usize = 1;
const CMD: usize = 2;
const NEWPROC: usize = 3;
const PPROC: usize = 4;
const EVENT_DATA: [&str; 5] = [
    "Image",
    "ParentImage",
    "CommandLine",
    "NewProcessName",
    "ParentProcessName",
];
const WL_DATA: usize = 8; // winlog.event_data.*
const TOP_CHANNEL: usize = 13;
const TOP_EID: usize = 14;
const TOP_DATA: usize = 15; // top-level (NXLog)
const PROVIDER_NAME: usize = 20;
const INSERTS: usize = 21;
const FB_EVENTDATA: usize = 22;
const FB_DATA: usize = 23; // EventData.* (Fluent Bit map)
const EVTX_CHANNEL: usize = 28;
const EVTX_EID: usize = 29;
const EVTX_EID_TEXT: usize = 30;
const EVTX_DATA: usize = 31; // Event.EventData.*
const S1_NAME: usize = 36;
const S1_TGT_NAME: usize = 37;
const S1_SRC_NAME: usize = 38;
const S1_CMD: usize = 39;
const S1_OS: usize = 40;
const M_CATEGORY: usize = 41;
const M_FILE: usize = 42;
const M_PARENT: usize = 43;
const M_CMD: usize = 44;
const M_ACTION: usize = 45;
const M_OS: usize = 46;
const FDR_NAME: usize = 47;
const FDR_PLATFORM: usize = 48;
const FDR_IMAGE: usize = 49;
const FDR_PARENT: usize = 50;
const FDR_CMD: usize = 51;
const VW_CHANNEL: usize = 52;
const VW_EID: usize = 53;
const VW_PROVIDER: usize = 54;
const VW_DATA: usize = 55; // event_data.* (Vector windows_event_log)
const ROLES: usize = VW_DATA + 5;

/// The path of each role.
fn role_path(role: usize) -> String {
    let data = |prefix: &str, k: usize| format!("{prefix}{}", EVENT_DATA[k]);
    match role {
        0..=5 => ECS_FIELDS[role].to_string(),
        WL_CHANNEL => "winlog.channel".into(),
        WL_EID => "winlog.event_id".into(),
        r if (WL_DATA..WL_DATA + 5).contains(&r) => data("winlog.event_data.", r - WL_DATA),
        TOP_CHANNEL => "Channel".into(),
        TOP_EID => "EventID".into(),
        r if (TOP_DATA..TOP_DATA + 5).contains(&r) => data("", r - TOP_DATA),
        PROVIDER_NAME => "ProviderName".into(),
        INSERTS => "StringInserts".into(),
        FB_EVENTDATA => "EventData".into(),
        r if (FB_DATA..FB_DATA + 5).contains(&r) => data("EventData.", r - FB_DATA),
        EVTX_CHANNEL => "Event.System.Channel".into(),
        EVTX_EID => "Event.System.EventID".into(),
        EVTX_EID_TEXT => "Event.System.EventID.#text".into(),
        r if (EVTX_DATA..EVTX_DATA + 5).contains(&r) => data("Event.EventData.", r - EVTX_DATA),
        S1_NAME => "meta.event.name".into(),
        S1_TGT_NAME => "tgt.process.name".into(),
        S1_SRC_NAME => "src.process.name".into(),
        S1_CMD => "tgt.process.cmdline".into(),
        S1_OS => "endpoint.os".into(),
        M_CATEGORY => "category".into(),
        M_FILE => "properties.FileName".into(),
        M_PARENT => "properties.InitiatingProcessFileName".into(),
        M_CMD => "properties.ProcessCommandLine".into(),
        M_ACTION => "properties.ActionType".into(),
        M_OS => "properties.OSPlatform".into(),
        FDR_NAME => "event_simpleName".into(),
        FDR_PLATFORM => "event_platform".into(),
        FDR_IMAGE => "ImageFileName".into(),
        FDR_PARENT => "ParentBaseFileName".into(),
        FDR_CMD => "CommandLine".into(),
        VW_CHANNEL => "channel".into(),
        VW_EID => "event_id".into(),
        VW_PROVIDER => "provider_name".into(),
        // The last five roles (`ROLES` = `VW_DATA` + 5): Vector's `event_data.*`.
        r => data("event_data.", r - VW_DATA),
    }
}

/// The roles a shape reads (besides the six ECS fields, which are always read).
fn shape_roles(s: Shape) -> Vec<usize> {
    let range = |a: usize, n: usize| (a..a + n).collect::<Vec<_>>();
    match s {
        Shape::Ecs => vec![],
        Shape::WinlogbeatSysmon | Shape::WinlogbeatSecurity => {
            let mut v = vec![WL_CHANNEL, WL_EID];
            v.extend(range(WL_DATA, 5));
            v
        }
        // NXLog and Fluent Bit share `Channel` / `EventID`: either one needs the other's tell-tale keys.
        Shape::Nxlog | Shape::Winevtlog => {
            let mut v = vec![TOP_CHANNEL, TOP_EID, PROVIDER_NAME, INSERTS, FB_EVENTDATA];
            if s == Shape::Nxlog {
                v.extend(range(TOP_DATA, 5));
            } else {
                v.extend(range(FB_DATA, 5));
            }
            v
        }
        Shape::Evtx => {
            let mut v = vec![EVTX_CHANNEL, EVTX_EID, EVTX_EID_TEXT];
            v.extend(range(EVTX_DATA, 5));
            v
        }
        Shape::SentinelOne => vec![S1_NAME, S1_TGT_NAME, S1_SRC_NAME, S1_CMD, S1_OS],
        Shape::M365 => vec![M_CATEGORY, M_FILE, M_PARENT, M_CMD, M_ACTION, M_OS],
        Shape::CrowdstrikeFdr => vec![FDR_NAME, FDR_PLATFORM, FDR_IMAGE, FDR_PARENT, FDR_CMD],
        Shape::VectorWinevtlog => {
            let mut v = vec![VW_CHANNEL, VW_EID, VW_PROVIDER];
            v.extend(range(VW_DATA, 5));
            v
        }
    }
}

const NO_SLOT: usize = usize::MAX;

/// The enabled shapes and where their raw fields sit in the scanner's field set.
#[derive(Debug, Clone)]
pub struct Profiles {
    enabled: [bool; 10],
    /// Field-set slot of each role, or [`NO_SLOT`] when no enabled shape reads it.
    slots: [usize; ROLES],
    /// For each field of the program table: which of the six ECS fields it is.
    table_role: Vec<Option<usize>>,
    /// The field set's paths: the table's names, then the raw paths.
    paths: Vec<String>,
}

impl Profiles {
    /// Profiles for the `sources` list (`None` = every shape), reading after the fields of `table`.
    /// An unknown name is an error naming it.
    pub fn new(sources: Option<&[String]>, table: &FieldTable) -> Result<Profiles, String> {
        let mut enabled = [sources.is_none(); 10];
        if let Some(list) = sources {
            for name in list {
                let Some(s) = Shape::from_name(&name.trim().to_ascii_lowercase()) else {
                    let known: Vec<&str> = Shape::ALL.iter().map(|s| s.name()).collect();
                    return Err(format!(
                        "unknown source `{name}` (known: {})",
                        known.join(", ")
                    ));
                };
                enabled[s as usize] = true;
            }
        }
        let mut paths: Vec<String> = table.names().to_vec();
        let mut slots = [NO_SLOT; ROLES];
        let mut want = |role: usize, paths: &mut Vec<String>| {
            if slots[role] != NO_SLOT {
                return;
            }
            let p = role_path(role);
            slots[role] = match paths.iter().position(|n| *n == p) {
                Some(k) => k,
                None => {
                    paths.push(p);
                    paths.len() - 1
                }
            };
        };
        for role in 0..6 {
            want(role, &mut paths);
        }
        for s in Shape::ALL {
            if enabled[s as usize] {
                for role in shape_roles(s) {
                    want(role, &mut paths);
                }
            }
        }
        let table_role = table
            .names()
            .iter()
            .map(|n| ECS_FIELDS.iter().position(|f| f == n))
            .collect();
        Ok(Profiles {
            enabled,
            slots,
            table_role,
            paths,
        })
    }

    /// The paths the scanner must collect: the table's names (same slots), then the raw paths.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    pub fn enabled(&self, s: Shape) -> bool {
        self.enabled[s as usize]
    }

    /// The literal sets the prefilter may require of a record `rule` can match: the rule's exact tests on
    /// [`SLICED_FIELDS`] (`table` holds its fields). With `crowdstrike_fdr` enabled, the `process.name` set
    /// also accepts `ImageFileName`, the key of every record whose name that shape may build from a split
    /// argument (not a slice of the record).
    pub fn prefilter_sets<'r>(&self, rule: &'r Program, table: &FieldTable) -> Vec<Vec<&'r [u8]>> {
        let sliced: Vec<usize> = SLICED_FIELDS.iter().filter_map(|f| table.get(f)).collect();
        let mut sets = rule.required_literals(&sliced);
        if self.enabled(Shape::CrowdstrikeFdr) {
            if let Some(name) = table.get(ECS_FIELDS[NAME]) {
                let name_sets = rule.required_literals(&[name]);
                for set in sets.iter_mut().filter(|s| name_sets.contains(s)) {
                    set.push(b"ImageFileName");
                }
            }
        }
        sets
    }

    #[inline]
    fn slot(&self, role: usize) -> usize {
        self.slots[role]
    }
}

/// Read access to a record's raw values by field-set slot: implemented over scanner hits ([`HitsRaw`]), and by
/// callers of [`crate::Filter::verdict_of`] over a record they hold in another form (the `svcshell` command's
/// serde_json baseline reads a parsed `serde_json::Value` this way), so every reader runs the same detection
/// and derivations. Arrays are any-of (flattened); `null` is missing.
pub trait RawRecord {
    /// True when any string value at `slot` satisfies `pred`.
    fn any_str(&self, slot: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool;
    /// The slot holds a string, number or boolean.
    fn present(&self, slot: usize) -> bool;
    /// The slot holds an object.
    fn has_object(&self, slot: usize) -> bool;
    /// The slot holds the string `id` or a number written `id`.
    fn is_id(&self, slot: usize, id: &[u8]) -> bool;
    /// Number of values at `slot`, arrays flattened.
    fn count(&self, slot: usize) -> usize;
    /// The `n`th value at `slot` (arrays flattened), when it is a string.
    fn nth_str(&self, slot: usize, n: usize) -> Option<&[u8]>;
}

/// A scanned record: the hits of a field set built from [`Profiles::paths`].
pub struct HitsRaw<'a> {
    pub record: &'a [u8],
    pub hits: &'a Hits,
}

impl RawRecord for HitsRaw<'_> {
    #[inline]
    fn any_str(&self, slot: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.hits.any_str(self.record, slot, pred)
    }
    #[inline]
    fn present(&self, slot: usize) -> bool {
        self.hits
            .of(slot)
            .any(|h| matches!(h.kind, Kind::Str | Kind::Number | Kind::Bool))
    }
    fn has_object(&self, slot: usize) -> bool {
        self.hits.of(slot).any(|h| h.kind == Kind::Object)
    }
    fn is_id(&self, slot: usize, id: &[u8]) -> bool {
        self.hits.of(slot).any(|h| match h.kind {
            Kind::Str => self.hits.text(self.record, h) == id,
            Kind::Number => self.hits.text(self.record, h) == id,
            _ => false,
        })
    }
    fn count(&self, slot: usize) -> usize {
        self.hits.of(slot).filter(|h| h.kind != Kind::Array).count()
    }
    fn nth_str(&self, slot: usize, n: usize) -> Option<&[u8]> {
        let h = self
            .hits
            .of(slot)
            .filter(|h| h.kind != Kind::Array)
            .nth(n)?;
        (h.kind == Kind::Str).then(|| self.hits.text(self.record, h))
    }
}

/// Where a derived name or command line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    None,
    /// Every string value of a slot.
    Slot(usize),
    /// One element of an array slot (Fluent Bit `StringInserts`).
    Insert(usize, usize),
}

/// How the six fields are answered for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Derive {
    /// Nothing: the six fields are absent.
    Absent,
    /// From the record's own ECS fields.
    Ecs,
    /// A Windows event-log record (Sysmon rules when `sysmon`, else Security 4688 rules).
    Win {
        start: bool,
        sysmon: bool,
        image: Src,
        parent: Src,
        cmd: Src,
    },
    SentinelOne {
        start: bool,
    },
    M365 {
        start: bool,
        windows: bool,
    },
    /// A CrowdStrike FDR process start; `os`: its `event_platform` gives a `host.os.type`.
    Fdr {
        os: bool,
    },
}

/// The shape [`detect`] found for one record, and how its fields are derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub shape: Option<Shape>,
    derive: Derive,
}

fn contains_fold(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The Sysmon / 4688 sources of a Windows event whose event data sits at `data` (a role offset).
fn win_named(start: bool, sysmon: bool, p: &Profiles, data: usize) -> Derive {
    let s = |k: usize| Src::Slot(p.slot(data + k));
    if sysmon {
        Derive::Win {
            start,
            sysmon,
            image: s(IMAGE),
            parent: s(PIMAGE),
            cmd: s(CMD),
        }
    } else {
        Derive::Win {
            start,
            sysmon,
            image: s(NEWPROC),
            parent: s(PPROC),
            cmd: s(CMD),
        }
    }
}

/// The `event_simpleName` values Elastic's crowdstrike `fdr` pipeline categorizes as `process` / `start`
/// (`categorize` pipeline parameters: every entry whose `category` holds `process` and whose `type` holds
/// `start`). Case-sensitive, like the pipeline's `params.get`.
pub const FDR_STARTS: [&str; 26] = [
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

/// `event_platform` → `host.os.type` (the pipeline's exact, case-sensitive compares).
const FDR_PLATFORMS: [(&[u8], &[u8]); 4] = [
    (b"Lin", b"linux"),
    (b"Mac", b"macos"),
    (b"Win", b"windows"),
    (b"iOS", b"ios"),
];

/// The `host.os.type` one `event_platform` value gives.
fn fdr_os(platform: &[u8]) -> Option<&'static [u8]> {
    FDR_PLATFORMS
        .iter()
        .find(|(k, _)| *k == platform)
        .map(|(_, t)| *t)
}

/// Values the `fdr` pipeline's final `remove_nulls` script deletes (from objects and from arrays).
fn fdr_removed(v: &[u8]) -> bool {
    matches!(v, b"" | b"-" | b"none")
}

/// `process.name` from one `ImageFileName` (script `process_name`): after the last `\` when the path starts
/// with `\`, after the last `/` when it starts with `/`, else the whole value. `None` for an empty value
/// (the script does not run).
pub fn fdr_basename(exe: &[u8]) -> Option<&[u8]> {
    let sep = match exe.first()? {
        b'\\' => b'\\',
        b'/' => b'/',
        _ => return Some(exe),
    };
    Some(match memchr::memrchr(sep, exe) {
        Some(i) => &exe[i + 1..],
        None => exe,
    })
}

/// Calls its argument with the first argument of a record's command line (true when that call did).
type FirstArg<'a> = dyn FnMut(&mut dyn FnMut(&[u8]) -> bool) -> bool + 'a;

/// `process.name` of an FDR process start from one `ImageFileName` value, as the `fdr` pipeline ends with it:
/// [`fdr_basename`]; when the executable is exactly `/` (a cloning `runc`), script
/// `parse_process_name_from_command_line` takes the first non-empty argument of the split command line
/// (`args`, which exist only when `host.os.type` does) after its last `/`; `remove_nulls` then drops `""`,
/// `-` and `none`. `first_arg` gives the first argument of a command line.
fn fdr_name(
    exe: &[u8],
    has_os: bool,
    first_arg: &mut FirstArg,
    pred: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    let Some(name) = fdr_basename(exe) else {
        return false;
    };
    if exe == b"/" && name.is_empty() {
        return has_os
            && first_arg(&mut |a| {
                let n = match memchr::memrchr(b'/', a) {
                    Some(i) => &a[i + 1..],
                    None => a,
                };
                !fdr_removed(n) && pred(n)
            });
    }
    !fdr_removed(name) && pred(name)
}

/// Which Windows event a channel and event id are: `Some(sysmon)` for a known channel.
fn win_kind<R: RawRecord + ?Sized>(
    raw: &R,
    p: &Profiles,
    channel: usize,
    eid: &[usize],
) -> Option<(bool, bool)> {
    let ch = p.slot(channel);
    let id = |v: &[u8]| eid.iter().any(|&r| raw.is_id(p.slot(r), v));
    if raw.any_str(ch, &mut |c| c == SYSMON_CHANNEL) {
        Some((true, id(b"1")))
    } else if raw.any_str(ch, &mut |c| c == b"Security") {
        Some((false, id(b"4688")))
    } else {
        None
    }
}

/// Detects a record's shape from its own keys (see the module docs for the order).
pub fn detect<R: RawRecord + ?Sized>(raw: &R, p: &Profiles) -> Detected {
    let none = Detected {
        shape: None,
        derive: Derive::Absent,
    };
    let found = |shape: Shape, derive: Derive| Detected {
        shape: Some(shape),
        derive,
    };
    // 1. ECS precedence.
    if raw.present(p.slot(NAME)) || raw.present(p.slot(PARENT)) {
        return if p.enabled(Shape::Ecs) {
            found(Shape::Ecs, Derive::Ecs)
        } else {
            none
        };
    }
    // 2. Winlogbeat / Elastic Agent.
    if p.enabled(Shape::WinlogbeatSysmon) || p.enabled(Shape::WinlogbeatSecurity) {
        if let Some((sysmon, start)) = win_kind(raw, p, WL_CHANNEL, &[WL_EID]) {
            let shape = if sysmon {
                Shape::WinlogbeatSysmon
            } else {
                Shape::WinlogbeatSecurity
            };
            if p.enabled(shape) {
                return found(shape, win_named(start, sysmon, p, WL_DATA));
            }
            return none;
        }
    }
    // 3. evtx_dump.
    if p.enabled(Shape::Evtx) && raw.present(p.slot(EVTX_CHANNEL)) {
        let d = match win_kind(raw, p, EVTX_CHANNEL, &[EVTX_EID, EVTX_EID_TEXT]) {
            Some((sysmon, start)) => win_named(start, sysmon, p, EVTX_DATA),
            None => Derive::Absent,
        };
        return found(Shape::Evtx, d);
    }
    // 4. NXLog / Fluent Bit.
    if (p.enabled(Shape::Nxlog) || p.enabled(Shape::Winevtlog)) && raw.present(p.slot(TOP_CHANNEL))
    {
        let fb = raw.count(p.slot(INSERTS)) > 0
            || raw.has_object(p.slot(FB_EVENTDATA))
            || raw.present(p.slot(PROVIDER_NAME));
        let shape = if fb { Shape::Winevtlog } else { Shape::Nxlog };
        if !p.enabled(shape) {
            return none;
        }
        let Some((sysmon, start)) = win_kind(raw, p, TOP_CHANNEL, &[TOP_EID]) else {
            return found(shape, Derive::Absent);
        };
        if !fb {
            return found(shape, win_named(start, sysmon, p, TOP_DATA));
        }
        if raw.has_object(p.slot(FB_EVENTDATA)) {
            return found(shape, win_named(start, sysmon, p, FB_DATA));
        }
        let si = p.slot(INSERTS);
        let n = raw.count(si);
        // An insert past the end of the array reads as missing (`nth_str` finds none), like `Src::None`.
        let at = |k: usize, ok: bool| if ok { Src::Insert(si, k) } else { Src::None };
        let d = if sysmon {
            let late = matches!(n, 22 | 23);
            Derive::Win {
                start,
                sysmon,
                image: at(4, true),
                parent: at(if late { 20 } else { 19 }, n == 21 || late),
                cmd: at(if late { 10 } else { 9 }, n == 21 || late),
            }
        } else {
            Derive::Win {
                start,
                sysmon,
                image: at(5, true),
                parent: at(13, n >= 15),
                cmd: at(8, true),
            }
        };
        return found(shape, d);
    }
    // 5. SentinelOne Cloud Funnel.
    if p.enabled(Shape::SentinelOne) && raw.present(p.slot(S1_NAME)) {
        let start = raw.any_str(p.slot(S1_NAME), &mut |v| v == b"PROCESSCREATION");
        return found(Shape::SentinelOne, Derive::SentinelOne { start });
    }
    // 6. Microsoft Defender DeviceProcessEvents.
    if p.enabled(Shape::M365)
        && raw.any_str(p.slot(M_CATEGORY), &mut |v| {
            contains_fold(v, b"deviceprocessevents")
        })
    {
        let start = raw.any_str(p.slot(M_ACTION), &mut |v| {
            contains_fold(v, b"processcreated")
        });
        let windows = raw.any_str(p.slot(M_OS), &mut |v| contains_fold(v, b"windows"));
        return found(Shape::M365, Derive::M365 { start, windows });
    }
    // 7. CrowdStrike Falcon Data Replicator.
    if p.enabled(Shape::CrowdstrikeFdr) && raw.present(p.slot(FDR_NAME)) {
        let start = raw.any_str(p.slot(FDR_NAME), &mut |v| {
            FDR_STARTS.iter().any(|s| s.as_bytes() == v)
        });
        if !start {
            return found(Shape::CrowdstrikeFdr, Derive::Absent);
        }
        let os = raw.any_str(p.slot(FDR_PLATFORM), &mut |v| fdr_os(v).is_some());
        return found(Shape::CrowdstrikeFdr, Derive::Fdr { os });
    }
    // 8. Vector windows_event_log.
    if p.enabled(Shape::VectorWinevtlog)
        && raw.present(p.slot(VW_CHANNEL))
        && raw.present(p.slot(VW_PROVIDER))
    {
        let d = match win_kind(raw, p, VW_CHANNEL, &[VW_EID]) {
            Some((sysmon, start)) => win_named(start, sysmon, p, VW_DATA),
            None => Derive::Absent,
        };
        return found(Shape::VectorWinevtlog, d);
    }
    none
}

/// Scratch buffers for lazy argument splitting (reused from record to record).
#[derive(Debug, Default)]
pub struct ArgBufs {
    /// argv_windows' argument buffer.
    pub split: Vec<u8>,
    /// A SentinelOne command line with doubled backslashes collapsed.
    pub collapse: Vec<u8>,
}

/// A record as the rule sees it: the six fields from the detected shape, every other field from the record.
pub struct SourceDoc<'a, R: RawRecord + ?Sized> {
    pub raw: &'a R,
    pub profiles: &'a Profiles,
    pub detected: Detected,
    pub bufs: &'a RefCell<ArgBufs>,
}

const OS_S1: [&[u8]; 5] = [b"linux", b"windows", b"macos", b"ios", b"android"];

impl<R: RawRecord + ?Sized> SourceDoc<'_, R> {
    /// Any value of one of the six fields (by its index in [`ECS_FIELDS`]) satisfies `pred`.
    pub fn derived(&self, which: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let raw = self.raw;
        let p = self.profiles;
        match self.detected.derive {
            Derive::Absent => false,
            Derive::Ecs => raw.any_str(p.slot(which), pred),
            Derive::Win {
                start,
                sysmon,
                image,
                parent,
                cmd,
            } => match which {
                CATEGORY => start && pred(b"process"),
                TYPE => start && pred(b"start"),
                OS => {
                    if raw.present(p.slot(OS)) {
                        raw.any_str(p.slot(OS), pred)
                    } else {
                        pred(b"windows")
                    }
                }
                NAME | PARENT => {
                    let src = if which == NAME { image } else { parent };
                    self.each_src(src, &mut |path| {
                        if sysmon {
                            argv::basename_sysmon(path).is_some_and(&mut *pred)
                        } else {
                            pred(argv::basename_4688(path))
                        }
                    })
                }
                ARGS => {
                    let mut bufs = self.bufs.borrow_mut();
                    let split = &mut bufs.split;
                    self.each_src(cmd, &mut |c| {
                        if sysmon {
                            argv::argv_windows(c, split, pred)
                        } else {
                            argv::argv_4688(c, pred)
                        }
                    })
                }
                _ => false,
            },
            Derive::SentinelOne { start } => match which {
                CATEGORY => start && pred(b"process"),
                TYPE => start && pred(b"start"),
                OS => raw.any_str(p.slot(S1_OS), &mut |v| OS_S1.contains(&v) && pred(v)),
                NAME => raw.any_str(p.slot(S1_TGT_NAME), pred),
                PARENT => raw.any_str(p.slot(S1_SRC_NAME), pred),
                ARGS => {
                    let mut bufs = self.bufs.borrow_mut();
                    let ArgBufs { split, collapse } = &mut *bufs;
                    raw.any_str(p.slot(S1_CMD), &mut |c| {
                        let c = if memchr::memmem::find(c, b"\\\\").is_some() {
                            collapse.clear();
                            let mut i = 0;
                            while i < c.len() {
                                collapse.push(c[i]);
                                i += if c[i] == b'\\' && c.get(i + 1) == Some(&b'\\') {
                                    2
                                } else {
                                    1
                                };
                            }
                            &collapse[..]
                        } else {
                            c
                        };
                        let c = argv::strip_outer_quotes(c);
                        !c.is_empty() && argv::argv_windows(c, split, pred)
                    })
                }
                _ => false,
            },
            Derive::M365 { start, windows } => match which {
                CATEGORY => pred(b"process"),
                TYPE => start && pred(b"start"),
                OS => windows && pred(b"windows"),
                NAME => raw.any_str(p.slot(M_FILE), pred),
                PARENT => raw.any_str(p.slot(M_PARENT), pred),
                ARGS => raw.any_str(p.slot(M_CMD), &mut |c| argv::argv_m365(c, pred)),
                _ => false,
            },
            Derive::Fdr { os } => self.derived_fdr(which, os, pred),
        }
    }

    /// The six fields of an FDR process start (see the module docs).
    fn derived_fdr(&self, which: usize, os: bool, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let raw = self.raw;
        let p = self.profiles;
        match which {
            CATEGORY => pred(b"process"),
            TYPE => pred(b"start"),
            OS => raw.any_str(p.slot(FDR_PLATFORM), &mut |v| {
                fdr_os(v).is_some_and(&mut *pred)
            }),
            NAME => {
                let mut bufs = self.bufs.borrow_mut();
                let split = &mut bufs.split;
                let cmd = p.slot(FDR_CMD);
                raw.any_str(p.slot(FDR_IMAGE), &mut |exe| {
                    let mut first_arg = |f: &mut dyn FnMut(&[u8]) -> bool| {
                        raw.any_str(cmd, &mut |c| {
                            // The first argument the splitter keeps (it drops empty ones).
                            let mut hit = false;
                            argv::argv_windows(c, split, &mut |a| {
                                if a.is_empty() {
                                    return false;
                                }
                                hit = f(a);
                                true
                            });
                            hit
                        })
                    };
                    fdr_name(exe, os, &mut first_arg, pred)
                })
            }
            PARENT => raw.any_str(p.slot(FDR_PARENT), &mut |v| !fdr_removed(v) && pred(v)),
            ARGS => {
                if !os {
                    return false;
                }
                let mut bufs = self.bufs.borrow_mut();
                let split = &mut bufs.split;
                raw.any_str(p.slot(FDR_CMD), &mut |c| {
                    argv::argv_windows(c, split, &mut |a| !fdr_removed(a) && pred(a))
                })
            }
            _ => false,
        }
    }

    fn each_src(&self, src: Src, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        match src {
            Src::None => false,
            Src::Slot(s) => self.raw.any_str(s, f),
            Src::Insert(s, k) => self.raw.nth_str(s, k).is_some_and(f),
        }
    }

    /// Every value of one of the six fields, as text (for `explain` and tests).
    pub fn values(&self, which: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.derived(which, &mut |v| {
            out.push(String::from_utf8_lossy(v).into_owned());
            false
        });
        out
    }

    /// The detected shape's name, or `None` when the record is of no enabled shape.
    pub fn shape(&self) -> Option<Shape> {
        self.detected.shape
    }
}

impl<R: RawRecord + ?Sized> Document for SourceDoc<'_, R> {
    #[inline]
    fn any_str(&self, field: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        match self.profiles.table_role.get(field).copied().flatten() {
            Some(which) => self.derived(which, pred),
            None => self.raw.any_str(field, pred),
        }
    }
}
