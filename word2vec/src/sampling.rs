use crate::rng::SplitMix64;

/// Draws negative words from the unigram distribution raised to the power 0.75, in constant
/// time per draw with Walker's alias method: a table of one entry per word (8 bytes each, so
/// it stays in cache) instead of a long array of repeated word ids.
#[derive(Clone, Debug)]
pub(crate) struct NegativeTable {
    entries: Vec<AliasEntry>,
}

/// Column `i` of the alias table: keep `i` when the low 32 random bits are below
/// `threshold`, else take `alias`.
#[derive(Clone, Copy, Debug)]
struct AliasEntry {
    threshold: u32,
    alias: u32,
}

/// The exponent word2vec smooths the unigram distribution with.
const POWER: f64 = 0.75;

impl NegativeTable {
    pub(crate) fn new(counts: &[u64]) -> Self {
        let n = counts.len();
        let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(POWER)).collect();
        let total: f64 = weights.iter().sum();
        // Each column holds mass 1 on this scale; split it between its word and one donor.
        let mut mass: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut entries: Vec<AliasEntry> = (0..n as u32)
            .map(|i| AliasEntry {
                threshold: u32::MAX,
                alias: i,
            })
            .collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| mass[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            entries[s] = AliasEntry {
                threshold: (mass[s] * 4_294_967_296.0) as u32,
                alias: l as u32,
            };
            mass[l] -= 1.0 - mass[s];
            if mass[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left holds mass 1 up to rounding: it keeps its own word.
        Self { entries }
    }

    #[inline(always)]
    pub(crate) fn sample(&self, rng: &mut SplitMix64) -> u32 {
        let r = rng.next_u64();
        let column = (((r >> 32) * self.entries.len() as u64) >> 32) as usize;
        let entry = self.entries[column];
        if (r as u32) < entry.threshold {
            column as u32
        } else {
            entry.alias
        }
    }
}

/// Each word's chance of being kept under frequent-word subsampling, as a threshold on a
/// uniform 32-bit draw (`2^32` = always). With `t = sample × total words` and a word seen `c`
/// times, word2vec keeps it with probability `(√(c / t) + 1) · t / c`, capped at 1; `sample`
/// 0 keeps everything.
pub(crate) fn keep_thresholds(counts: &[u64], sample: f64) -> Vec<u64> {
    const ALWAYS: u64 = 1 << 32;
    let t = sample * counts.iter().sum::<u64>() as f64;
    (counts.iter())
        .map(|&c| {
            if sample <= 0.0 {
                return ALWAYS;
            }
            let p = ((c as f64 / t).sqrt() + 1.0) * t / c as f64;
            if p >= 1.0 {
                ALWAYS
            } else {
                (p * ALWAYS as f64) as u64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_draws_follow_the_smoothed_unigram_distribution() {
        let counts = [1000u64, 300, 50, 10, 1, 1];
        let table = NegativeTable::new(&counts);
        let mut rng = SplitMix64::new(3);
        let mut seen = [0u64; 6];
        let draws = 2_000_000;
        for _ in 0..draws {
            seen[table.sample(&mut rng) as usize] += 1;
        }
        let total: f64 = counts.iter().map(|&c| (c as f64).powf(0.75)).sum();
        for (i, &c) in counts.iter().enumerate() {
            let expected = (c as f64).powf(0.75) / total;
            let got = seen[i] as f64 / draws as f64;
            assert!(
                (got - expected).abs() < 0.003,
                "word {i}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn subsampling_keeps_rare_words_and_thins_frequent_ones() {
        // t = 1e-3 × 1,003,001; (√(c / t) + 1) · t / c by hand for c = 10^6 and 3000.
        let keep = keep_thresholds(&[1_000_000, 3000, 1], 1e-3);
        let p: Vec<f64> = keep.iter().map(|&k| k as f64 / 4_294_967_296.0).collect();
        assert!((p[0] - 0.032_673_192).abs() < 1e-8, "{}", p[0]);
        assert!((p[1] - 0.912_549_601).abs() < 1e-8, "{}", p[1]);
        assert_eq!(keep[2], 1 << 32);
        assert!(keep_thresholds(&[5, 5], 0.0).iter().all(|&k| k == 1 << 32));
    }
}
