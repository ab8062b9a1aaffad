//! The EQL lexer, parser and compiler on arbitrary UTF-8: `Program::compile_query` and
//! `Program::compile_condition` never panic; what compiles evaluates without panicking on documents with and
//! without values, and also works as a filter exception.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use svcshell::eql::{Document, FieldTable, Program};
use svcshell::Filter;

/// Every field holds these values.
struct Values(&'static [&'static [u8]]);

impl Document for Values {
    fn any_str(&self, _field: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.0.iter().any(|v| pred(v))
    }
}

const DOCS: &[Values] = &[
    Values(&[]),
    Values(&[b"", b"process", b"windows", b"start", b"services.exe", b"cmd.exe"]),
    Values(&[b"SERVICES.EXE", "\u{17f}ervices.exe".as_bytes(), b"*", b"?", b"a\\b\"c", &[0xff, 0xfe]]),
];

const RECORD: &[u8] = include_bytes!("../seeds/common/match.json");

fn exercise(p: &Program) {
    let _ = p.source();
    let _ = p.required_literals(&[0, 1, 2, 3]);
    let _ = p.clause_fields();
    for d in DOCS {
        let r = p.eval(d);
        let c = p.eval_clauses(d);
        let _ = (r, c);
        // `not` of a condition is its negation.
    }
}

fn base() -> &'static Filter {
    static F: OnceLock<Filter> = OnceLock::new();
    F.get_or_init(|| Filter::from_properties(&[("max_alerts", "0")]).expect("filter"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let mut t = FieldTable::default();
    if let Ok(p) = Program::compile_query(src, &mut t) {
        exercise(&p);
    }
    let mut t = FieldTable::default();
    let cond = Program::compile_condition(src, &mut t);
    if let Ok(p) = &cond {
        exercise(p);
        // The negated condition is the complement on every document.
        let mut t2 = FieldTable::default();
        if let Ok(n) = Program::compile_condition(&format!("not ({src}\n)"), &mut t2) {
            for d in DOCS {
                assert_ne!(p.eval(d), n.eval(d), "not ({src}) is not the complement");
            }
        }
    }
    // As an exception: compiles exactly when the condition does (for a non-blank condition).
    if !src.trim().is_empty() {
        match Filter::from_properties(&[("exception", src), ("max_alerts", "0")]) {
            Ok(f) => {
                assert!(cond.is_ok() || src.trim() != src, "exception compiled, condition did not");
                let excepted = f.matches(RECORD).expect("valid record");
                assert!(!excepted || base().matches(RECORD).unwrap());
            }
            Err(e) => assert!(cond.is_err() || src.trim() != src, "condition compiled, exception did not: {e}"),
        }
    }
});
