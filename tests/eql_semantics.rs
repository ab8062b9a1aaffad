//! The EQL engine gives the verdicts docs/semantics.md §2 prescribes (Elasticsearch's term-query semantics), case by case.
//!
//! Every row of [`CASES`] is a (query, JSON document, verdict) triple whose verdict was written by hand from
//! docs/semantics.md §2. Each row is evaluated three ways and all three must agree with the hand-written verdict:
//! 1. the engine on the zero-copy scanner (`Program::compile_query` + `FieldSet` + `json::scan` + `HitsDoc`),
//! 2. the engine on the condition alone (`Program::compile_condition`) for `any where` rows,
//! 3. an independent reference written here (its own EQL-subset parser and its own evaluator over
//!    `serde_json::Value`, sharing no code with the library).
//!
//! [`ERRORS`] pins compile errors: unsupported operators and functions, single quotes, bad escapes,
//! unterminated strings / comments, numbers — with the exact line and column of the offending token.

use serde_json::Value;
use svcshell::eql::{FieldTable, Program};
use svcshell::filter::HitsDoc;
use svcshell::record::{json, FieldSet, Hits};

/// The engine's verdict on `doc` through the zero-copy scanner.
fn engine(query: &str, doc: &str) -> bool {
    let mut table = FieldTable::default();
    let program = Program::compile_query(query, &mut table)
        .unwrap_or_else(|e| panic!("query {query:?} does not compile: {e}"));
    let set = FieldSet::new(table.names()).expect("field set");
    let mut hits = Hits::default();
    json::scan(doc.as_bytes(), &set, &mut hits)
        .unwrap_or_else(|e| panic!("document {doc} is not readable: {e}"));
    program.eval(&HitsDoc {
        record: doc.as_bytes(),
        hits: &hits,
    })
}

/// The engine's verdict on a bare condition (the exception path).
fn engine_condition(cond: &str, doc: &str) -> bool {
    let mut table = FieldTable::default();
    let program = Program::compile_condition(cond, &mut table)
        .unwrap_or_else(|e| panic!("condition {cond:?} does not compile: {e}"));
    let set = FieldSet::new(table.names()).expect("field set");
    let mut hits = Hits::default();
    json::scan(doc.as_bytes(), &set, &mut hits).expect("readable document");
    program.eval(&HitsDoc {
        record: doc.as_bytes(),
        hits: &hits,
    })
}

