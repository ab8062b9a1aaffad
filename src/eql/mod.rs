//! The EQL engine: the subset of Elastic's Event Query Language that single-event detection rules such as
//! "System Shells via Services" use, compiled once into a small program and evaluated per record with the
//! semantics Elasticsearch gives the query (term queries on keyword fields):
//!
//! - `==` / `in`: case-sensitive exact; `in~`: ASCII case-insensitive exact; `:` ASCII case-insensitive with
//!   `*` and `?` wildcards anchored to the whole value (lists are any-of).
//! - A field with several values (a JSON array) holds when any value holds; a missing field (or `null`, or a
//!   non-string value) makes a comparison false, so `not` / `!=` over it are true.
//!
//! Pure code: no I/O, no `unsafe`. Records are reached through the [`Document`] trait.

mod lexer;
mod parser;
mod wildcard;

pub use parser::{parse_condition, parse_query, render, Expr, Op, Query, MAX_DEPTH};
pub use wildcard::Pattern;

use std::fmt;

/// A position in query text (1-based line and column, columns in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A query that is not valid EQL or uses something outside the supported subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.pos.line, self.pos.column, self.message
        )
    }
}

impl std::error::Error for CompileError {}

/// Field names used by one or more programs; a program refers to fields by their index here, and a record
/// scanner collects values per index.
#[derive(Debug, Clone, Default)]
pub struct FieldTable {
    names: Vec<String>,
}

impl FieldTable {
    pub fn intern(&mut self, name: &str) -> usize {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return i;
        }
        self.names.push(name.to_string());
        self.names.len() - 1
    }

    pub fn get(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Read access to one record's field values, as the evaluator needs it.
pub trait Document {
    /// True when any string value of field `field` (an index into the [`FieldTable`] the program was compiled
    /// against) satisfies `pred`. Strings are decoded (no JSON escapes left). Non-string values are skipped.
    fn any_str(&self, field: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool;
}

/// How a compiled test compares one value.
#[derive(Debug, Clone)]
enum Matcher {
    Exact(Vec<Box<[u8]>>),
    /// Needles stored lowercase (ASCII).
    ExactFold(Vec<Box<[u8]>>),
    Wildcard(Vec<Pattern>),
}

impl Matcher {
    fn matches(&self, v: &[u8]) -> bool {
        match self {
            Matcher::Exact(n) => n.iter().any(|n| **n == *v),
            Matcher::ExactFold(n) => n
                .iter()
                .any(|n| n.len() == v.len() && n.eq_ignore_ascii_case(v)),
            Matcher::Wildcard(p) => p.iter().any(|p| p.matches(v)),
        }
    }
}

#[derive(Debug, Clone)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Test { field: usize, matcher: Matcher },
}

/// A compiled condition as [`Program::cond`] shows it: the same tree the evaluator walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// All hold (`true` when empty).
    And(Vec<Cond>),
    /// Any holds (`false` when empty).
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// Any string value of field `field` (a [`FieldTable`] index) passes `test`; a missing field fails it.
    Test {
        field: usize,
        test: Test,
    },
}

/// How a [`Cond::Test`] compares one string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// Equal to one of these bytes.
    Exact(Vec<Vec<u8>>),
    /// Equal to one of these ASCII-lowercased bytes, ASCII case-insensitively (nothing else folds).
    ExactFold(Vec<Vec<u8>>),
    /// Matches one of these ASCII-lowercased patterns, ASCII case-insensitively: `*` any run of characters,
    /// `?` one character, anchored to the whole value.
    Wildcard(Vec<Vec<u8>>),
}

/// A compiled condition (and event category), ready to evaluate on any [`Document`].
#[derive(Debug, Clone)]
pub struct Program {
    root: Node,
    source: String,
    /// Each top-level clause as EQL text ([`render`]), in [`Program::eval_clauses`] order.
    clause_texts: Vec<String>,
}

/// The top-level clauses of a condition (the items of an `and` at its root), as EQL text.
fn clause_texts(e: &Expr) -> Vec<String> {
    match e {
        Expr::And(v) => v.iter().map(render).collect(),
        e => vec![render(e)],
    }
}

/// The field an EQL `<category> where` clause reads.
pub const CATEGORY_FIELD: &str = "event.category";

