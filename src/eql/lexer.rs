//! Tokens of the EQL subset: identifiers and dotted field names, string literals (escaped and raw),
//! operators and punctuation. Comments (`//` and nesting `/* */`) and whitespace are skipped here.

use super::{CompileError, Pos};
use crate::record::{path_problem, PathProblem, MAX_PATH};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A field name: dotted identifier segments, backticked segments already unquoted.
    Field(String),
    /// A bare word that is a keyword (`and`, `or`, `not`, `in`, `where`), kept as text.
    Keyword(&'static str),
    Str(String),
    /// A number literal: not comparable in this subset, kept for a precise error.
    Number(String),
    EqEq,
    NotEq,
    Colon,
    /// `in~`
    InFold,
    LParen,
    RParen,
    Comma,
    Question,
    /// Any other operator EQL knows but this subset does not (`<`, `>=`, `like`, `regex`, `|`, ...).
    Unsupported(String),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

const KEYWORDS: [&str; 5] = ["and", "or", "not", "in", "where"];
const UNSUPPORTED_WORDS: [&str; 9] = [
    "like", "like~", "regex", "regex~", "sequence", "sample", "join", "until", "by",
];

pub struct Lexer<'a> {
    src: &'a [u8],
    i: usize,
    line: u32,
    line_start: usize,
    /// The last position computed (byte offset, characters from its line's start): columns are counted on
    /// from there, so a long line costs linear time, not quadratic.
    last: std::cell::Cell<(usize, usize)>,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src: src.as_bytes(),
            i: 0,
            line: 1,
            line_start: 0,
            last: std::cell::Cell::new((0, 0)),
        }
    }

    fn pos(&self) -> Pos {
        // Columns count characters, not bytes.
        let (at, chars) = match self.last.get() {
            (at, chars) if at >= self.line_start && at <= self.i => (at, chars),
            _ => (self.line_start, 0),
        };
        // Characters = bytes that start one (not UTF-8 continuation bytes): additive over any split.
        let col = chars
            + self.src[at..self.i]
                .iter()
                .filter(|&&b| b & 0xC0 != 0x80)
                .count();
        self.last.set((self.i, col));
        Pos {
            line: self.line,
            column: col as u32 + 1,
        }
    }

    fn err<T>(&self, pos: Pos, msg: impl Into<String>) -> Result<T, CompileError> {
        Err(CompileError {
            pos,
            message: msg.into(),
        })
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.src.get(self.i + k).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek(0)?;
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
            self.line_start = self.i;
        }
        Some(c)
    }

    fn skip_trivia(&mut self) -> Result<(), CompileError> {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(b' ' | b'\t' | b'\r' | b'\n'), _) => {
                    self.bump();
                }
                (Some(b'/'), Some(b'/')) => {
                    while let Some(c) = self.peek(0) {
                        if c == b'\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let start = self.pos();
                    self.bump();
                    self.bump();
                    let mut depth = 1u32;
                    while depth > 0 {
                        match (self.peek(0), self.peek(1)) {
                            (None, _) => return self.err(start, "unterminated comment"),
                            (Some(b'/'), Some(b'*')) => {
                                self.bump();
                                self.bump();
                                depth += 1;
                            }
                            (Some(b'*'), Some(b'/')) => {
                                self.bump();
                                self.bump();
                                depth -= 1;
                            }
                            _ => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    pub fn tokens(mut self) -> Result<Vec<Token>, CompileError> {
        let mut out = Vec::new();
        loop {
            self.skip_trivia()?;
            let pos = self.pos();
            let Some(c) = self.peek(0) else {
                out.push(Token { tok: Tok::Eof, pos });
                return Ok(out);
            };
            let tok = match c {
                b'"' => self.string(pos)?,
                b'\'' => {
                    return self.err(pos, "single-quoted strings are not EQL: use double quotes")
                }
                b'(' => self.one(Tok::LParen),
                b')' => self.one(Tok::RParen),
                b',' => self.one(Tok::Comma),
                b':' => self.one(Tok::Colon),
                b'?' => {
                    if self.peek(1) == Some(b'"') {
                        return self.err(
                            pos,
                            "`?\"...\"` strings are not supported: use \"\"\"raw\"\"\" strings",
                        );
                    }
                    self.one(Tok::Question)
                }
                b'=' if self.peek(1) == Some(b'=') => {
                    self.i += 2;
                    Tok::EqEq
                }
                b'!' if self.peek(1) == Some(b'=') => {
                    self.i += 2;
                    Tok::NotEq
                }
                b'0'..=b'9' | b'-' | b'+' => {
                    let s = self.i;
                    self.i += 1;
                    while matches!(self.peek(0), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
                        self.i += 1;
                    }
                    Tok::Number(String::from_utf8_lossy(&self.src[s..self.i]).into_owned())
                }
                b'`' | b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'@' => self.word(pos)?,
                _ => {
                    let s = self.i;
                    while let Some(c) = self.peek(0) {
                        if c.is_ascii_alphanumeric()
                            || c.is_ascii_whitespace()
                            || c == b'"'
                            || c == b'('
                            || c == b')'
                        {
                            break;
                        }
                        self.i += 1;
                        if self.i - s >= 2 {
                            break;
                        }
                    }
                    if self.i == s {
                        self.i += 1;
                    }
                    // Stay on a character boundary for the message.
                    while self.i < self.src.len() && (self.src[self.i] & 0xC0) == 0x80 {
                        self.i += 1;
                    }
                    Tok::Unsupported(String::from_utf8_lossy(&self.src[s..self.i]).into_owned())
                }
            };
            out.push(Token { tok, pos });
        }
    }

    fn one(&mut self, t: Tok) -> Tok {
        self.i += 1;
        t
    }

    fn word(&mut self, pos: Pos) -> Result<Tok, CompileError> {
        let mut name = String::new();
        let mut plain = true;
        loop {
            if self.peek(0) == Some(b'`') {
                plain = false;
                self.i += 1;
                let s = self.i;
                loop {
                    match self.peek(0) {
                        None | Some(b'\n') => {
                            return self.err(pos, "unterminated backticked field name")
                        }
                        Some(b'`') if self.peek(1) == Some(b'`') => {
                            self.i += 2;
                        }
                        Some(b'`') => break,
                        Some(_) => self.i += 1,
                    }
                }
                let seg = std::str::from_utf8(&self.src[s..self.i])
                    .unwrap_or_default()
                    .replace("``", "`");
                if seg.is_empty() {
                    return self.err(pos, "empty backticked field name");
                }
                name.push_str(&seg);
                self.i += 1;
            } else {
                let s = self.i;
                while matches!(self.peek(0), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'@')
                {
                    self.i += 1;
                }
                if s == self.i {
                    return self.err(self.pos(), "expected a field name segment");
                }
                name.push_str(std::str::from_utf8(&self.src[s..self.i]).unwrap_or_default());
            }
            if self.peek(0) == Some(b'.') {
                plain = false;
                self.i += 1;
                name.push('.');
                continue;
            }
            break;
        }
        // Only paths the engine's field table holds (Elasticsearch maps no field name with an empty segment).
        match path_problem(&name) {
            Some(PathProblem::EmptySegment) => {
                return self.err(pos, format!("field name `{name}` has an empty segment"))
            }
            Some(PathProblem::TooLong) => {
                return self.err(pos, format!("field name longer than {MAX_PATH} bytes"))
            }
            None => {}
        }
        if plain {
            if name == "in" && self.peek(0) == Some(b'~') {
                self.i += 1;
                return Ok(Tok::InFold);
            }
            if let Some(k) = KEYWORDS.iter().find(|k| **k == name) {
                return Ok(Tok::Keyword(k));
            }
            let tilde = self.peek(0) == Some(b'~');
            let full = if tilde {
                format!("{name}~")
            } else {
                name.clone()
            };
            if UNSUPPORTED_WORDS.contains(&full.as_str()) {
                if tilde {
                    self.i += 1;
                }
                return Ok(Tok::Unsupported(full));
            }
        }
        Ok(Tok::Field(name))
    }

    fn string(&mut self, pos: Pos) -> Result<Tok, CompileError> {
        if self.src[self.i..].starts_with(b"\"\"\"") {
            self.i += 3;
            let s = self.i;
            loop {
                match self.peek(0) {
                    None => return self.err(pos, "unterminated raw string"),
                    Some(b'\n' | b'\r') => {
                        return self.err(self.pos(), "newline inside a raw string")
                    }
                    Some(b'"') if self.src[self.i..].starts_with(b"\"\"\"") => break,
                    Some(_) => self.i += 1,
                }
            }
            let text = String::from_utf8_lossy(&self.src[s..self.i]).into_owned();
            self.i += 3;
            return Ok(Tok::Str(text));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let here = self.pos();
            match self.peek(0) {
                None => return self.err(pos, "unterminated string"),
                Some(b'\n' | b'\r') => return self.err(here, "newline inside a string"),
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    let e = self.peek(1);
                    self.i += 2;
                    match e {
                        Some(b'b') => out.push(8),
                        Some(b't') => out.push(b'\t'),
                        Some(b'n') => out.push(b'\n'),
                        Some(b'f') => out.push(12),
                        Some(b'r') => out.push(b'\r'),
                        Some(b'"') => out.push(b'"'),
                        Some(b'\'') => out.push(b'\''),
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'u') => {
                            if self.peek(0) != Some(b'{') {
                                return self.err(here, "unicode escapes are written \\u{HEX}");
                            }
                            self.i += 1;
                            let s = self.i;
                            while matches!(self.peek(0), Some(c) if c.is_ascii_hexdigit()) {
                                self.i += 1;
                            }
                            let hex = std::str::from_utf8(&self.src[s..self.i]).unwrap_or_default();
                            if self.peek(0) != Some(b'}') || !(2..=8).contains(&hex.len()) {
                                return self.err(
                                    here,
                                    "unicode escape needs 2 to 8 hex digits in \\u{...}",
                                );
                            }
                            self.i += 1;
                            let cp = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
                            let Some(ch) = char::from_u32(cp) else {
                                return self.err(
                                    here,
                                    format!("\\u{{{hex}}} is not a unicode scalar value"),
                                );
                            };
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        _ => return self.err(here, "invalid escape sequence in string"),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(Tok::Str(String::from_utf8_lossy(&out).into_owned()))
    }
}
