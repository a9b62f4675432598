//! Search-after for tantivy: the hits beyond a [`HitKey`] in the ranking (best score first,
//! then client id), collected in one pass with a heap of the window's size, so a deep cursor
//! costs no more memory than the first page.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use clientele_records::search::HitKey;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// A hit's place in the ranking: smaller is better.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rank {
    pub score: Score,
    pub client: u128,
}

impl Eq for Rank {}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        other.score.total_cmp(&self.score).then(self.client.cmp(&other.client))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Rank {
    pub fn of(key: &HitKey) -> Self {
        Self { score: key.score, client: key.client.0.as_u128() }
    }
}

/// The `limit` hits nearest beyond `after` (all of them from the start without one), read
/// forward or backward; fast fields `hi`/`lo` hold the halves of each document's client id.
pub struct KeysetCollector {
    pub after: Option<Rank>,
    pub backward: bool,
    pub limit: usize,
    pub hi: &'static str,
    pub lo: &'static str,
}

/// The kept hits, nearest first in the direction read.
type Kept = Vec<(Rank, DocAddress)>;

pub struct KeysetSegment {
    after: Option<Rank>,
    backward: bool,
    limit: usize,
    segment: SegmentOrdinal,
    hi: Column<u64>,
    lo: Column<u64>,
    // Forward keeps the best `limit` (a max-heap evicts the worst); backward the worst.
    forward: BinaryHeap<(Rank, DocAddress)>,
    back: BinaryHeap<Reverse<(Rank, DocAddress)>>,
}

impl Collector for KeysetCollector {
    type Fruit = Kept;
    type Child = KeysetSegment;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<KeysetSegment> {
        Ok(KeysetSegment {
            after: self.after,
            backward: self.backward,
            limit: self.limit,
            segment,
            hi: reader.fast_fields().u64(self.hi)?,
            lo: reader.fast_fields().u64(self.lo)?,
            forward: BinaryHeap::new(),
            back: BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Kept>) -> tantivy::Result<Kept> {
        let mut all: Kept = fruits.into_iter().flatten().collect();
        all.sort_by(|a, b| if self.backward { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) });
        all.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentCollector for KeysetSegment {
    type Fruit = Kept;

    fn collect(&mut self, doc: DocId, score: Score) {
        let (Some(hi), Some(lo)) = (self.hi.first(doc), self.lo.first(doc)) else { return };
        let rank = Rank { score, client: (u128::from(hi) << 64) | u128::from(lo) };
        let beyond = self.after.is_none_or(|after| if self.backward { rank < after } else { rank > after });
        if !beyond || self.limit == 0 {
            return;
        }
        let hit = (rank, DocAddress::new(self.segment, doc));
        if self.backward {
            self.back.push(Reverse(hit));
            if self.back.len() > self.limit {
                self.back.pop();
            }
        } else {
            self.forward.push(hit);
            if self.forward.len() > self.limit {
                self.forward.pop();
            }
        }
    }

    fn harvest(self) -> Kept {
        let mut kept: Kept = self.forward.into_iter().chain(self.back.into_iter().map(|Reverse(hit)| hit)).collect();
        kept.sort_by(|a, b| if self.backward { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) });
        kept
    }
}