impl Program {
    /// Compiles a full query (`<category> where ...`), interning its fields in `fields`.
    pub fn compile_query(src: &str, fields: &mut FieldTable) -> Result<Program, CompileError> {
        let q = parse_query(src)?;
        let mut cond = compile(&q.condition, fields);
        let mut texts = clause_texts(&q.condition);
        if let Some(cat) = q.category {
            texts.insert(
                0,
                render(&Expr::Cmp {
                    field: CATEGORY_FIELD.into(),
                    op: Op::Eq,
                    values: vec![cat.clone()],
                }),
            );
            let field = fields.intern(CATEGORY_FIELD);
            let test = Node::Test {
                field,
                matcher: Matcher::Exact(vec![cat.into_bytes().into_boxed_slice()]),
            };
            cond = match cond {
                Node::And(mut v) => {
                    v.insert(0, test);
                    Node::And(v)
                }
                other => Node::And(vec![test, other]),
            };
        }
        Ok(Program {
            root: cond,
            source: src.to_string(),
            clause_texts: texts,
        })
    }

    /// Compiles a bare condition (an exception), interning its fields in `fields`.
    pub fn compile_condition(src: &str, fields: &mut FieldTable) -> Result<Program, CompileError> {
        let e = parse_condition(src)?;
        Ok(Program {
            root: compile(&e, fields),
            source: src.to_string(),
            clause_texts: clause_texts(&e),
        })
    }

    /// The query text this program was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Each top-level clause (as [`Program::eval_clauses`] splits the condition) as one line of EQL that
    /// compiles to the same clause; `<category> where` is shown as `event.category == "<category>"`.
    pub fn clause_texts(&self) -> &[String] {
        &self.clause_texts
    }

    /// A read-only copy of the compiled condition (for code generators such as [`crate::export`]).
    pub fn cond(&self) -> Cond {
        fn view(n: &Node) -> Cond {
            match n {
                Node::And(v) => Cond::And(v.iter().map(view).collect()),
                Node::Or(v) => Cond::Or(v.iter().map(view).collect()),
                Node::Not(n) => Cond::Not(Box::new(view(n))),
                Node::Test { field, matcher } => Cond::Test {
                    field: *field,
                    test: match matcher {
                        Matcher::Exact(v) => Test::Exact(v.iter().map(|b| b.to_vec()).collect()),
                        Matcher::ExactFold(v) => {
                            Test::ExactFold(v.iter().map(|b| b.to_vec()).collect())
                        }
                        Matcher::Wildcard(p) => {
                            Test::Wildcard(p.iter().map(|p| p.text().to_vec()).collect())
                        }
                    },
                },
            }
        }
        view(&self.root)
    }

    /// Evaluates the program on a record.
    pub fn eval<D: Document + ?Sized>(&self, doc: &D) -> bool {
        eval_node(&self.root, doc)
    }

    /// Evaluates each top-level clause (of an `and` at the root) and reports its result, for `explain`.
    pub fn eval_clauses<D: Document + ?Sized>(&self, doc: &D) -> Vec<bool> {
        match &self.root {
            Node::And(v) => v.iter().map(|n| eval_node(n, doc)).collect(),
            n => vec![eval_node(n, doc)],
        }
    }

    /// Literals every match must contain: for each top-level `and` clause that is an exact `==`/`in`/`:` test
    /// (no wildcards) on one of `fields`, the clause's values (one of which the field's value must equal),
    /// compared ASCII case-insensitively. The most selective set (longest shortest value) comes first.
    pub fn required_literals(&self, fields: &[usize]) -> Vec<Vec<&[u8]>> {
        let clauses: Vec<&Node> = match &self.root {
            Node::And(v) => v.iter().collect(),
            n => vec![n],
        };
        let mut sets: Vec<Vec<&[u8]>> = clauses
            .into_iter()
            .filter_map(|n| match n {
                Node::Test {
                    field,
                    matcher: Matcher::Exact(v) | Matcher::ExactFold(v),
                } if fields.contains(field) && !v.is_empty() => {
                    Some(v.iter().map(|v| &**v).collect())
                }
                _ => None,
            })
            .collect();
        let shortest = |s: &Vec<&[u8]>| s.iter().map(|v| v.len()).min().unwrap_or(0);
        sets.sort_by_key(|s| std::cmp::Reverse(shortest(s)));
        sets
    }

