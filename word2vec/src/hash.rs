use std::hash::{BuildHasherDefault, Hasher};

/// A fast, non-cryptographic string hasher for the vocabulary (multiply-rotate over 8-byte
/// words). Not resistant to crafted collisions, which a word count does not need.
#[derive(Clone, Copy, Default)]
pub(crate) struct WordHasher {
    hash: u64,
}

/// The vocabulary's hash map builder.
pub(crate) type BuildWordHasher = BuildHasherDefault<WordHasher>;

const MULTIPLIER: u64 = 0x517C_C1B7_2722_0A95;

impl WordHasher {
    #[inline(always)]
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    #[inline]
    fn finish(&self) -> u64 {
        // A final avalanche, so the low bits the table indexes by depend on every byte.
        let mut z = self.hash;
        z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z ^ (z >> 33)
    }
}
