//! How a segmented copy cuts its file into blocks, and what of them is done: plain arithmetic
//! on offsets, no I/O (`segments` moves the blocks).

use super::model::Segment;

/// Block boundaries fall on multiples of this.
const ALIGN: u64 = 1 << 20;
/// The most blocks a file is cut into (their progress is saved with the record).
const MOST_BLOCKS: u64 = 256;
/// The smallest block: each costs its channel an open and a close.
const SMALLEST_BLOCK: u64 = 8 << 20;

/// The bytes from `from` to `size` cut into blocks on `ALIGN` boundaries, after one block
/// `0..from` that is already done (a prefix written by an earlier single stream). The first
/// block of each of the `sessions` is shorter by a different amount: a session pauses between
/// blocks (the last writes answered, the next block opened), and sessions that all started
/// together would otherwise pause together and leave the link idle. Towards the end the blocks
/// shrink (each a share of what is left, down to an eighth of a block), so that the sessions
/// finish close together instead of waiting on one that took a whole block last.
pub(super) fn split(from: u64, size: u64, sessions: u64) -> Vec<Segment> {
    let block = ((size - from) / MOST_BLOCKS)
        .max(SMALLEST_BLOCK)
        .div_ceil(ALIGN)
        * ALIGN;
    let sessions = sessions.max(1);
    let first = (1..=sessions).map(|k| (block * k / sessions).div_ceil(ALIGN) * ALIGN);
    let lengths = first.chain(std::iter::repeat(block));
    let mut segments: Vec<Segment> = Vec::new();
    if from > 0 {
        segments.push(Segment {
            start: 0,
            done: from,
            end: from,
        });
    }
    let shortest = (block / 8).max(ALIGN);
    let mut start = from;
    for length in lengths {
        if start >= size {
            break;
        }
        let share = ((size - start) / (2 * sessions)).div_ceil(ALIGN) * ALIGN;
        let end = (start + length.min(share.max(shortest))).min(size);
        segments.push(Segment {
            start,
            done: 0,
            end,
        });
        start = end;
    }
    segments
}

/// How far from the start the file is complete: the blocks done in a row, and the confirmed
/// start of the first one that is not.
pub(super) fn contiguous(segments: &[Segment]) -> u64 {
    let mut len = 0;
    for segment in segments {
        len = segment.start + segment.done;
        if segment.done < segment.end - segment.start {
            break;
        }
    }
    len
}

/// Whether `segments` describe a file of `size` bytes, in order and without gaps.
pub(super) fn cover(segments: &[Segment], size: u64) -> bool {
    let mut next = 0;
    for segment in segments {
        if segment.start != next || segment.done > segment.end - segment.start {
            return false;
        }
        next = segment.end;
    }
    !segments.is_empty() && next == size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_file_on_aligned_boundaries() {
        let size = 100 * ALIGN + 5;
        let blocks = split(0, size, 1);
        assert!(cover(&blocks, size), "{blocks:?}");
        assert!(blocks.iter().all(|b| b.start % ALIGN == 0));
        let huge = 1 << 40;
        let blocks = split(0, huge, 8);
        assert!(cover(&blocks, huge));
        assert!(blocks.len() as u64 <= MOST_BLOCKS + 64, "{}", blocks.len());
    }

    #[test]
    fn the_last_blocks_are_shorter_so_the_sessions_finish_together() {
        let size = 256 * ALIGN;
        let blocks = split(0, size, 8);
        assert!(cover(&blocks, size), "{blocks:?}");
        let lengths: Vec<u64> = blocks.iter().map(|b| b.end - b.start).collect();
        assert_eq!(
            lengths[8..12],
            [8 * ALIGN; 4],
            "whole blocks while much is left"
        );
        assert!(
            lengths.windows(2).skip(8).all(|w| w[1] <= w[0]),
            "{lengths:?}"
        );
        assert_eq!(
            lengths[lengths.len() - 16..],
            [ALIGN; 16],
            "an eighth at the end"
        );
        assert!(blocks.len() <= 64, "{}", blocks.len());
    }

    #[test]
    fn each_channel_s_first_block_ends_at_another_time() {
        let size = 256 * ALIGN;
        let blocks = split(0, size, 4);
        assert!(cover(&blocks, size), "{blocks:?}");
        let lengths: Vec<u64> = blocks.iter().map(|b| b.end - b.start).collect();
        assert_eq!(
            lengths[..5],
            [2 * ALIGN, 4 * ALIGN, 6 * ALIGN, 8 * ALIGN, 8 * ALIGN]
        );
    }

    #[test]
    fn blocks_continue_after_a_prefix_one_stream_wrote() {
        let size = 100 * ALIGN;
        let blocks = split(37 * ALIGN + 9, size, 4);
        assert!(cover(&blocks, size), "{blocks:?}");
        assert_eq!(blocks[0].done, 37 * ALIGN + 9, "the prefix is done");
        assert!(blocks[1..].iter().all(|b| b.done == 0));
        assert_eq!(contiguous(&blocks), 37 * ALIGN + 9);
    }

    #[test]
    fn the_complete_prefix_stops_at_the_first_unfinished_block() {
        let size = 64 * ALIGN;
        let mut blocks = split(0, size, 1);
        assert_eq!(contiguous(&blocks), 0);
        blocks[0].done = 3;
        blocks[2].done = SMALLEST_BLOCK;
        assert_eq!(contiguous(&blocks), 3, "block 1 has nothing yet");
        blocks[0].done = SMALLEST_BLOCK;
        blocks[1].done = 5;
        assert_eq!(contiguous(&blocks), SMALLEST_BLOCK + 5);
        for block in &mut blocks {
            block.done = block.end - block.start;
        }
        assert_eq!(contiguous(&blocks), size);
    }

    #[test]
    fn saved_blocks_count_only_when_they_fit_the_file() {
        let mut blocks = split(0, 64 * ALIGN, 1);
        blocks[1].done = 3;
        assert!(cover(&blocks, 64 * ALIGN));
        assert!(!cover(&blocks, 65 * ALIGN), "another size");
        blocks[2].done = 64 * ALIGN;
        assert!(!cover(&blocks, 64 * ALIGN), "done past the end");
        assert!(!cover(&[], 0));
    }
}
