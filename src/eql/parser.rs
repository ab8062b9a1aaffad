//! Recursive-descent parser for the EQL subset: `<category> where <condition>`, with `or` < `and` <
//! `not` precedence, parentheses, and comparisons `==`, `!=`, `:`, `in`, `in~`, `not in`. Nesting of parentheses
//! and `not` is capped at [`MAX_DEPTH`], so no query text (rule files are user input) can exhaust the stack.

use super::lexer::{Lexer, Tok, Token};
use super::{CompileError, Pos};

/// Comparison operators of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==` (and `in`): case-sensitive exact, no wildcards.
    Eq,
    /// `in~`: ASCII case-insensitive exact, no wildcards.
    EqFold,
    /// `:`: ASCII case-insensitive with `*` / `?` wildcards.
    Like,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `field op value(s)`: true when any value of the field matches any of the values.
    Cmp {
        field: String,
        op: Op,
        values: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `None` for `any where`.
    pub category: Option<String>,
    pub condition: Expr,
}

struct Parser {
    toks: Vec<Token>,
    k: usize,
    /// Open parentheses and `not`s around the current position.
    depth: u32,
}

/// The deepest nesting of parentheses and `not` accepted: far beyond any real rule, and shallow enough that
/// parsing, compiling and evaluating (all recursive) never exhaust a thread's stack, whatever a rule file holds.
pub const MAX_DEPTH: u32 = 100;

/// Parses a full query: `<category> where <condition>`.
pub fn parse_query(src: &str) -> Result<Query, CompileError> {
    let mut p = Parser {
        toks: Lexer::new(src).tokens()?,
        k: 0,
        depth: 0,
    };
    let t = p.next();
    let category = match t.tok {
        Tok::Field(name) if !name.contains('.') => name,
        Tok::Str(s) => s,
        _ => {
            return p.unexpected(
                t.pos,
                &t.tok,
                "an event category (e.g. `process`) followed by `where`",
            )
        }
    };
    let t = p.next();
    if t.tok != Tok::Keyword("where") {
        return p.unexpected(t.pos, &t.tok, "`where` after the event category");
    }
    let condition = p.expr()?;
    p.expect_eof()?;
    Ok(Query {
        category: if category == "any" {
            None
        } else {
            Some(category)
        },
        condition,
    })
}

