//! A direct-mapped memo in front of an id map: a key's slot is picked by
//! a multiply-shift of its bits and holds the last key met there. A
//! GROUP BY column of few values hits it on nearly every row, for one
//! multiply and one compare where a hash map probes a table.

/// Slots per memo (a power of two).
const SLOTS: usize = 256;
/// An id no group has: the mark of an empty slot.
const EMPTY: u32 = u32::MAX;

/// A key a memo takes.
pub(super) trait MemoKey: Copy + Eq + Default {
    /// 64 bits that differ where keys usually do.
    fn bits(self) -> u64;
}

impl MemoKey for u128 {
    fn bits(self) -> u64 {
        (self as u64) ^ ((self >> 64) as u64)
    }
}

impl MemoKey for u64 {
    fn bits(self) -> u64 {
        self
    }
}

impl MemoKey for i64 {
    fn bits(self) -> u64 {
        self as u64
    }
}

/// The last id seen for keys of each slot.
#[derive(Debug)]
pub(super) struct Memo<K> {
    slots: Box<[(K, u32)]>,
}

impl<K: MemoKey> Memo<K> {
    /// The bytes a memo holds.
    pub(super) const BYTES: usize = SLOTS * std::mem::size_of::<(K, u32)>();

    /// An empty memo.
    pub(super) fn new() -> Self {
        Self {
            slots: vec![(K::default(), EMPTY); SLOTS].into_boxed_slice(),
        }
    }

    fn slot(key: K) -> usize {
        (key.bits().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// `key`'s id, if the memo holds it.
    #[inline]
    pub(super) fn get(&self, key: K) -> Option<u32> {
        let (held, id) = self.slots[Self::slot(key)];
        (id != EMPTY && held == key).then_some(id)
    }

    /// Remembers `key`'s id, in place of its slot's last key.
    #[inline]
    pub(super) fn put(&mut self, key: K, id: u32) {
        self.slots[Self::slot(key)] = (key, id);
    }

    /// Forgets every key (a view is a key only within its own array).
    pub(super) fn clear(&mut self) {
        self.slots.fill((K::default(), EMPTY));
    }
}
