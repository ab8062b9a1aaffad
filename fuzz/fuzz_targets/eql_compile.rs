//! The EQL lexer, parser and compiler, two ways.
//!
//! Arbitrary UTF-8 as a query, a condition and an exception: nothing panics; a compile error points at a line
//! and column inside the text; a condition that compiles obeys logic on every test document (`not (c)` is its
//! complement, `(c) and (c)` and `(c) or (c)` are `c`, `(c) or not (c)` always holds); an exception compiles
//! exactly when the condition does, and a filter with it alerts on a matching record exactly when the
//! condition (evaluated on the record's `serde_json::Value`) does not hold; written back by `eql::render` it
//! parses to the same tree.
//!
//! The same bytes as a condition tree (`arbitrary`): rendered to EQL text (escapes, raw strings, wildcards,
//! lists, `in~`, comments, optional parentheses), it must compile; on documents drawn from its own literals it
//! must evaluate as a small interpreter of docs/semantics.md §2 written here says; and as a filter exception, on the
//! matching record carrying those values (in fields the rule does not read), it must except the record exactly
//! when the interpreter says the condition holds.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result as AResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use svcshell::eql::{Document, FieldTable, Pos, Program};
use svcshell_cli::baseline::ValueDoc;
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

fn record() -> &'static serde_json::Value {
    static V: OnceLock<serde_json::Value> = OnceLock::new();
    V.get_or_init(|| serde_json::from_slice(RECORD).expect("valid record"))
}

/// A compile error points inside the text: an existing line, a column up to one past its last character.
fn check_pos(src: &str, pos: Pos, what: &str) {
    let lines: Vec<&str> = src.split('\n').collect();
    assert!(pos.line >= 1 && pos.line as usize <= lines.len(), "{what}: line {} of {}", pos.line, lines.len());
    let len = lines[pos.line as usize - 1].chars().count() as u32;
    assert!(pos.column >= 1 && pos.column <= len + 1, "{what}: column {} of a {len}-character line", pos.column);
}

fn compiles(src: &str) -> Option<Program> {
    Program::compile_condition(src, &mut FieldTable::default()).ok()
}

fn base() -> &'static Filter {
    static F: OnceLock<Filter> = OnceLock::new();
    F.get_or_init(|| Filter::from_properties(&[("max_alerts", "0")]).expect("filter"))
}