/// (query, document, verdict). Verdicts are written by hand from docs/semantics.md §2.
#[rustfmt::skip]
const CASES: &[(&str, &str, bool)] = &[
    // --- `process where` is event.category == "process": case-sensitive, arrays any-of; `any where`. ---
    (r#"process where process.name == "a""#, r#"{"event":{"category":"process"},"process":{"name":"a"}}"#, true),
    (r#"process where process.name == "a""#, r#"{"event":{"category":"Process"},"process":{"name":"a"}}"#, false),
    (r#"process where process.name == "a""#, r#"{"event":{"category":"PROCESS"},"process":{"name":"a"}}"#, false),
    (r#"process where process.name == "a""#, r#"{"event":{"category":"processes"},"process":{"name":"a"}}"#, false),
    (r#"process where process.name == "a""#, r#"{"event":{"category":["network","process"]},"process":{"name":"a"}}"#, true),
    (r#"process where process.name == "a""#, r#"{"event":{"category":["network"]},"process":{"name":"a"}}"#, false),
    (r#"process where process.name == "a""#, r#"{"process":{"name":"a"}}"#, false),
    (r#"process where process.name == "a""#, r#"{"event":{"category":null},"process":{"name":"a"}}"#, false),
    (r#"process where process.name == "a""#, r#"{"event":{"category":1},"process":{"name":"a"}}"#, false),
    (r#"process where process.name == "a""#, r#"{"event.category":"process","process.name":"a"}"#, true),
    // The category may be written as a string (EQL's `eventValue: STRING | IDENTIFIER`), e.g. with a `-`.
    (r#""process" where process.name == "a""#, r#"{"event":{"category":"process"},"process":{"name":"a"}}"#, true),
    (r#""process" where process.name == "a""#, r#"{"event":{"category":"network"},"process":{"name":"a"}}"#, false),
    (r#""network-traffic" where process.name == "a""#, r#"{"event":{"category":"network-traffic"},"process":{"name":"a"}}"#, true),
    (r#"process where process.name == "a""#, r#"{"event":{"category":"process"},"process":{"name":"b"}}"#, false),
    (r#"any where process.name == "a""#, r#"{"process":{"name":"a"}}"#, true),
    (r#"any where process.name == "a""#, r#"{"event":{"category":"network"},"process":{"name":"a"}}"#, true),
    (r#"network where process.name == "a""#, r#"{"event":{"category":"network"},"process":{"name":"a"}}"#, true),
    (r#"network where process.name == "a""#, r#"{"event":{"category":"process"},"process":{"name":"a"}}"#, false),
    // The category binds to the whole condition: `process where a or b` is `category and (a or b)`.
    (r#"process where a == "1" or b == "1""#, r#"{"event":{"category":"network"},"a":"1"}"#, false),
    (r#"process where a == "1" or b == "1""#, r#"{"event":{"category":"process"},"b":"1"}"#, true),
    (r#"process where not a == "1""#, r#"{"event":{"category":"network"}}"#, false),
    (r#"process where not a == "1""#, r#"{"event":{"category":"process"}}"#, true),
    // --- `==` / `!=`: case-sensitive, no wildcards; `!=` is `not ==`. ---
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"cmd.exe"}}"#, true),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"CMD.EXE"}}"#, false),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"cmd.exe "}}"#, false),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"xcmd.exe"}}"#, false),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"cmd.ex"}}"#, false),
    (r#"any where process.name == "*.exe""#, r#"{"process":{"name":"cmd.exe"}}"#, false),
    (r#"any where process.name == "*.exe""#, r#"{"process":{"name":"*.exe"}}"#, true),
    (r#"any where process.name == "c?d.exe""#, r#"{"process":{"name":"cmd.exe"}}"#, false),
    (r#"any where process.name == "c?d.exe""#, r#"{"process":{"name":"c?d.exe"}}"#, true),
    (r#"any where process.name == "*""#, r#"{"process":{"name":""}}"#, false),
    (r#"any where process.name == """#, r#"{"process":{"name":""}}"#, true),
    (r#"any where process.name != "cmd.exe""#, r#"{"process":{"name":"cmd.exe"}}"#, false),
    (r#"any where process.name != "cmd.exe""#, r#"{"process":{"name":"CMD.EXE"}}"#, true),
    (r#"any where process.name != "cmd.exe""#, r#"{"process":{"name":["a","cmd.exe"]}}"#, false),
    (r#"any where process.name != "cmd.exe""#, r#"{"process":{"name":["a","b"]}}"#, true),
    (r#"any where process.name != "cmd.exe""#, r#"{"process":{"pid":4}}"#, true),
    (r#"any where process.name != "cmd.exe""#, r#"{"process":{"name":null}}"#, true),
    (r#"any where process.name != "*""#, r#"{"process":{"name":"x"}}"#, true),
    // --- `:`: ASCII-only case folding, `?` one character, `*` any run, anchored. ---
    (r#"any where process.name : "cmd.exe""#, r#"{"process":{"name":"CMD.EXE"}}"#, true),
    (r#"any where process.name : "cmd.exe""#, r#"{"process":{"name":"Cmd.Exe"}}"#, true),
    (r#"any where process.name : "CMD.exe""#, r#"{"process":{"name":"cmd.EXE"}}"#, true),
    (r#"any where process.name : "cmd.exe""#, r#"{"process":{"name":"cmd.exe "}}"#, false),
    (r#"any where process.name : "cmd.exe""#, r#"{"process":{"name":"xcmd.exe"}}"#, false),
    (r#"any where process.name : "cmd""#, r#"{"process":{"name":"cmd.exe"}}"#, false),
    (r#"any where process.parent.name : "services.exe""#, r#"{"process":{"parent":{"name":"SERVICES.EXE"}}}"#, true),
    // ſ (U+017F LATIN SMALL LETTER LONG S) is not s.
    (r#"any where process.parent.name : "services.exe""#, r#"{"process":{"parent":{"name":"ſervices.exe"}}}"#, false),
    (r#"any where process.parent.name : "ſervices.exe""#, r#"{"process":{"parent":{"name":"services.exe"}}}"#, false),
    (r#"any where process.parent.name : "ſervices.exe""#, r#"{"process":{"parent":{"name":"SERVICES.EXE"}}}"#, false),
    (r#"any where process.parent.name : "ſervices.exe""#, r#"{"process":{"parent":{"name":"ſERVICES.EXE"}}}"#, true),
    (r#"any where process.parent.name : "*ſ*""#, r#"{"process":{"parent":{"name":"S"}}}"#, false),
    // İ (U+0130) is neither i nor I, and i is not İ.
    (r#"any where process.name : "i.exe""#, r#"{"process":{"name":"İ.exe"}}"#, false),
    (r#"any where process.name : "İ.exe""#, r#"{"process":{"name":"I.exe"}}"#, false),
    (r#"any where process.name : "İ.exe""#, r#"{"process":{"name":"i\u0307.exe"}}"#, false),
    (r#"any where process.name : "İ.exe""#, r#"{"process":{"name":"İ.EXE"}}"#, true),
    // K (U+212A KELVIN SIGN) is not k (EQL `\u{212A}` and JSON `\u212a` spell it here).
    (r#"any where process.name : "k.exe""#, r#"{"process":{"name":"\u212a.exe"}}"#, false),
    (r#"any where process.name : "K.exe""#, r#"{"process":{"name":"\u212A.exe"}}"#, false),
    (r#"any where process.name : "\u{212A}.exe""#, r#"{"process":{"name":"k.exe"}}"#, false),
    (r#"any where process.name : "\u{212A}.exe""#, r#"{"process":{"name":"K.exe"}}"#, false),
    (r#"any where process.name : "\u{212A}.exe""#, r#"{"process":{"name":"\u212a.EXE"}}"#, true),
    (r#"any where process.name : "*k*""#, r#"{"process":{"name":"\u212a"}}"#, false),
    (r#"any where process.name : "cmd.exe""#, r#"{"process":{"name":"cmd.e\u212ae"}}"#, false),
    // The same look-alikes under wildcard patterns (the `*` / `?` matcher folds ASCII only, too).
    (r#"any where process.parent.name : "*services.exe""#, r#"{"process":{"parent":{"name":"C:\\ſervices.exe"}}}"#, false),
    (r#"any where process.parent.name : "s*""#, r#"{"process":{"parent":{"name":"ſervices.exe"}}}"#, false),
    (r#"any where process.parent.name : "S?rvices.exe""#, r#"{"process":{"parent":{"name":"ſervices.exe"}}}"#, false),
    (r#"any where process.parent.name : "?ervices.exe""#, r#"{"process":{"parent":{"name":"ſervices.exe"}}}"#, true),
    (r#"any where process.parent.name : "*ſervices.exe""#, r#"{"process":{"parent":{"name":"SERVICES.EXE"}}}"#, false),
    (r#"any where process.name : "i*""#, r#"{"process":{"name":"İ.exe"}}"#, false),
    (r#"any where process.name : "*i.exe""#, r#"{"process":{"name":"xİ.exe"}}"#, false),
    (r#"any where process.name : "*İ.exe""#, r#"{"process":{"name":"xi.exe"}}"#, false),
    (r#"any where process.name : "k*""#, r#"{"process":{"name":"\u212a.exe"}}"#, false),
    (r#"any where process.name : "*\u{212A}*""#, r#"{"process":{"name":"xKx"}}"#, false),
    (r#"any where process.name : "*\u{212A}*""#, r#"{"process":{"name":"x\u212Ax"}}"#, true),
    (r#"any where process.name : "*ä""#, r#"{"process":{"name":"xÄ"}}"#, false),
    (r#"any where process.name : "*SS*""#, r#"{"process":{"name":"ß"}}"#, false),
    // Non-ASCII letters do not fold either way.
    (r#"any where process.name : "ä""#, r#"{"process":{"name":"Ä"}}"#, false),
    (r#"any where process.name : "*Ä*""#, r#"{"process":{"name":"xäy"}}"#, false),
    // `?` is exactly one character, multibyte included.
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"cmd.exe"}}"#, true),
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"CMD.EXE"}}"#, true),
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"cd.exe"}}"#, false),
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"cmmd.exe"}}"#, false),
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"cäd.exe"}}"#, true),
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"c€d.exe"}}"#, true),
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"c😀d.exe"}}"#, true),
    (r#"any where process.name : "c?d.exe""#, r#"{"process":{"name":"cääd.exe"}}"#, false),
    (r#"any where process.name : "??""#, r#"{"process":{"name":"ä"}}"#, false),
    (r#"any where process.name : "??""#, r#"{"process":{"name":"äb"}}"#, true),
    (r#"any where process.name : "?""#, r#"{"process":{"name":"😀"}}"#, true),
    (r#"any where process.name : "?""#, r#"{"process":{"name":""}}"#, false),
    (r#"any where process.name : "a?""#, r#"{"process":{"name":"a"}}"#, false),
    // `*` is any run (possibly empty), anchored to the whole value.
    (r#"any where process.name : "*.exe""#, r#"{"process":{"name":"cmd.exe"}}"#, true),
    (r#"any where process.name : "*.exe""#, r#"{"process":{"name":".EXE"}}"#, true),
    (r#"any where process.name : "*.exe""#, r#"{"process":{"name":"cmd.exe.bak"}}"#, false),
    (r#"any where process.name : "c*""#, r#"{"process":{"name":"C"}}"#, true),
    (r#"any where process.name : "c*""#, r#"{"process":{"name":"xc"}}"#, false),
    (r#"any where process.name : "*""#, r#"{"process":{"name":""}}"#, true),
    (r#"any where process.name : "*""#, r#"{"process":{"name":"ſ"}}"#, true),
    (r#"any where process.name : "*shell*""#, r#"{"process":{"name":"PowerShell_ise.exe"}}"#, true),
    (r#"any where process.name : "a*a*a""#, r#"{"process":{"name":"aa"}}"#, false),
    (r#"any where process.name : "a*a*a""#, r#"{"process":{"name":"AxAyA"}}"#, true),
    (r#"any where process.name : "*a?""#, r#"{"process":{"name":"xba😀"}}"#, true),
    (r#"any where process.name : "*a?""#, r#"{"process":{"name":"bab😀"}}"#, false),
    (r#"any where process.name : "*?😀""#, r#"{"process":{"name":"😀"}}"#, false),
    (r#"any where process.name : "**x""#, r#"{"process":{"name":"abX"}}"#, true),
    (r#"any where process.name : """#, r#"{"process":{"name":""}}"#, true),
    (r#"any where process.name : """#, r#"{"process":{"name":"a"}}"#, false),
    // A wildcard pattern still needs a string value.
    (r#"any where process.name : "*""#, r#"{"process":{"pid":1}}"#, false),
    (r#"any where process.name : "*""#, r#"{"process":{"name":null}}"#, false),
    (r#"any where process.name : "*""#, r#"{"process":{"name":[]}}"#, false),
    (r#"any where process.name : "*""#, r#"{"process":{"name":{"x":"y"}}}"#, false),
    (r#"any where process.name : "*""#, r#"{"process":{"name":false}}"#, false),
    // Lists with `:` are any-of; wildcards may appear in some items.
    (r#"any where process.name : ("cmd.exe", "pwsh.exe")"#, r#"{"process":{"name":"PWSH.EXE"}}"#, true),
    (r#"any where process.name : ("cmd.exe", "pwsh.exe")"#, r#"{"process":{"name":"bash"}}"#, false),
    (r#"any where process.name : ("x*", "y")"#, r#"{"process":{"name":"XYZ"}}"#, true),
    (r#"any where process.name : ("x*", "y")"#, r#"{"process":{"name":"Y"}}"#, true),
    (r#"any where process.name : ("x*", "y")"#, r#"{"process":{"name":"zy"}}"#, false),
    (r#"any where process.name : ("cmd.exe", "*.ps1")"#, r#"{"process":{"name":"CMD.exe"}}"#, true),
    (r#"any where process.name : ("cmd.exe", "*.ps1")"#, r#"{"process":{"name":"cmd.exe.ps"}}"#, false),
    (r#"any where process.name : ("cmd.exe")"#, r#"{"process":{"name":"Cmd.exe"}}"#, true),
    // --- `in` case-sensitive any-of, no wildcards; `in~` ASCII case-insensitive; `not in`. ---
    (r#"any where process.name in ("cmd.exe", "pwsh.exe")"#, r#"{"process":{"name":"pwsh.exe"}}"#, true),
    (r#"any where process.name in ("cmd.exe", "pwsh.exe")"#, r#"{"process":{"name":"PWSH.EXE"}}"#, false),
    (r#"any where process.name in ("*", "?")"#, r#"{"process":{"name":"a"}}"#, false),
    (r#"any where process.name in ("*", "?")"#, r#"{"process":{"name":"?"}}"#, true),
    (r#"any where process.name in ("cmd.exe")"#, r#"{"process":{}}"#, false),
    (r#"any where process.name in~ ("cmd.exe", "pwsh.exe")"#, r#"{"process":{"name":"PWSH.EXE"}}"#, true),
    (r#"any where process.name in~ ("cmd.*")"#, r#"{"process":{"name":"cmd.exe"}}"#, false),
    (r#"any where process.name in~ ("cmd.*")"#, r#"{"process":{"name":"CMD.*"}}"#, true),
    (r#"any where process.name in~ ("s")"#, r#"{"process":{"name":"ſ"}}"#, false),
    (r#"any where process.name in~ ("k")"#, r#"{"process":{"name":"\u212a"}}"#, false),
    (r#"any where process.name in~ ("k")"#, r#"{"process":{"name":"K"}}"#, true),
    (r#"any where process.name in~ ("ä")"#, r#"{"process":{"name":"Ä"}}"#, false),
    (r#"any where process.name not in ("a", "b")"#, r#"{"process":{"name":"a"}}"#, false),
    (r#"any where process.name not in ("a", "b")"#, r#"{"process":{"name":"A"}}"#, true),
    (r#"any where process.name not in ("a", "b")"#, r#"{"process":{"name":"c"}}"#, true),
    (r#"any where process.name not in ("a", "b")"#, r#"{"process":{"name":["c","b"]}}"#, false),
    (r#"any where process.name not in ("a", "b")"#, r#"{"process":{}}"#, true),
    (r#"any where process.name not in~ ("a", "b")"#, r#"{"process":{"name":"A"}}"#, false),
    (r#"any where process.name not in~ ("a", "b")"#, r#"{"process":{"name":"c"}}"#, true),
    (r#"any where not process.name in ("a")"#, r#"{"process":{"name":"a"}}"#, false),
    // --- Arrays: a comparison holds when any element holds. ---
    (r#"any where event.type == "start""#, r#"{"event":{"type":["start","process_start"]}}"#, true),
    (r#"any where event.type == "start""#, r#"{"event":{"type":["process_start","start"]}}"#, true),
    (r#"any where event.type == "start""#, r#"{"event":{"type":["Start"]}}"#, false),
    (r#"any where event.type == "start""#, r#"{"event":{"type":"start"}}"#, true),
    (r#"any where event.type == "start""#, r#"{"event":{"type":[]}}"#, false),
    (r#"any where event.type == "start""#, r#"{"event":{"type":[null,1,true,"start"]}}"#, true),
    (r#"any where event.type == "start""#, r#"{"event":{"type":[["start"]]}}"#, true),
    (r#"any where event.type == "start""#, r#"{"event":{"type":[{"x":"start"}]}}"#, false),
    (r#"any where event.type == "start""#, r#"{"event":{"type":["starts","tart"]}}"#, false),
    (r#"any where event.type : "start""#, r#"{"event":{"type":["Start"]}}"#, true),
    (r#"any where event.type : "st*""#, r#"{"event":{"type":["end","STOP"]}}"#, true),
    (r#"any where event.type in ("start")"#, r#"{"event":{"type":["end","start"]}}"#, true),
    // Arrays of objects: the field collects the values of every element.
    (r#"any where process.name == "cmd.exe""#, r#"{"process":[{"name":"a"},{"name":"cmd.exe"}]}"#, true),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":[{"pid":1},{"name":"b"}]}"#, false),
    (r#"any where process.parent.name == "x""#, r#"{"process":[{"parent":[{"name":"y"},{"name":"x"}]}]}"#, true),
    // --- Missing field: `==`, `:`, `in` false; `not` and `!=` true. ---
    (r#"any where process.name == "a""#, r#"{}"#, false),
    (r#"any where process.name : "*""#, r#"{}"#, false),
    (r#"any where process.name in ("a")"#, r#"{}"#, false),
    (r#"any where process.name in~ ("a")"#, r#"{}"#, false),
    (r#"any where not process.name == "a""#, r#"{}"#, true),
    (r#"any where not process.name : "*""#, r#"{}"#, true),
    (r#"any where process.name != "a""#, r#"{}"#, true),
    (r#"any where process.name != "a""#, r#"{"process":"cmd.exe"}"#, true),
    (r#"any where process.name == "a""#, r#"{"process":"a"}"#, false),
    // `not process.args : "X"`: true when absent; false when any element equals X ignoring ASCII case.
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"name":"cmd.exe"}}"#, true),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":null}}"#, true),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":[]}}"#, true),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":["-s","NVDisplay.ContainerLocalSystem"]}}"#, false),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":["-s","nvdisplay.containerlocalsystem"]}}"#, false),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":"NVDISPLAY.CONTAINERLOCALSYSTEM"}}"#, false),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":["-cfg","NVDisplay.ContainerLocalSystem\\LocalSystem"]}}"#, true),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":["-s NVDisplay.ContainerLocalSystem"]}}"#, true),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":["NVDisplay.ContainerLocalſystem"]}}"#, true),
    (r#"any where not process.args : "NVDisplay.ContainerLocalSystem""#, r#"{"process":{"args":[1,null,"NVDisplay.ContainerLocalSystem"]}}"#, false),
    (r#"any where not process.args : "X""#, r#"{"process":{"args":["a","x"]}}"#, false),
    (r#"any where not process.args : "X""#, r#"{"process":{"args":["a","xx"]}}"#, true),
    (r#"any where not process.args : "X""#, r#"{"process.args":["a"],"process":{"args":"x"}}"#, false),
    // --- Non-string values never equal a string; null counts as missing. ---
    (r#"any where a == "5""#, r#"{"a":5}"#, false),
    (r#"any where a == "5""#, r#"{"a":"5"}"#, true),
    (r#"any where a == "5.0""#, r#"{"a":5.0}"#, false),
    (r#"any where a : "5*""#, r#"{"a":50}"#, false),
    (r#"any where a == "true""#, r#"{"a":true}"#, false),
    (r#"any where a : "false""#, r#"{"a":false}"#, false),
    (r#"any where a == "null""#, r#"{"a":null}"#, false),
    (r#"any where a in ("5", "true", "null")"#, r#"{"a":[5,true,null]}"#, false),
    (r#"any where a != "5""#, r#"{"a":5}"#, true),
    (r#"any where not a : "*""#, r#"{"a":null}"#, true),
    (r#"any where not a : "*""#, r#"{"a":[null,null]}"#, true),
    (r#"any where not a : "*""#, r#"{"a":[null,""]}"#, false),
    // --- String literal escapes. ---
    (r#"any where a == "x\ty""#, r#"{"a":"x\ty"}"#, true),
    (r#"any where a == "x\ty""#, r#"{"a":"x\\ty"}"#, false),
    (r#"any where a == "say \"hi\"""#, r#"{"a":"say \"hi\""}"#, true),
    (r#"any where a == "C:\\Windows""#, r#"{"a":"C:\\Windows"}"#, true),
    (r#"any where a == "C:\\Windows""#, r#"{"a":"C:\\\\Windows"}"#, false),
    (r#"any where a == "\u{63}md.exe""#, r#"{"a":"cmd.exe"}"#, true),
    (r#"any where a == "\u{0063}md.exe""#, r#"{"a":"cmd.exe"}"#, true),
    (r#"any where a == "\u{00E4}""#, r#"{"a":"ä"}"#, true),
    (r#"any where a == "\u{1F600}""#, r#"{"a":"😀"}"#, true),
    (r#"any where a == "\u{0001F600}""#, r#"{"a":"😀"}"#, true),
    (r#"any where a == "it\'s""#, r#"{"a":"it's"}"#, true),
    (r#"any where a == "\b\f\n\r""#, r#"{"a":"\b\f\n\r"}"#, true),
    (r#"any where a == "\n""#, r#"{"a":"n"}"#, false),
    (r#"any where a : "\u{73}ervices.exe""#, r#"{"a":"SERVICES.EXE"}"#, true),
    // Raw strings: no escapes.
    (r#"any where a == """C:\Windows\System32""""#, r#"{"a":"C:\\Windows\\System32"}"#, true),
    (r#"any where a == """a"b""""#, r#"{"a":"a\"b"}"#, true),
    (r#"any where a == """\u{63}""""#, r#"{"a":"\\u{63}"}"#, true),
    (r#"any where a == """\u{63}""""#, r#"{"a":"c"}"#, false),
    (r#"any where a == """\t""""#, r#"{"a":"\\t"}"#, true),
    (r#"any where a : """*\cmd.exe""""#, r#"{"a":"C:\\Windows\\CMD.exe"}"#, true),
    (r#"any where a == """""""#, r#"{"a":""}"#, true),
    // --- Comments: `//` to end of line, `/* */` nesting. ---
    ("any where // a comment\n  a == \"1\"", r#"{"a":"1"}"#, true),
    ("any where a == \"1\" // and b == \"2\"", r#"{"a":"1"}"#, true),
    ("any where a == \"1\" //", r#"{"a":"1"}"#, true),
    ("any where a == \"1\"\n// or a == \"2\"\n", r#"{"a":"2"}"#, false),
    (r#"any where /* c */ a == "1" /* /* nested */ still a comment */"#, r#"{"a":"1"}"#, true),
    (r#"any where /* a /* b */ or a == "2" */ a == "1""#, r#"{"a":"2"}"#, false),
    (r#"any where /* a /* b */ or a == "2" */ a == "1""#, r#"{"a":"1"}"#, true),
    (r#"any where a == "/* not a comment */""#, r#"{"a":"/* not a comment */"}"#, true),
    (r#"any where a == "// not a comment""#, r#"{"a":"// not a comment"}"#, true),
    ("any where /* multi\n line\n */ a == \"1\"", r#"{"a":"1"}"#, true),
    // --- `?field` and backticked field names. ---
    (r#"any where ?process.name == "a""#, r#"{"process":{"name":"a"}}"#, true),
    (r#"any where ?process.name == "a""#, r#"{}"#, false),
    (r#"any where not ?process.name == "a""#, r#"{}"#, true),
    (r#"any where `process`.`name` == "a""#, r#"{"process":{"name":"a"}}"#, true),
    (r#"any where `process`.name == "a""#, r#"{"process.name":"a"}"#, true),
    (r#"any where `my field` == "a""#, r#"{"my field":"a"}"#, true),
    (r#"any where `my field`.x == "a""#, r#"{"my field":{"x":"a"}}"#, true),
    (r#"any where `not` == "a""#, r#"{"not":"a"}"#, true),
    (r#"any where `where` : "A""#, r#"{"where":"a"}"#, true),
    (r#"any where `a``b` == "x""#, r#"{"a`b":"x"}"#, true),
    (r#"any where `a-b` == "x""#, r#"{"a-b":"x"}"#, true),
    (r#"any where `a-b` == "x""#, r#"{"a":{"b":"x"}}"#, false),
    (r#"any where @timestamp == "t""#, r#"{"@timestamp":"t"}"#, true),
    // --- Dotted, nested and mixed keys are the same field. ---
    (r#"any where process.parent.name == "services.exe""#, r#"{"process":{"parent":{"name":"services.exe"}}}"#, true),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process.parent.name":"services.exe"}"#, true),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process":{"parent.name":"services.exe"}}"#, true),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process.parent":{"name":"services.exe"}}"#, true),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process":{"name":"x"},"process.parent":{"pid":1},"process.parent.name":"services.exe"}"#, true),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process":{"parent":{"name":"x"}},"process.parent.name":"services.exe"}"#, true),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process":{"parent":"services.exe"}}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process":{"parent":{"name":{"x":"services.exe"}}}}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process.parent":{"name.x":"services.exe"}}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"processparent.name":"services.exe"}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"process":{"Parent":{"name":"services.exe"}}}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"parent":{"name":"services.exe"}}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"name":"services.exe","process":{"parent":{}}}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"message":"{\"process\":{\"parent\":{\"name\":\"services.exe\"}}}"}"#, false),
    (r#"any where process.parent.name == "services.exe""#, r#"{"x":{"process":{"parent":{"name":"services.exe"}}}}"#, false),
    (r#"any where process.name == "cmd.exe""#, "{ \"process\" :\n\t{ \"name\"\r\n: \"cmd.exe\" } }", true),
    // --- JSON escapes are decoded before comparing, in values and in keys. ---
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"\u0063md.exe"}}"#, true),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"\u0063\u006D\u0064\u002E\u0065\u0078\u0065"}}"#, true),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"name":"\u0043md.exe"}}"#, false),
    (r#"any where process.name : "cmd.exe""#, r#"{"process":{"name":"\u0043md.exe"}}"#, true),
    (r#"any where process.name == "C:/Windows""#, r#"{"process":{"name":"C:\/Windows"}}"#, true),
    (r#"any where process.name == "ä""#, r#"{"process":{"name":"\u00e4"}}"#, true),
    (r#"any where process.name == "😀""#, r#"{"process":{"name":"\ud83d\ude00"}}"#, true),
    (r#"any where process.name : "c?d""#, r#"{"process":{"name":"c\u00e4d"}}"#, true),
    (r#"any where process.parent.name : "services.exe""#, r#"{"process":{"parent":{"name":"\u017fervices.exe"}}}"#, false),
    (r#"any where process.name == "cmd.exe""#, r#"{"pro\u0063ess":{"name":"cmd.exe"}}"#, true),
    (r#"any where process.name == "cmd.exe""#, r#"{"process":{"n\u0061me":"cmd.exe"}}"#, true),
    (r#"any where process.name == "cmd.exe""#, r#"{"process\u002ename":"cmd.exe"}"#, true),
    (r#"any where process.name == "cmd.exe""#, r#"{"process\/name":"cmd.exe"}"#, false),
    (r#"any where process.name == "cmd.exe""#, r#"{"Process":{"name":"cmd.exe"}}"#, false),
    (r#"any where a == "x\"y""#, r#"{"a":"x\u0022y"}"#, true),
    (r#"any where a == "x\\y""#, r#"{"a":"x\u005cy"}"#, true),
    // --- Precedence: `not` > `and` > `or`; parentheses. ---
    (r#"any where a == "1" or b == "1" and c == "1""#, r#"{"a":"1","b":"0","c":"0"}"#, true),
    (r#"any where a == "1" or b == "1" and c == "1""#, r#"{"a":"0","b":"1","c":"0"}"#, false),
    (r#"any where (a == "1" or b == "1") and c == "1""#, r#"{"a":"1","b":"0","c":"0"}"#, false),
    (r#"any where (a == "1" or b == "1") and c == "1""#, r#"{"a":"0","b":"1","c":"1"}"#, true),
    (r#"any where a == "1" and b == "1" or c == "1""#, r#"{"a":"0","b":"0","c":"1"}"#, true),
    (r#"any where a == "1" and (b == "1" or c == "1")"#, r#"{"a":"0","b":"0","c":"1"}"#, false),
    (r#"any where not a == "1" and b == "1""#, r#"{"a":"1","b":"0"}"#, false),
    (r#"any where not a == "1" and b == "1""#, r#"{"a":"0","b":"1"}"#, true),
    (r#"any where not (a == "1" and b == "1")"#, r#"{"a":"1","b":"0"}"#, true),
    (r#"any where not a == "1" or b == "1""#, r#"{"a":"1","b":"1"}"#, true),
    (r#"any where not (a == "1" or b == "1")"#, r#"{"a":"1","b":"0"}"#, false),
    (r#"any where not not a == "1""#, r#"{"a":"1"}"#, true),
    (r#"any where not not a == "1""#, r#"{}"#, false),
    (r#"any where ((a == "1"))"#, r#"{"a":"1"}"#, true),
    (r#"any where a == "1" or b == "1" or c == "1""#, r#"{"c":"1"}"#, true),
    (r#"any where a == "1" and b == "1" and c == "1""#, r#"{"a":"1","b":"1"}"#, false),
    (r#"any where not (not a == "1" or not b == "1")"#, r#"{"a":"1","b":"1"}"#, true),
    ("any\nwhere\na\n==\n\"1\"", r#"{"a":"1"}"#, true),
    // --- The rule of docs/semantics.md §1 on its own. ---
    (RULE, r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}}}"#, true),
    (RULE, r#"{"event":{"category":["process"],"type":["start","process_start"]},"host.os.type":"windows","process":{"name":"PowerShell.EXE","args":["powershell.exe","-nop"],"parent.name":"C:\\x\\services.exe"}}"#, false),
    (RULE, r#"{"event":{"category":["process"],"type":["start","process_start"]},"host.os.type":"windows","process":{"name":"PowerShell.EXE","args":["powershell.exe","-nop"],"parent.name":"Services.Exe"}}"#, true),
    (RULE, r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"Windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}}}"#, false),
    (RULE, r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"pwsh.exe","parent":{"name":"services.exe"},"args":["NVDisplay.Container.exe","-s","NVDisplay.ContainerLocalSystem"]}}"#, false),
    (RULE, r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"powershell_ise.exe","parent":{"name":"services.exe"},"args":["-cfg","NVDisplay.ContainerLocalSystem\\LocalSystem"]}}"#, true),
    (RULE, r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.e\u212ae","parent":{"name":"services.exe"}}}"#, false),
];

/// The rule's query, verbatim (docs/semantics.md §1).
const RULE: &str = r#"process where host.os.type == "windows" and event.type == "start" and
  process.parent.name : "services.exe" and
  process.name : ("cmd.exe", "powershell.exe", "pwsh.exe", "powershell_ise.exe") and

  /* Third party FP's */
  not process.args : "NVDisplay.ContainerLocalSystem"
"#;

#[test]
fn table_cases_engine_matches_hand_written_verdicts() {
    let mut failures = Vec::new();
    for (k, (query, doc, want)) in CASES.iter().enumerate() {
        let got = engine(query, doc);
        if got != *want {
            failures.push(format!(
                "case #{k}: {query:?} on {doc}: engine says {got}, docs say {want}"
            ));
        }
        if let Some(cond) = query.strip_prefix("any where ") {
            let got = engine_condition(cond, doc);
            if got != *want {
                failures.push(format!(
                    "case #{k}: condition {cond:?} on {doc}: engine says {got}, docs say {want}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn table_cases_reference_matches_hand_written_verdicts() {
    let mut failures = Vec::new();
    let mut evaluated = 0;
    for (k, (query, doc, want)) in CASES.iter().enumerate() {
        let value: Value = serde_json::from_str(doc).expect("table documents are valid JSON");
        let Some(parsed) = reference::parse_query(query) else {
            continue;
        };
        evaluated += 1;
        let got = reference::eval(&parsed, &value);
        if got != *want {
            failures.push(format!(
                "case #{k}: {query:?} on {doc}: reference says {got}, table says {want}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The reference parser covers the whole table: nothing is silently skipped.
    assert_eq!(evaluated, CASES.len());
}

#[test]
fn table_covers_both_verdicts() {
    let t = CASES.iter().filter(|c| c.2).count();
    assert!(t > 50 && CASES.len() - t > 50, "{t} of {}", CASES.len());
}

#[test]
fn the_rule_query_compiles_to_six_clauses_with_category_first() {
    let mut table = FieldTable::default();
    let p = Program::compile_query(RULE, &mut table).unwrap();
    let mut names: Vec<&str> = table.names().iter().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "event.category",
            "event.type",
            "host.os.type",
            "process.args",
            "process.name",
            "process.parent.name"
        ]
    );
    let doc = r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"},"args":["NVDisplay.ContainerLocalSystem"]}}"#;
    let set = FieldSet::new(table.names()).unwrap();
    let mut hits = Hits::default();
    json::scan(doc.as_bytes(), &set, &mut hits).unwrap();
    let clauses = p.eval_clauses(&HitsDoc {
        record: doc.as_bytes(),
        hits: &hits,
    });
    // category, host.os.type, event.type, parent name, name: true; the NVDisplay exclusion: false.
    assert_eq!(clauses, [true, true, true, true, true, false]);
}

/// (query, line, column, a fragment of the message). Columns count characters, 1-based.
#[rustfmt::skip]
const ERRORS: &[(&str, u32, u32, &str)] = &[
    // Operators and constructs outside the subset.
    (r#"process where process.name like "x""#, 1, 28, "not supported"),
    (r#"process where process.name like~ "x""#, 1, 28, "not supported"),
    (r#"process where process.name regex "x""#, 1, 28, "not supported"),
    (r#"process where process.name regex~ "x""#, 1, 28, "not supported"),
    (r#"process where process.pid >= "4""#, 1, 27, "not supported"),
    (r#"process where process.pid < "4""#, 1, 27, "not supported"),
    (r#"process where a = "b""#, 1, 17, "not supported"),
    (r#"process where a == "b" | head 1"#, 1, 24, "not supported"),
    (r#"sequence by host.id [process where true]"#, 1, 1, "not supported"),
    (r#"process where length(process.name) == "3""#, 1, 21, "function call"),
    (r#"process where wildcard(process.name, "a")"#, 1, 23, "function call"),
    // Numbers cannot be compared.
    (r#"process where process.pid == 4"#, 1, 30, "only string values"),
    (r#"process where process.pid != -1"#, 1, 30, "only string values"),
    (r#"process where a in ("b", 1)"#, 1, 26, "only string values"),
    (r#"process where a : 1.5"#, 1, 19, "only string values"),
    // Quotes and escapes.
    (r#"process where process.name == 'cmd.exe'"#, 1, 31, "single-quoted"),
    (r#"process where a == ?"b""#, 1, 20, "not supported"),
    (r#"process where a == "\x""#, 1, 21, "invalid escape"),
    (r#"process where a == "ok\/""#, 1, 23, "invalid escape"),
    (r#"process where a == "\u63""#, 1, 21, "\\u{HEX}"),
    (r#"process where a == "\u{1}""#, 1, 21, "2 to 8 hex digits"),
    (r#"process where a == "\u{123456789}""#, 1, 21, "2 to 8 hex digits"),
    (r#"process where a == "\u{}""#, 1, 21, "2 to 8 hex digits"),
    (r#"process where a == "\u{6g}""#, 1, 21, "2 to 8 hex digits"),
    (r#"process where a == "\u{d800}""#, 1, 21, "not a unicode scalar value"),
    (r#"process where a == "\u{110000}""#, 1, 21, "not a unicode scalar value"),
    // Unterminated strings, raw strings, comments, backticks; newlines in strings.
    (r#"process where a == "abc"#, 1, 20, "unterminated string"),
    (r#"process where a == "abc\""#, 1, 20, "unterminated string"),
    ("process where a == \"ab\ncd\"", 1, 23, "newline inside a string"),
    (r#"process where a == """abc"#, 1, 20, "unterminated raw string"),
    ("process where a == \"\"\"b\nc\"\"\"", 1, 24, "newline inside a raw string"),
    (r#"process where /* /* */ a == "b""#, 1, 15, "unterminated comment"),
    ("process where a == \"b\" /* x\n /* y */", 1, 24, "unterminated comment"),
    ("process where `a == \"b\"", 1, 15, "unterminated backticked"),
    ("process where `` == \"b\"", 1, 15, "empty backticked"),
    // Grammar errors.
    (r#"process where a == "b" AND c == "d""#, 1, 24, "unexpected `AND`"),
    (r#"process where NOT a == "b""#, 1, 19, "unexpected `a`"),
    (r#"process where a == "b" and"#, 1, 27, "end of query"),
    (r#"process where (a == "b""#, 1, 24, "end of query"),
    (r#"process where a == "b")"#, 1, 23, "unexpected `)`"),
    (r#"process where a : ("b",)"#, 1, 24, "unexpected `)`"),
    (r#"process where a in "b""#, 1, 20, "`(`"),
    (r#"process where a in ()"#, 1, 21, "unexpected `)`"),
    (r#"process where a == b"#, 1, 20, "string literal"),
    (r#"process where a == true"#, 1, 20, "string literal"),
    (r#"process where a"#, 1, 16, "comparison operator"),
    (r#"process where a not == "b""#, 1, 21, "`in` or `in~` after `not`"),
    (r#"process where"#, 1, 14, "end of query"),
    (r#"process a == "b""#, 1, 9, "`where`"),
    (r#"process.x where a == "b""#, 1, 1, "event category"),
    ("", 1, 1, "event category"),
    // Positions: lines, and columns in characters (not bytes).
    ("process where\n  process.name like \"x\"", 2, 16, "not supported"),
    ("process where\n  a == \"b\" and\n  b == 4", 3, 8, "only string values"),
    ("process where a == \"b\" // c\n and c == 5", 2, 11, "only string values"),
    ("process where /* x\ny */ a == 4", 2, 11, "only string values"),
    ("process where a == \"ä😀\" and b == 4", 1, 34, "only string values"),
    ("process where a == \"\"\"ä\"\"\" and b == 4", 1, 37, "only string values"),
];

#[test]
fn compile_errors_name_line_and_column() {
    let mut failures = Vec::new();
    for (query, line, column, fragment) in ERRORS {
        let mut table = FieldTable::default();
        match Program::compile_query(query, &mut table) {
            Ok(_) => failures.push(format!("{query:?}: compiled, expected an error")),
            Err(e) => {
                if (e.pos.line, e.pos.column) != (*line, *column) || !e.message.contains(fragment) {
                    failures.push(format!(
                        "{query:?}: got line {} column {} {:?}; expected line {line} column {column} \
                         with {fragment:?}",
                        e.pos.line, e.pos.column, e.message
                    ));
                }
                // The rendered error carries the position too.
                let shown = e.to_string();
                if !shown.contains(&format!("line {line}, column {column}")) {
                    failures.push(format!("{query:?}: display {shown:?} lacks the position"));
                }
            }
        }
        // The reference parser rejects them as well (it is no more lenient than the subset).
        if reference::parse_query(query).is_some() {
            failures.push(format!("{query:?}: the reference parser accepted it"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn condition_errors_name_line_and_column() {
    let cases: &[(&str, u32, u32, &str)] = &[
        (r#"process.name like "x""#, 1, 14, "not supported"),
        (
            "process.args : \"a\" or\n  process.pid == 4",
            2,
            18,
            "only string values",
        ),
        (r#"process where a == "b""#, 1, 9, "comparison operator"),
        (r#"a == 'b'"#, 1, 6, "single-quoted"),
        ("", 1, 1, "end of query"),
        // Paths the engine's field table cannot hold: the condition fails as the exception would.
        (r#"a == "b" or `host.`.name : "c""#, 1, 13, "empty segment"),
        (r#"`.` : "c""#, 1, 1, "empty segment"),
        (r#"`a..b` : "c""#, 1, 1, "empty segment"),
    ];
    let longest = format!("host.{}", "a".repeat(250));
    let too_long = format!("host.{}", "a".repeat(251));
    let mut table = FieldTable::default();
    Program::compile_condition(&format!("{longest} : \"x\""), &mut table).expect("255-byte path");
    let long_case = format!("a == \"b\" or\n  {too_long} : \"x\"");
    let cases: Vec<(&str, u32, u32, &str)> = cases
        .iter()
        .copied()
        .chain([(long_case.as_str(), 2, 3, "longer than 255 bytes")])
        .collect();
    for (cond, line, column, fragment) in &cases {
        let mut table = FieldTable::default();
        let e = Program::compile_condition(cond, &mut table).expect_err(cond);
        assert_eq!(
            (e.pos.line, e.pos.column),
            (*line, *column),
            "{cond:?}: {e}"
        );
        assert!(e.message.contains(fragment), "{cond:?}: {e}");
    }
}

#[test]
fn valid_queries_that_look_odd_compile() {
    for q in [
        "process where a == \"\"",
        "process where a : \"\"\"\"\"\"",
        "process where a == \"b\" // trailing comment without newline",
        "process where a == \"b\" /* trailing */",
        "process where /**/ a == \"b\"",
        "process where /* /* /* deep */ */ */ a == \"b\"",
        "process where a in (\"b\")",
        "process where a not in~ (\"b\", \"c\")",
        "process where ?`a b`.c : \"d\"",
        "process where a.b.c.d.e.f == \"g\"",
        "process where\ta\t==\t\"b\"",
        "process where\r\na == \"b\"\r\n",
    ] {
        let mut table = FieldTable::default();
        if let Err(e) = Program::compile_query(q, &mut table) {
            panic!("{q:?} should compile: {e}");
        }
        assert!(reference::parse_query(q).is_some(), "reference: {q:?}");
    }
}

/// An independent reference: a small parser for the EQL subset of docs/semantics.md §2 and an evaluator over
/// `serde_json::Value`. It shares no code with the library.
mod reference {
    use serde_json::Value;

    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        /// A field path (segments joined by `.`), or a keyword when `plain` and a keyword.
        Word {
            text: String,
            plain: bool,
        },
        Str(String),
        Sym(&'static str),
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Op {
        Eq,
        Like,
        EqFold,
    }

    #[derive(Debug)]
    pub enum Expr {
        And(Box<Expr>, Box<Expr>),
        Or(Box<Expr>, Box<Expr>),
        Not(Box<Expr>),
        Cmp {
            path: Vec<String>,
            op: Op,
            values: Vec<String>,
        },
    }

    fn lex(src: &str) -> Option<Vec<Tok>> {
        let c: Vec<char> = src.chars().collect();
        let mut i = 0;
        let mut out = Vec::new();
        let ident_start = |ch: char| ch.is_ascii_alphabetic() || ch == '_' || ch == '@';
        let ident_char = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == '@';
        while i < c.len() {
            let ch = c[i];
            if matches!(ch, ' ' | '\t' | '\r' | '\n') {
                i += 1;
            } else if ch == '/' && c.get(i + 1) == Some(&'/') {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            } else if ch == '/' && c.get(i + 1) == Some(&'*') {
                let mut depth = 0;
                loop {
                    if i + 1 >= c.len() {
                        return None;
                    }
                    if c[i] == '/' && c[i + 1] == '*' {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c[i + 1] == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            } else if ch == '"' {
                if c.get(i + 1) == Some(&'"') && c.get(i + 2) == Some(&'"') {
                    i += 3;
                    let mut s = String::new();
                    loop {
                        match c.get(i) {
                            None | Some('\n') | Some('\r') => return None,
                            Some('"')
                                if c.get(i + 1) == Some(&'"') && c.get(i + 2) == Some(&'"') =>
                            {
                                i += 3;
                                break;
                            }
                            Some(&x) => {
                                s.push(x);
                                i += 1;
                            }
                        }
                    }
                    out.push(Tok::Str(s));
                } else {
                    i += 1;
                    let mut s = String::new();
                    loop {
                        match *c.get(i)? {
                            '"' => {
                                i += 1;
                                break;
                            }
                            '\n' | '\r' => return None,
                            '\\' => {
                                let e = *c.get(i + 1)?;
                                i += 2;
                                match e {
                                    'b' => s.push('\u{8}'),
                                    't' => s.push('\t'),
                                    'n' => s.push('\n'),
                                    'f' => s.push('\u{c}'),
                                    'r' => s.push('\r'),
                                    '"' => s.push('"'),
                                    '\'' => s.push('\''),
                                    '\\' => s.push('\\'),
                                    'u' => {
                                        if c.get(i) != Some(&'{') {
                                            return None;
                                        }
                                        let close = (i..c.len()).find(|&k| c[k] == '}')?;
                                        let hex: String = c[i + 1..close].iter().collect();
                                        if hex.len() < 2
                                            || hex.len() > 8
                                            || !hex.chars().all(|h| h.is_ascii_hexdigit())
                                        {
                                            return None;
                                        }
                                        s.push(char::from_u32(
                                            u32::from_str_radix(&hex, 16).ok()?,
                                        )?);
                                        i = close + 1;
                                    }
                                    _ => return None,
                                }
                            }
                            x => {
                                s.push(x);
                                i += 1;
                            }
                        }
                    }
                    out.push(Tok::Str(s));
                }
            } else if ch == '`' || ident_start(ch) {
                let mut text = String::new();
                let mut plain = true;
                loop {
                    if c.get(i) == Some(&'`') {
                        plain = false;
                        i += 1;
                        let mut seg = String::new();
                        loop {
                            match *c.get(i)? {
                                '\n' => return None,
                                '`' if c.get(i + 1) == Some(&'`') => {
                                    seg.push('`');
                                    i += 2;
                                }
                                '`' => {
                                    i += 1;
                                    break;
                                }
                                x => {
                                    seg.push(x);
                                    i += 1;
                                }
                            }
                        }
                        if seg.is_empty() {
                            return None;
                        }
                        text.push_str(&seg);
                    } else if c.get(i).is_some_and(|&x| ident_start(x)) {
                        while c.get(i).is_some_and(|&x| ident_char(x)) {
                            text.push(c[i]);
                            i += 1;
                        }
                    } else {
                        return None;
                    }
                    if c.get(i) == Some(&'.') {
                        plain = false;
                        text.push('.');
                        i += 1;
                    } else {
                        break;
                    }
                }
                if plain && text == "in" && c.get(i) == Some(&'~') {
                    i += 1;
                    out.push(Tok::Sym("in~"));
                } else {
                    out.push(Tok::Word { text, plain });
                }
            } else {
                let two: String = c[i..(i + 2).min(c.len())].iter().collect();
                let sym = match (two.as_str(), ch) {
                    ("==", _) => "==",
                    ("!=", _) => "!=",
                    (_, ':') => ":",
                    (_, '(') => "(",
                    (_, ')') => ")",
                    (_, ',') => ",",
                    (_, '?') if c.get(i + 1) != Some(&'"') => "?",
                    _ => return None,
                };
                i += sym.len();
                out.push(Tok::Sym(sym));
            }
        }
        Some(out)
    }

    const KEYWORDS: [&str; 5] = ["and", "or", "not", "in", "where"];

    struct P {
        t: Vec<Tok>,
        k: usize,
    }

    impl P {
        fn peek(&self) -> Option<&Tok> {
            self.t.get(self.k)
        }
        fn is_kw(&self, kw: &str) -> bool {
            matches!(self.peek(), Some(Tok::Word { text, plain: true }) if text == kw)
        }
        fn is_sym(&self, s: &str) -> bool {
            matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
        }
        fn bump(&mut self) -> Option<Tok> {
            let t = self.t.get(self.k).cloned();
            self.k += 1;
            t
        }
        fn expr(&mut self) -> Option<Expr> {
            let mut e = self.and()?;
            while self.is_kw("or") {
                self.k += 1;
                e = Expr::Or(Box::new(e), Box::new(self.and()?));
            }
            Some(e)
        }
        fn and(&mut self) -> Option<Expr> {
            let mut e = self.unary()?;
            while self.is_kw("and") {
                self.k += 1;
                e = Expr::And(Box::new(e), Box::new(self.unary()?));
            }
            Some(e)
        }
        fn unary(&mut self) -> Option<Expr> {
            if self.is_kw("not") {
                self.k += 1;
                return Some(Expr::Not(Box::new(self.unary()?)));
            }
            if self.is_sym("(") {
                self.k += 1;
                let e = self.expr()?;
                if !self.is_sym(")") {
                    return None;
                }
                self.k += 1;
                return Some(e);
            }
            if self.is_sym("?") {
                self.k += 1;
            }
            let path = match self.bump()? {
                Tok::Word { text, plain } => {
                    if plain && KEYWORDS.contains(&text.as_str()) {
                        return None;
                    }
                    text.split('.').map(str::to_string).collect::<Vec<_>>()
                }
                _ => return None,
            };
            let cmp = |path: Vec<String>, op, values| Expr::Cmp { path, op, values };
            let op = self.bump()?;
            Some(match op {
                Tok::Sym("==") => cmp(path, Op::Eq, vec![self.string()?]),
                Tok::Sym("!=") => Expr::Not(Box::new(cmp(path, Op::Eq, vec![self.string()?]))),
                Tok::Sym(":") => {
                    let values = if self.is_sym("(") {
                        self.list()?
                    } else {
                        vec![self.string()?]
                    };
                    cmp(path, Op::Like, values)
                }
                Tok::Sym("in~") => cmp(path, Op::EqFold, self.list()?),
                Tok::Word { text, plain: true } if text == "in" => cmp(path, Op::Eq, self.list()?),
                Tok::Word { text, plain: true } if text == "not" => {
                    let op = match self.bump()? {
                        Tok::Sym("in~") => Op::EqFold,
                        Tok::Word { text, plain: true } if text == "in" => Op::Eq,
                        _ => return None,
                    };
                    Expr::Not(Box::new(cmp(path, op, self.list()?)))
                }
                _ => return None,
            })
        }
        fn string(&mut self) -> Option<String> {
            match self.bump()? {
                Tok::Str(s) => Some(s),
                _ => None,
            }
        }
        fn list(&mut self) -> Option<Vec<String>> {
            if !self.is_sym("(") {
                return None;
            }
            self.k += 1;
            let mut v = vec![self.string()?];
            loop {
                match self.bump()? {
                    Tok::Sym(",") => v.push(self.string()?),
                    Tok::Sym(")") => return Some(v),
                    _ => return None,
                }
            }
        }
    }

    /// Parses `<category> where <condition>` into one expression (the category test included); `None` when
    /// the query is outside the subset.
    pub fn parse_query(src: &str) -> Option<Expr> {
        let mut p = P { t: lex(src)?, k: 0 };
        let category = match p.bump()? {
            Tok::Word { text, plain: true } if !KEYWORDS.contains(&text.as_str()) => text,
            // A category written as a string: `"network-traffic" where ...`.
            Tok::Str(text) => text,
            _ => return None,
        };
        if !p.is_kw("where") {
            return None;
        }
        p.k += 1;
        let cond = p.expr()?;
        if p.k != p.t.len() {
            return None;
        }
        Some(if category == "any" {
            cond
        } else {
            Expr::And(
                Box::new(Expr::Cmp {
                    path: vec!["event".into(), "category".into()],
                    op: Op::Eq,
                    values: vec![category],
                }),
                Box::new(cond),
            )
        })
    }

    /// Every leaf value at `path`: keys are split at dots, so nested, dotted and mixed spellings meet; arrays
    /// (of objects on the way, of values at the end) are flattened.
    fn values<'a>(v: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
        match v {
            Value::Array(a) => a.iter().for_each(|e| values(e, path, out)),
            Value::Object(m) => {
                for (k, child) in m {
                    let segs: Vec<&str> = k.split('.').collect();
                    if segs.len() > path.len() || segs.iter().zip(path).any(|(a, b)| *a != b) {
                        continue;
                    }
                    if segs.len() == path.len() {
                        leaves(child, out);
                    } else {
                        values(child, &path[segs.len()..], out);
                    }
                }
            }
            _ => {}
        }
    }

    fn leaves<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
        match v {
            Value::Array(a) => a.iter().for_each(|e| leaves(e, out)),
            other => out.push(other),
        }
    }

    fn fold(c: char) -> char {
        c.to_ascii_lowercase()
    }

    /// `:` matching on characters: `*` any run, `?` one character, ASCII letters folded.
    fn like(p: &[char], s: &[char]) -> bool {
        // matched[j] = the pattern prefix so far matches s[..j]
        let mut matched = vec![false; s.len() + 1];
        matched[0] = true;
        for &pc in p {
            let mut next = vec![false; s.len() + 1];
            match pc {
                '*' => {
                    let mut any = false;
                    for j in 0..=s.len() {
                        any |= matched[j];
                        next[j] = any;
                    }
                }
                '?' => next[1..].copy_from_slice(&matched[..s.len()]),
                c => {
                    for j in 0..s.len() {
                        next[j + 1] = matched[j] && fold(s[j]) == fold(c);
                    }
                }
            }
            matched = next;
        }
        matched[s.len()]
    }

    fn eq_fold(a: &str, b: &str) -> bool {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| fold(*x) == fold(*y))
    }

    pub fn eval(e: &Expr, doc: &Value) -> bool {
        match e {
            Expr::And(a, b) => eval(a, doc) && eval(b, doc),
            Expr::Or(a, b) => eval(a, doc) || eval(b, doc),
            Expr::Not(a) => !eval(a, doc),
            Expr::Cmp {
                path,
                op,
                values: pats,
            } => {
                let mut vals = Vec::new();
                values(doc, path, &mut vals);
                vals.iter().any(|v| {
                    let Value::String(s) = v else { return false };
                    pats.iter().any(|p| match op {
                        Op::Eq => s == p,
                        Op::EqFold => eq_fold(s, p),
                        Op::Like => {
                            let (pc, sc): (Vec<char>, Vec<char>) =
                                (p.chars().collect(), s.chars().collect());
                            like(&pc, &sc)
                        }
                    })
                })
            }
        }
    }
}

/// A program keeps the text it was compiled from (for messages and `explain`), exactly as given.
#[test]
fn programs_keep_their_source_text() {
    let mut fields = FieldTable::default();
    let q = "process where process.name : \"cmd.exe\" /* c */";
    assert_eq!(Program::compile_query(q, &mut fields).unwrap().source(), q);
    let c = "  not host.name in (\"a\", \"b\")\n";
    assert_eq!(
        Program::compile_condition(c, &mut fields).unwrap().source(),
        c
    );
    assert_eq!(
        fields.names(),
        ["process.name", "event.category", "host.name"]
    );
}

/// An unsupported token is quoted in the error as the user wrote it: up to two characters (whole UTF-8
/// characters), ending before a letter, digit, whitespace, quote or parenthesis — and one character when it is
/// itself one of those (a form feed, which is not EQL whitespace).
#[test]
fn unsupported_tokens_are_quoted_as_written() {
    let cases: &[(&str, u32, &str)] = &[
        ("a == \"b\" |& c", 10, "|&"),
        ("a ~= \"b\"", 3, "~="),
        ("a ~~~ \"b\"", 3, "~~"),
        ("a~~~ \"b\"", 2, "~~"),
        ("a == \"b\" |\"x\"", 10, "|"),
        ("a == \"b\" |(c)", 10, "|"),
        ("a == \"b\" &)", 10, "&"),
        ("a == \"b\" &\tc", 10, "&"),
        ("a == \"b\" ~1", 10, "~"),
        ("a == \"b\" ~c", 10, "~"),
        ("a == \"b\" and c é= \"x\"", 16, "é"),
        ("a == \"b\" and c ∈ (\"x\")", 16, "∈"),
        ("a == \"b\" and c 😀 \"x\"", 16, "😀"),
        ("a == \"b\"\u{c} and c == \"d\"", 9, "\u{c}"),
    ];
    let mut failures = Vec::new();
    for (cond, column, tok) in cases {
        let mut table = FieldTable::default();
        match Program::compile_condition(cond, &mut table) {
            Ok(_) => failures.push(format!("{cond:?}: compiled")),
            Err(e) => {
                let want = format!("`{tok}` is not supported");
                if e.pos.column != *column || !e.message.contains(&want) {
                    failures.push(format!(
                        "{cond:?}: column {} {:?}; expected column {column} with {want:?}",
                        e.pos.column, e.message
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