    /// The fields every top-level clause reads, as a list of field indexes per clause (for `explain`).
    pub fn clause_fields(&self) -> Vec<Vec<usize>> {
        fn walk(n: &Node, out: &mut Vec<usize>) {
            match n {
                Node::And(v) | Node::Or(v) => v.iter().for_each(|n| walk(n, out)),
                Node::Not(n) => walk(n, out),
                Node::Test { field, .. } => {
                    if !out.contains(field) {
                        out.push(*field)
                    }
                }
            }
        }
        let roots: Vec<&Node> = match &self.root {
            Node::And(v) => v.iter().collect(),
            n => vec![n],
        };
        roots
            .into_iter()
            .map(|n| {
                let mut v = Vec::new();
                walk(n, &mut v);
                v
            })
            .collect()
    }
}

fn compile(e: &Expr, fields: &mut FieldTable) -> Node {
    match e {
        Expr::And(v) => Node::And(v.iter().map(|e| compile(e, fields)).collect()),
        Expr::Or(v) => Node::Or(v.iter().map(|e| compile(e, fields)).collect()),
        Expr::Not(e) => Node::Not(Box::new(compile(e, fields))),
        Expr::Cmp { field, op, values } => {
            let field = fields.intern(field);
            let bytes = |s: &String| s.as_bytes().to_vec().into_boxed_slice();
            let matcher = match op {
                Op::Eq => Matcher::Exact(values.iter().map(bytes).collect()),
                Op::EqFold => Matcher::ExactFold(
                    values
                        .iter()
                        .map(|s| s.to_ascii_lowercase())
                        .map(|s| bytes(&s))
                        .collect(),
                ),
                Op::Like => {
                    if values.iter().any(|v| v.contains(['*', '?'])) {
                        Matcher::Wildcard(values.iter().map(|v| Pattern::new(v)).collect())
                    } else {
                        Matcher::ExactFold(
                            values
                                .iter()
                                .map(|s| s.to_ascii_lowercase())
                                .map(|s| bytes(&s))
                                .collect(),
                        )
                    }
                }
            };
            Node::Test { field, matcher }
        }
    }
}