fn text_route(src: &str) {
    let mut t = FieldTable::default();
    match Program::compile_query(src, &mut t) {
        Ok(p) => {
            let _ = (p.source(), p.required_literals(&[0, 1, 2, 3]));
            // `explain` pairs each clause's text with its fields and result: one of each per clause.
            assert_eq!(p.clause_texts().len(), p.clause_fields().len(), "clause texts");
            for d in DOCS {
                let _ = p.eval(d);
                assert_eq!(p.eval_clauses(d).len(), p.clause_texts().len(), "clause results");
            }
        }
        Err(e) => check_pos(src, e.pos, "query error"),
    }
    let mut t = FieldTable::default();
    let cond = Program::compile_condition(src, &mut t);
    match &cond {
        Ok(p) => {
            // The condition written back as EQL (`explain`'s clause texts) parses to the same tree.
            let e = svcshell::eql::parse_condition(src).expect("it compiled");
            let text = svcshell::eql::render(&e);
            assert_eq!(svcshell::eql::parse_condition(&text).as_ref(), Ok(&e), "render: {text}");
            // Logic: each rewrite compiles whenever `src` does (it is wrapped in parentheses, after a newline
            // so a trailing `//` comment cannot swallow the closing one) and evaluates as logic says.
            let not = compiles(&format!("not ({src}\n)")).expect("not (c) compiles");
            let and = compiles(&format!("({src}\n) and ({src}\n)")).expect("(c) and (c) compiles");
            let or = compiles(&format!("({src}\n) or ({src}\n)")).expect("(c) or (c) compiles");
            let tautology = compiles(&format!("({src}\n) or not ({src}\n)")).expect("(c) or not (c) compiles");
            for d in DOCS {
                let v = p.eval(d);
                assert_ne!(not.eval(d), v, "not ({src}) is not the complement");
                assert_eq!(and.eval(d), v, "(c) and (c) differs from c: {src}");
                assert_eq!(or.eval(d), v, "(c) or (c) differs from c: {src}");
                assert!(tautology.eval(d), "(c) or not (c) is false: {src}");
            }
        }
        Err(e) => check_pos(src, e.pos, "condition error"),
    }
    // As an exception: compiles exactly when the condition does (for a non-blank condition); on the matching
    // record, the filter alerts exactly when the condition does not hold there.
    if !src.trim().is_empty() {
        match Filter::from_properties(&[("exception", src), ("max_alerts", "0")]) {
            Ok(f) => {
                let p = cond.as_ref().ok().filter(|_| src.trim() == src);
                assert!(p.is_some() || src.trim() != src, "exception compiled, condition did not");
                assert!(base().matches(RECORD).unwrap());
                let alerted = f.matches(RECORD).expect("valid record");
                if let Some(p) = p {
                    let holds = p.eval(&ValueDoc {
                        value: record(),
                        fields: &t,
                    });
                    assert_eq!(alerted, !holds, "exception {src:?} holds={holds} but the filter alerted={alerted}");
                }
            }
            Err(e) => {
                assert!(cond.is_err() || src.trim() != src, "condition compiled, exception did not: {e}");
                assert_eq!(e.key, "exception");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The structured route.

/// Fields the rule does not read, so the matching record still matches with any values in them.
const FIELDS: &[&str] = &["user.name", "a", "b.c_d", "process.title"];
/// Characters of literals and values: letters of both cases, wildcards, quotes, backslashes, whitespace,
/// non-ASCII letters that must not fold (`ſ`, Kelvin sign), multi-byte characters for `?`.
const ALPHABET: &[char] = &['a', 'A', 'b', 's', 'S', 'k', 'K', '*', '?', '"', '\\', ' ', '\n', '\t', 'ſ', 'K', 'é', '😀', '.'];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Colon,
    In,
    InFold,
}

#[derive(Debug)]
enum C {
    Test { field: usize, op: Op, lits: Vec<String> },
    And(Box<C>, Box<C>),
    Or(Box<C>, Box<C>),
    Not(Box<C>),
}

fn text(u: &mut Unstructured) -> AResult<String> {
    let n = u.int_in_range(0..=6)?;
    (0..n).map(|_| u.choose(ALPHABET).copied()).collect()
}

fn cond(u: &mut Unstructured, depth: u32) -> AResult<C> {
    let kind = if depth >= 4 { 0 } else { u.int_in_range(0..=4)? };
    Ok(match kind {
        1 => C::And(Box::new(cond(u, depth + 1)?), Box::new(cond(u, depth + 1)?)),
        2 => C::Or(Box::new(cond(u, depth + 1)?), Box::new(cond(u, depth + 1)?)),
        3 => C::Not(Box::new(cond(u, depth + 1)?)),
        _ => {
            let field = u.choose_index(FIELDS.len())?;
            let op = *u.choose(&[Op::Eq, Op::Ne, Op::Colon, Op::In, Op::InFold])?;
            let n = if matches!(op, Op::Eq | Op::Ne) { 1 } else { u.int_in_range(1..=3)? };
            let lits = (0..n).map(|_| text(u)).collect::<AResult<_>>()?;
            C::Test { field, op, lits }
        }
    })
}

/// Whitespace or a comment between tokens.
fn gap(u: &mut Unstructured, out: &mut String) -> AResult<()> {
    out.push_str(u.choose(&[" ", " ", "  ", "\n", "\t", " /* x */ ", " /* a /* nested */ b */ ", " // c\n"])?);
    Ok(())
}

fn literal(u: &mut Unstructured, s: &str, out: &mut String) -> AResult<()> {
    // Raw strings hold no `"` and no line breaks.
    if !s.contains(['"', '\n', '\r']) && u.ratio(1, 4)? {
        out.push_str(&format!("\"\"\"{s}\"\"\""));
        return Ok(());
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str(if u.ratio(1, 2)? { "\\n" } else { "\\u{0a}" }),
            '\t' => out.push_str(if u.ratio(1, 2)? { "\\t" } else { "\\u{09}" }),
            _ if u.ratio(1, 5)? => out.push_str(&format!("\\u{{{:02x}}}", c as u32)),
            _ => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

fn prec(c: &C) -> u8 {
    match c {
        C::Or(..) => 0,
        C::And(..) => 1,
        C::Not(_) | C::Test { .. } => 2,
    }
}

/// Renders `c`; a child is parenthesised when it binds looser than its parent, and sometimes anyway.
fn render(u: &mut Unstructured, c: &C, out: &mut String) -> AResult<()> {
    let child = |u: &mut Unstructured, parent: u8, k: &C, out: &mut String| -> AResult<()> {
        let paren = prec(k) < parent || (!matches!(k, C::Test { .. }) && u.ratio(1, 3)?);
        if paren {
            out.push('(');
        }
        render(u, k, out)?;
        if paren {
            out.push(')');
        }
        Ok(())
    };
    match c {
        C::And(a, b) | C::Or(a, b) => {
            let p = prec(c);
            // Left-associative: a right child of the same precedence keeps its parentheses.
            child(u, p, a, out)?;
            gap(u, out)?;
            out.push_str(if p == 1 { "and" } else { "or" });
            gap(u, out)?;
            child(u, p + 1, b, out)?;
        }
        C::Not(a) => {
            out.push_str("not");
            gap(u, out)?;
            child(u, 2, a, out)?;
        }
        C::Test { field, op, lits } => {
            out.push_str(FIELDS[*field]);
            gap(u, out)?;
            let list = lits.len() > 1 || (matches!(op, Op::In | Op::InFold)) || u.ratio(1, 4)?;
            out.push_str(match op {
                Op::Eq => "==",
                Op::Ne => "!=",
                Op::Colon => ":",
                Op::In => "in",
                Op::InFold => "in~",
            });
            gap(u, out)?;
            if list && !matches!(op, Op::Eq | Op::Ne) {
                out.push('(');
                for (k, l) in lits.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                        gap(u, out)?;
                    }
                    literal(u, l, out)?;
                }
                out.push(')');
            } else {
                literal(u, &lits[0], out)?;
            }
        }
    }
    Ok(())
}

/// ASCII-only case folding, character by character.
fn fold(c: char) -> char {
    c.to_ascii_lowercase()
}

/// `*` any run of characters, `?` exactly one, anchored, ASCII case-insensitive (docs/semantics.md §2).
fn wildcard(p: &[char], v: &[char]) -> bool {
    // match[i][j]: p[i..] matches v[j..].
    let mut m = vec![vec![false; v.len() + 1]; p.len() + 1];
    m[p.len()][v.len()] = true;
    for i in (0..p.len()).rev() {
        for j in (0..=v.len()).rev() {
            m[i][j] = match p[i] {
                '*' => m[i + 1][j] || (j < v.len() && m[i][j + 1]),
                '?' => j < v.len() && m[i + 1][j + 1],
                c => j < v.len() && fold(c) == fold(v[j]) && m[i + 1][j + 1],
            };
        }
    }
    m[0][0]
}

/// docs/semantics.md §2 on a document that maps each of `FIELDS` to its string values.
fn interpret(c: &C, doc: &[Vec<String>]) -> bool {
    match c {
        C::And(a, b) => interpret(a, doc) && interpret(b, doc),
        C::Or(a, b) => interpret(a, doc) || interpret(b, doc),
        C::Not(a) => !interpret(a, doc),
        C::Test { field, op, lits } => {
            let vals = &doc[*field];
            let any = |f: &dyn Fn(&str, &str) -> bool| vals.iter().any(|v| lits.iter().any(|l| f(v, l)));
            match op {
                Op::Eq | Op::In => any(&|v, l| v == l),
                Op::Ne => !any(&|v, l| v == l),
                Op::InFold => any(&|v, l| {
                    v.chars().count() == l.chars().count() && v.chars().zip(l.chars()).all(|(a, b)| fold(a) == fold(b))
                }),
                Op::Colon => any(&|v, l| {
                    let (p, v): (Vec<char>, Vec<char>) = (l.chars().collect(), v.chars().collect());
                    wildcard(&p, &v)
                }),
            }
        }
    }
}

fn literals<'a>(c: &'a C, out: &mut Vec<&'a str>) {
    match c {
        C::And(a, b) | C::Or(a, b) => {
            literals(a, out);
            literals(b, out);
        }
        C::Not(a) => literals(a, out),
        C::Test { lits, .. } => out.extend(lits.iter().map(String::as_str)),
    }
}

/// A value near a literal: itself, case-flipped, a wildcard replaced by a character, shortened, or fresh.
fn value(u: &mut Unstructured, lits: &[&str]) -> AResult<String> {
    let l = if lits.is_empty() { "" } else { lits[u.choose_index(lits.len())?] };
    Ok(match u.int_in_range(0..=5)? {
        0 | 1 => l.to_string(),
        2 => l.chars().map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect(),
        3 => {
            let fill = *u.choose(ALPHABET)?;
            l.chars().flat_map(|c| if c == '*' || c == '?' { vec![fill, fill] } else { vec![c] }).collect()
        }
        4 => l.chars().skip(1).collect(),
        _ => text(u)?,
    })
}

struct FieldDoc<'a> {
    /// Index in `FIELDS` of each field-table slot.
    slots: &'a [usize],
    values: &'a [Vec<String>],
}

impl Document for FieldDoc<'_> {
    fn any_str(&self, field: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.values[self.slots[field]].iter().any(|v| pred(v.as_bytes()))
    }
}

