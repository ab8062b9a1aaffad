//! The msgpack face of the filter: a whole Fluent Bit chunk in, `NoTouch` or one new chunk out. Records are
//! read in place ([`crate::record::msgpack`]) with the same field set, source profiles, rule, exceptions, cap
//! (keyed on each record's EventTime) and alert fields as JSON records. A chunk with nothing to change costs
//! no allocation and no copy; otherwise unchanged records are copied byte for byte, matches get the alert
//! fields added to their body map, and in `alerts_only` mode the rest are left out. Group markers and
//! records that cannot be read stay in place untouched (bad records are counted as errors). In `tag` mode with
//! the prefilter on, records after the chunk's last occurrence of its first literal are passed on unread
//! (counted by their record marks): none of them can match.

use super::{with_scratch, Action, Filter, Scratch, Verdict};
use crate::alert;
use crate::config::Mode;
use crate::record::{msgpack, RecordError};

/// What to do with a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkResult {
    /// Keep the chunk as it is.
    NoTouch,
    /// Replace the chunk with these bytes (possibly empty: every record dropped).
    Modified(Vec<u8>),
}

enum Fate {
    Keep,
    Drop,
    Replace(Vec<u8>),
}

impl Filter {
    /// Reads one msgpack body map far enough to decide it (see `decide` for JSON), once the prefilter has let
    /// the record through; on a match `s.alert_hits` holds the body's alert-field scan.
    fn decide_msgpack(&self, body: &[u8], s: &mut Scratch) -> Result<Verdict, RecordError> {
        msgpack::scan(body, &self.set, &mut s.hits)?;
        let verdict = self.verdict_on(body, s);
        if verdict != Verdict::NoMatch {
            msgpack::scan(body, &self.spec.fields, &mut s.alert_hits)?;
        }
        Ok(verdict)
    }

    fn fate(&self, action: Action) -> Fate {
        match action {
            Action::Pass => Fate::Keep,
            Action::Drop => Fate::Drop,
            Action::Alert(b) => Fate::Replace(b),
        }
    }

    /// Processes one Fluent Bit chunk (msgpack records back to back).
    ///
    /// In `tag` mode with `validate=matches` (the defaults), records are read only as far as the chunk's last
    /// occurrence of the prefilter's first literal: no record after it can match, and in `tag` mode an
    /// unmatched record is passed on unchanged, so the rest of the chunk is passed on unread, its records
    /// counted by their record marks (see [`msgpack::count_marks`]).
    pub fn process_chunk(&self, chunk: &[u8]) -> ChunkResult {
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0usize;
        // Counted once per chunk: one pair of atomic adds instead of one per record.
        let (mut records, mut bytes) = (0u64, 0u64);
        let unread_tail = self.config.mode == Mode::Tag;
        // The next place the prefilter's first literal occurs at or after the current record (usize::MAX: none
        // left): one search over the chunk serves every record up to it. msgpack strings hold raw text (no
        // escapes), so the literal search alone is exact.
        let mut hit: Option<usize> = None;
        let mut next_hit = |from: usize| -> usize {
            let Some(p) = &self.prefilter else {
                return from;
            };
            match hit {
                Some(h) if h >= from => h,
                _ => {
                    let h = p.find_first(chunk, from).unwrap_or(usize::MAX);
                    hit = Some(h);
                    h
                }
            }
        };
        with_scratch(|s| {
            let mut i = 0usize;
            while i < chunk.len() {
                let h = next_hit(i);
                if h == usize::MAX && unread_tail {
                    if let Some(n) = msgpack::count_marks(&chunk[i..]) {
                        records += n;
                        bytes += (chunk.len() - i) as u64;
                        break;
                    }
                }
                let at = i;
                let r = msgpack::record_at(chunk, i);
                i = match &r {
                    Ok(rec) => rec.end,
                    Err((_, Some(next))) => *next,
                    Err((_, None)) => chunk.len(),
                };
                let (end, fate) = match r {
                    Err((_, next)) => {
                        let end = next.unwrap_or(chunk.len());
                        records += 1;
                        bytes += (end - at) as u64;
                        self.count_unreadable();
                        (end, Fate::Keep)
                    }
                    Ok(rec) if rec.time.is_group_marker() => (rec.end, Fate::Keep),
                    Ok(rec) => {
                        records += 1;
                        bytes += (rec.end - rec.start) as u64;
                        let body = &chunk[rec.body..rec.end];
                        let candidate = h < rec.end
                            && self
                                .prefilter
                                .as_ref()
                                .is_none_or(|p| p.contains_rest(&chunk[rec.start..rec.end]));
                        let decided = if candidate {
                            self.decide_msgpack(body, s)
                        } else {
                            Ok(Verdict::NoMatch)
                        };
                        let fate = match decided {
                            Err(e) => self.fate(self.count_error(e).action),
                            Ok(Verdict::NoMatch) => self.fate(self.pass().action),
                            Ok(matched) => {
                                match self.record_match(matched, Some(rec.time.seconds())) {
                                    Some(action) => self.fate(action),
                                    None => {
                                        let edits = self.spec.plan(&s.alert_hits.hits, 0);
                                        let mut b = Vec::with_capacity(rec.end - rec.start + 1536);
                                        b.extend_from_slice(&chunk[rec.start..rec.body]);
                                        alert::splice_msgpack(&self.spec, body, edits, &mut b);
                                        Fate::Replace(b)
                                    }
                                }
                            }
                        };
                        (rec.end, fate)
                    }
                };
                match fate {
                    Fate::Keep => {}
                    Fate::Drop | Fate::Replace(_) => {
                        let o = out.get_or_insert_with(|| Vec::with_capacity(chunk.len() + 4096));
                        o.extend_from_slice(&chunk[copied..at]);
                        if let Fate::Replace(b) = fate {
                            o.extend_from_slice(&b);
                        }
                        copied = end;
                    }
                }
            }
        });
        self.count_records(records, bytes);
        match out {
            None => ChunkResult::NoTouch,
            Some(mut o) => {
                o.extend_from_slice(&chunk[copied..]);
                ChunkResult::Modified(o)
            }
        }
    }
}
