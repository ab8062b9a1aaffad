//! The msgpack face of the filter: a whole Fluent Bit chunk in, `NoTouch` or one new chunk out. Records are
//! read in place ([`crate::record::msgpack`]) with the same field set, source profiles, rule, exceptions, cap
//! (keyed on each record's EventTime) and alert fields as JSON records. A chunk with nothing to change costs
//! no allocation and no copy; otherwise unchanged records are copied byte for byte, matches get the alert
//! fields added to their body map, and in `alerts_only` mode the rest are left out. Group markers and
//! records that cannot be read stay in place untouched (bad records are counted as errors).

use super::{with_scratch, Action, Filter, Scratch};
use crate::alert;
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
    fn decide_msgpack(&self, body: &[u8], s: &mut Scratch) -> Result<Option<bool>, RecordError> {
        msgpack::scan(body, &self.set, &mut s.hits)?;
        let Some(alert) = self.verdict_on(body, s) else {
            return Ok(None);
        };
        msgpack::scan(body, &self.spec.fields, &mut s.alert_hits)?;
        Ok(Some(alert))
    }

    fn fate(&self, action: Action) -> Fate {
        match action {
            Action::Pass => Fate::Keep,
            Action::Drop => Fate::Drop,
            Action::Alert(b) => Fate::Replace(b),
        }
    }

    /// Processes one Fluent Bit chunk (msgpack records back to back).
    pub fn process_chunk(&self, chunk: &[u8]) -> ChunkResult {
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0usize;
        // Counted once per chunk: one pair of atomic adds instead of one per record.
        let (mut records, mut bytes) = (0u64, 0u64);
        // The next place the prefilter's first literal occurs, at or after the current record: one search
        // over the chunk serves every record up to it (msgpack strings hold raw text, no escapes, so the
        // literal search alone is exact).
        let mut hit: Option<usize> = None;
        let mut may_match = |start: usize, end: usize| match &self.prefilter {
            None => true,
            Some(p) => {
                let h = match hit {
                    Some(h) if h >= start => h,
                    _ => {
                        let h = p.find_first(chunk, start).unwrap_or(usize::MAX);
                        hit = Some(h);
                        h
                    }
                };
                h < end && p.contains_rest(&chunk[start..end])
            }
        };
        with_scratch(|s| {
            for (at, r) in msgpack::records(chunk) {
                let (end, fate) = match r {
                    Err((e, next)) => {
                        let end = next.unwrap_or(chunk.len());
                        records += 1;
                        bytes += (end - at) as u64;
                        let _ = self.count_error(e);
                        (end, Fate::Keep)
                    }
                    Ok(rec) if rec.time.is_group_marker() => (rec.end, Fate::Keep),
                    Ok(rec) => {
                        records += 1;
                        bytes += (rec.end - rec.start) as u64;
                        let body = &chunk[rec.body..rec.end];
                        let decided = if may_match(rec.start, rec.end) {
                            self.decide_msgpack(body, s)
                        } else {
                            Ok(None)
                        };
                        let fate = match decided {
                            Err(e) => self.fate(self.count_error(e).action),
                            Ok(None) => self.fate(self.pass().action),
                            Ok(Some(alert)) => {
                                match self.record_match(alert, Some(rec.time.seconds())) {
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