/// Parses a bare condition (as used for exceptions): `<condition>` without a category.
pub fn parse_condition(src: &str) -> Result<Expr, CompileError> {
    let mut p = Parser {
        toks: Lexer::new(src).tokens()?,
        k: 0,
        depth: 0,
    };
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Field(f) => format!("`{f}`"),
        Tok::Keyword(k) => format!("`{k}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Number(n) => format!("number `{n}`"),
        Tok::EqEq => "`==`".into(),
        Tok::NotEq => "`!=`".into(),
        Tok::Colon => "`:`".into(),
        Tok::InFold => "`in~`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Question => "`?`".into(),
        Tok::Unsupported(s) => format!("`{s}`"),
        Tok::Eof => "end of query".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.k].tok
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.k].clone();
        if self.k + 1 < self.toks.len() {
            self.k += 1;
        }
        t
    }

    fn unexpected<T>(&self, pos: Pos, t: &Tok, wanted: &str) -> Result<T, CompileError> {
        let message = match t {
            Tok::Unsupported(_) => {
                format!("{} is not supported by svcshell's EQL subset", describe(t))
            }
            Tok::Number(_) => format!(
                "{} is not supported: only string values can be compared",
                describe(t)
            ),
            _ => format!("unexpected {}, expected {wanted}", describe(t)),
        };
        Err(CompileError { pos, message })
    }

    fn expect_eof(&mut self) -> Result<(), CompileError> {
        let t = self.next();
        if t.tok != Tok::Eof {
            return self.unexpected(t.pos, &t.tok, "`and`, `or` or the end of the query");
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, CompileError> {
        let mut items = vec![self.and()?];
        while *self.peek() == Tok::Keyword("or") {
            self.next();
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, CompileError> {
        let mut items = vec![self.unary()?];
        while *self.peek() == Tok::Keyword("and") {
            self.next();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::And(items)
        })
    }

    /// Enters one more level of nesting at `pos`, refusing to go past [`MAX_DEPTH`].
    fn deeper(&mut self, pos: Pos) -> Result<(), CompileError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CompileError {
                pos,
                message: format!("nested deeper than {MAX_DEPTH} levels of `(` and `not`"),
            });
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, CompileError> {
        if *self.peek() == Tok::Keyword("not") {
            let t = self.next();
            self.deeper(t.pos)?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, CompileError> {
        let t = self.next();
        match t.tok {
            Tok::LParen => {
                self.deeper(t.pos)?;
                let e = self.expr()?;
                let c = self.next();
                if c.tok != Tok::RParen {
                    return self.unexpected(c.pos, &c.tok, "`)`");
                }
                self.depth -= 1;
                Ok(e)
            }
            Tok::Question => {
                let f = self.next();
                match f.tok {
                    Tok::Field(name) => self.comparison(name),
                    _ => self.unexpected(f.pos, &f.tok, "a field name after `?`"),
                }
            }
            Tok::Field(name) => {
                if *self.peek() == Tok::LParen {
                    let p = self.toks[self.k].pos;
                    return Err(CompileError {
                        pos: p,
                        message: format!(
                            "function call `{name}(...)` is not supported by svcshell's EQL subset"
                        ),
                    });
                }
                self.comparison(name)
            }
            other => self.unexpected(t.pos, &other, "a field comparison, `not` or `(`"),
        }
    }

    fn comparison(&mut self, field: String) -> Result<Expr, CompileError> {
        let t = self.next();
        match t.tok {
            Tok::EqEq => Ok(Expr::Cmp {
                field,
                op: Op::Eq,
                values: vec![self.string()?],
            }),
            Tok::NotEq => Ok(Expr::Not(Box::new(Expr::Cmp {
                field,
                op: Op::Eq,
                values: vec![self.string()?],
            }))),
            Tok::Colon => {
                let values = if *self.peek() == Tok::LParen {
                    self.list()?
                } else {
                    vec![self.string()?]
                };
                Ok(Expr::Cmp {
                    field,
                    op: Op::Like,
                    values,
                })
            }
            Tok::Keyword("in") => Ok(Expr::Cmp {
                field,
                op: Op::Eq,
                values: self.list()?,
            }),
            Tok::InFold => Ok(Expr::Cmp {
                field,
                op: Op::EqFold,
                values: self.list()?,
            }),
            Tok::Keyword("not") => {
                let t2 = self.next();
                let op = match t2.tok {
                    Tok::Keyword("in") => Op::Eq,
                    Tok::InFold => Op::EqFold,
                    other => return self.unexpected(t2.pos, &other, "`in` or `in~` after `not`"),
                };
                Ok(Expr::Not(Box::new(Expr::Cmp {
                    field,
                    op,
                    values: self.list()?,
                })))
            }
            other => self.unexpected(
                t.pos,
                &other,
                "a comparison operator (`==`, `!=`, `:`, `in`, `in~`)",
            ),
        }
    }

    fn string(&mut self) -> Result<String, CompileError> {
        let t = self.next();
        match t.tok {
            Tok::Str(s) => Ok(s),
            other => self.unexpected(t.pos, &other, "a string literal"),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, CompileError> {
        let t = self.next();
        if t.tok != Tok::LParen {
            return self.unexpected(t.pos, &t.tok, "`(` starting a list of strings");
        }
        let mut v = vec![self.string()?];
        loop {
            let t = self.next();
            match t.tok {
                Tok::Comma => v.push(self.string()?),
                Tok::RParen => return Ok(v),
                other => return self.unexpected(t.pos, &other, "`,` or `)` in a list of strings"),
            }
        }
    }
}

/// Writes a condition back as EQL text that parses to the same [`Expr`] (`explain` shows clauses this way): one
/// line, `!=` / `not in` / `not in~` where the tree holds their shape, parentheses only where the tree needs
/// them, field names in backticks where a bare name would not read back.
pub fn render(e: &Expr) -> String {
    let mut s = String::new();
    write_expr(e, &mut s);
    s
}

fn write_expr(e: &Expr, s: &mut String) {
    // An `and` or `or` inside another (written in parentheses in the source) keeps its parentheses.
    let item = |e: &Expr, s: &mut String| match e {
        Expr::And(_) | Expr::Or(_) => {
            s.push('(');
            write_expr(e, s);
            s.push(')');
        }
        _ => write_expr(e, s),
    };
    match e {
        Expr::And(v) | Expr::Or(v) => {
            let sep = if matches!(e, Expr::And(_)) {
                " and "
            } else {
                " or "
            };
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                item(x, s);
            }
        }
        Expr::Not(inner) => match &**inner {
            Expr::Cmp {
                field,
                op: Op::Eq,
                values,
            } if values.len() == 1 => {
                write_field(field, s);
                s.push_str(" != ");
                write_str(&values[0], s);
            }
            Expr::Cmp {
                field,
                op: op @ (Op::Eq | Op::EqFold),
                values,
            } => {
                write_field(field, s);
                s.push_str(if *op == Op::Eq {
                    " not in "
                } else {
                    " not in~ "
                });
                write_list(values, s);
            }
            other => {
                s.push_str("not ");
                item(other, s);
            }
        },
        Expr::Cmp { field, op, values } => {
            write_field(field, s);
            match (op, values.len()) {
                (Op::Eq, 1) => {
                    s.push_str(" == ");
                    write_str(&values[0], s);
                }
                (Op::Eq, _) => {
                    s.push_str(" in ");
                    write_list(values, s);
                }
                (Op::EqFold, _) => {
                    s.push_str(" in~ ");
                    write_list(values, s);
                }
                (Op::Like, 1) => {
                    s.push_str(" : ");
                    write_str(&values[0], s);
                }
                (Op::Like, _) => {
                    s.push_str(" : ");
                    write_list(values, s);
                }
            }
        }
    }
}

fn write_list(values: &[String], s: &mut String) {
    s.push('(');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        write_str(v, s);
    }
    s.push(')');
}

/// A field name: bare when the lexer reads it back as the same field, otherwise each segment that needs it in
/// backticks (a backtick inside doubled).
fn write_field(name: &str, s: &mut String) {
    let reserved = name.split('.').count() == 1
        && [
            "and", "or", "not", "in", "where", "like", "regex", "sequence", "sample", "join",
            "until", "by",
        ]
        .contains(&name);
    for (i, seg) in name.split('.').enumerate() {
        if i > 0 {
            s.push('.');
        }
        let bare = seg
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b'@')
            && seg
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'@');
        if bare && !reserved {
            s.push_str(seg);
        } else {
            s.push('`');
            s.push_str(&seg.replace('`', "``"));
            s.push('`');
        }
    }
}

/// A string literal with the escapes EQL reads.
fn write_str(v: &str, s: &mut String) {
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            c if c.is_control() => s.push_str(&format!("\\u{{{:02X}}}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
}
