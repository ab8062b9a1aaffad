//! The embedded rule: Elastic's prebuilt detection rule "System Shells via Services", version 313, with its
//! query text exactly as published (comments included) and the metadata the alert fields carry.

/// The rule's EQL query, verbatim from the v313 rule file.
pub const QUERY: &str = r#"process where host.os.type == "windows" and event.type == "start" and
  process.parent.name : "services.exe" and
  process.name : ("cmd.exe", "powershell.exe", "pwsh.exe", "powershell_ise.exe") and

  /* Third party FP's */
  not process.args : "NVDisplay.ContainerLocalSystem"
"#;

pub const RULE_ID: &str = "0022d47d-39c7-4f69-a232-4fe9dc7a3acd";
pub const NAME: &str = "System Shells via Services";
pub const VERSION: &str = "313";
pub const AUTHOR: &[&str] = &["Elastic"];
pub const LICENSE: &str = "Elastic License v2";
pub const SEVERITY: &str = "medium";
pub const RISK_SCORE: u32 = 47;
/// ECS `event.severity` of a medium alert: Elastic's External Alerts rule maps 21/47/73/99 to
/// low/medium/high/critical.
pub const SEVERITY_NUMBER: u32 = 47;
pub const RULESET: &str = "Elastic detection-rules (prebuilt)";
pub const CATEGORY: &str = "Persistence";
pub const REFERENCE: &str =
    "https://github.com/elastic/detection-rules/blob/main/rules/windows/persistence_system_shells_via_services.toml";
pub const DESCRIPTION: &str = "A Windows service (services.exe) started a system shell (cmd.exe, powershell.exe, \
pwsh.exe or powershell_ise.exe): services run as SYSTEM, so attackers and penetration tools use a shell started as \
a service to gain SYSTEM rights or to persist.";
/// Elastic's schedule for the rule: runs every 5 minutes, at most 100 alerts a run.
pub const MAX_SIGNALS: u64 = 100;
pub const INTERVAL_SECS: u64 = 300;

/// One MITRE ATT&CK entry: id, name, reference.
pub type Attack = (&'static str, &'static str, &'static str);

pub const FRAMEWORK: &str = "MITRE ATT&CK";
pub const TACTICS: &[Attack] = &[
    (
        "TA0003",
        "Persistence",
        "https://attack.mitre.org/tactics/TA0003/",
    ),
    (
        "TA0002",
        "Execution",
        "https://attack.mitre.org/tactics/TA0002/",
    ),
];
pub const TECHNIQUES: &[Attack] = &[
    (
        "T1543",
        "Create or Modify System Process",
        "https://attack.mitre.org/techniques/T1543/",
    ),
    (
        "T1059",
        "Command and Scripting Interpreter",
        "https://attack.mitre.org/techniques/T1059/",
    ),
];
pub const SUBTECHNIQUES: &[Attack] = &[
    (
        "T1543.003",
        "Windows Service",
        "https://attack.mitre.org/techniques/T1543/003/",
    ),
    (
        "T1059.001",
        "PowerShell",
        "https://attack.mitre.org/techniques/T1059/001/",
    ),
    (
        "T1059.003",
        "Windows Command Shell",
        "https://attack.mitre.org/techniques/T1059/003/",
    ),
];