fn eval_node<D: Document + ?Sized>(n: &Node, doc: &D) -> bool {
    match n {
        Node::And(v) => v.iter().all(|n| eval_node(n, doc)),
        Node::Or(v) => v.iter().any(|n| eval_node(n, doc)),
        Node::Not(n) => !eval_node(n, doc),
        Node::Test { field, matcher } => doc.any_str(*field, &mut |v| matcher.matches(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_line_and_column() {
        let mut f = FieldTable::default();
        let e =
            Program::compile_query("process where\n  process.name like \"x\"", &mut f).unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (2, 16), "{e}");
        let e = Program::compile_query("process where process.pid == 4", &mut f).unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (1, 30), "{e}");
        assert!(e.message.contains("only string values"), "{e}");
        let e = Program::compile_query("process where wildcard(process.name, \"a\")", &mut f)
            .unwrap_err();
        assert!(e.message.contains("function call"), "{e}");
        let e = Program::compile_query("process where a == \"\\x\"", &mut f).unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (1, 21), "the backslash: {e}");
        let e = Program::compile_query("process where /* /* */ a == \"b\"", &mut f).unwrap_err();
        assert!(e.message.contains("unterminated comment"), "{e}");
        let e =
            Program::compile_query("sequence by host.id [process where true]", &mut f).unwrap_err();
        assert!(
            e.message.contains("`sequence`") || e.message.contains("not supported"),
            "{e}"
        );
        assert!(Program::compile_query("process where a == 'b'", &mut f).is_err());
        assert!(Program::compile_query("process where a == ?\"b\"", &mut f).is_err());
        assert!(Program::compile_query("process where a == \"\"\"b\nc\"\"\"", &mut f).is_err());
        assert!(Program::compile_query("process where a == \"b\" and", &mut f).is_err());
        assert!(Program::compile_query("process where (a == \"b\"", &mut f).is_err());
        assert!(Program::compile_query("process where a == \"b\" AND c == \"d\"", &mut f).is_err());
        assert!(Program::compile_query("process where a : (\"b\",)", &mut f).is_err());
        assert!(Program::compile_query("process where a == \"\\u{d800}\"", &mut f).is_err());
        assert!(Program::compile_query("process where a == \"\\u{1}\"", &mut f).is_err());
    }

    /// `render` writes the shape the tree holds in its shortest form: `!=` for a negated single `==`, `not in`
    /// for a negated list, parentheses only for a nested `and` / `or`.
    #[test]
    fn rendered_text_is_the_shortest_form() {
        for (c, want) in [
            (r#"not a == "b""#, r#"a != "b""#),
            (r#"a not in ("b")"#, r#"a != "b""#),
            (r#"not a in ("b", "c")"#, r#"a not in ("b", "c")"#),
            (r#"not a in~ ("b")"#, r#"a not in~ ("b")"#),
            // Control characters as `\u{XX}`, every other character as it is.
            ("a == \"x\u{1}y\u{7f}\"", r#"a == "x\u{01}y\u{7F}""#),
            (r#"a == "é ſ\u{e9}""#, r#"a == "é ſé""#),
            // Field names bare where they read back bare, backticks only where needed.
            (r#"a.b_c == "d""#, r#"a.b_c == "d""#),
            (r#"`in` == "b""#, r#"`in` == "b""#),
            (r#"in.b == "c""#, r#"in.b == "c""#),
            (r#"x.`1` == "e""#, r#"x.`1` == "e""#),
            (r#"_x.y_z.@q == "c""#, r#"_x.y_z.@q == "c""#),
            (r#"`a b`.c == "d""#, r#"`a b`.c == "d""#),
            (
                r#"not (a == "b" or c == "d")"#,
                r#"not (a == "b" or c == "d")"#,
            ),
        ] {
            assert_eq!(render(&parse_condition(c).unwrap()), want, "{c}");
        }
    }

    /// `render` writes EQL that parses back to the same tree: every condition here (each operator, `!=` and
    /// `not in`, nesting that needs parentheses, escapes, field names that need backticks) and every rule file
    /// of the repository, clause by clause.
    #[test]
    fn rendered_clauses_parse_back_to_the_same_tree() {
        let conditions = [
            r#"a == "b""#,
            r#"a != "b""#,
            r#"a in ("b", "c")"#,
            r#"a not in ("b")"#,
            r#"a not in ("b", "c")"#,
            r#"a in~ ("B")"#,
            r#"a not in~ ("b", "C")"#,
            r#"a : "b*""#,
            r#"a : ("b?", "c")"#,
            r#"not a : "b""#,
            r#"not not a == "b""#,
            r#"not (a == "b" or c == "d")"#,
            r#"not (a == "b" and c == "d")"#,
            r#"(a == "b" and c == "d") and e == "f""#,
            r#"a == "b" or c == "d" and e == "f""#,
            r#"(a == "b" or c == "d") and e == "f""#,
            r#"(a == "b" or c == "d") or e == "f""#,
            r#"a == "q\"uo\\te\n\t\r\b\f\u{e9}""#,
            r#"a == """raw \ "" string""""#,
            // Control characters, escaped and written raw (the renderer must write at least two hex digits).
            r#"a == "\u{00}\u{01}\u{1F}\u{7F}\u{85}""#,
            "a == \"x\u{1}y\u{0}\"",
            r#"`in` == "b" and `a b`.c == "d" and x.`1` == "e" and `we``ird` == "f" and ?a.b == "g""#,
            "@timestamp == \"b\" and _x.y_z.@q == \"c\" and `like` == \"d\"",
        ];
        let mut checked = 0;
        for c in conditions {
            let e = parse_condition(c).unwrap_or_else(|err| panic!("{c}: {err}"));
            let text = render(&e);
            let back = parse_condition(&text).unwrap_or_else(|err| panic!("{c} -> {text}: {err}"));
            assert_eq!(back, e, "{c} -> {text}");
            checked += 1;
        }
        let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        for entry in std::fs::read_dir(rules).unwrap() {
            let path = entry.unwrap().path();
            let Ok(all) = crate::rule::load_all(path.to_str().unwrap()) else {
                continue;
            };
            for r in all {
                let q = parse_query(&r.query).unwrap();
                let mut fields = FieldTable::default();
                let p = Program::compile_query(&r.query, &mut fields).unwrap();
                let items = match &q.condition {
                    Expr::And(v) => v.clone(),
                    e => vec![e.clone()],
                };
                assert_eq!(p.clause_texts().len(), items.len() + 1);
                for (text, e) in p.clause_texts()[1..].iter().zip(&items) {
                    assert_eq!(&parse_condition(text).unwrap(), e, "{text}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 25, "{checked}");
    }
}