/// A filter with the exception `src` (compiled once per input).
fn exception_filter(src: &str) -> Filter {
    Filter::from_properties(&[("exception", src), ("max_alerts", "0")])
        .unwrap_or_else(|e| panic!("valid EQL is not a valid exception: {e}\n{src}"))
}

fn structured_route(data: &[u8]) -> AResult<()> {
    let mut u = Unstructured::new(data);
    let c = cond(&mut u, 0)?;
    let mut src = String::new();
    render(&mut u, &c, &mut src)?;
    let mut t = FieldTable::default();
    let p = match Program::compile_condition(&src, &mut t) {
        Ok(p) => p,
        Err(e) => panic!("valid EQL did not compile: {e}\n{src}\n{c:?}"),
    };
    let slots: Vec<usize> = t
        .names()
        .iter()
        .map(|n| FIELDS.iter().position(|f| f == n).unwrap_or_else(|| panic!("unknown field {n} in {src}")))
        .collect();
    let mut lits = Vec::new();
    literals(&c, &mut lits);
    // Building a filter costs far more than the rest: one input in four checks the exception route.
    let excepting = if u.ratio(1, 4)? { Some(exception_filter(&src)) } else { None };
    for _ in 0..4 {
        let values: Vec<Vec<String>> = (0..FIELDS.len())
            .map(|_| {
                let n = u.int_in_range(0..=2)?;
                (0..n).map(|_| value(&mut u, &lits)).collect()
            })
            .collect::<AResult<_>>()?;
        let doc = FieldDoc {
            slots: &slots,
            values: &values,
        };
        let want = interpret(&c, &values);
        assert_eq!(p.eval(&doc), want, "{src}\non {values:?}: the interpreter says {want}");
        // As an exception, on the matching record carrying these values: excepted exactly when it holds.
        let Some(excepting) = &excepting else {
            continue;
        };
        let mut rec = record().clone();
        for (k, vals) in values.iter().enumerate() {
            let (head, leaf) = FIELDS[k].rsplit_once('.').unwrap_or(("", FIELDS[k]));
            let mut obj = rec.as_object_mut().expect("an object");
            for seg in head.split('.').filter(|s| !s.is_empty()) {
                obj = obj.entry(seg).or_insert_with(|| serde_json::json!({})).as_object_mut().expect("object");
            }
            match vals.len() {
                0 => obj.remove(leaf),
                1 if k % 2 == 0 => obj.insert(leaf.to_string(), serde_json::json!(vals[0])),
                _ => obj.insert(leaf.to_string(), serde_json::json!(vals)),
            };
        }
        let text = serde_json::to_vec(&rec).expect("JSON");
        let alerted = excepting.matches(&text).expect("valid record");
        assert_eq!(alerted, !want, "exception {src:?} on {values:?}: the interpreter says it holds={want}");
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        text_route(src);
    }
    let _ = structured_route(data);
});
