/// The Huffman tree over word counts that hierarchical softmax walks: each word's path from
/// the root is a list of inner nodes (its *points*, indices `0..len - 1` into the
/// output matrix) and the branch taken at each (its *code*, 0 or 1). Frequent words get short
/// paths. Paths are stored flat, one after another.
///
/// ```
/// use transfer_word2vec::Huffman;
/// let tree = Huffman::new(&[5, 3, 1, 1]);
/// assert_eq!(tree.inner_nodes(), 3);
/// assert_eq!(tree.code(0).len(), 1); // the most frequent word sits next to the root
/// assert_eq!(tree.points(2).len(), tree.code(2).len());
/// ```
#[derive(Clone, Debug)]
pub struct Huffman {
    codes: Vec<u8>,
    points: Vec<u32>,
    offsets: Vec<usize>,
}

/// The tree as parent links: nodes `0..n` are the leaves, `n..2n - 1` the inner nodes
/// (the root last); `branch[node]` is the bit on the edge to its parent.
struct Links {
    parent: Vec<usize>,
    branch: Vec<u8>,
}

impl Huffman {
    /// The tree for words with these counts (any order; ties broken by index).
    pub fn new(counts: &[u64]) -> Self {
        let n = counts.len();
        let links = Self::link(counts);
        let (mut codes, mut points, mut offsets) = (Vec::new(), Vec::new(), vec![0]);
        for leaf in 0..n {
            let start = codes.len();
            let mut node = leaf;
            while node < 2 * n - 2 {
                codes.push(links.branch[node]);
                points.push((links.parent[node] - n) as u32);
                node = links.parent[node];
            }
            codes[start..].reverse();
            points[start..].reverse();
            offsets.push(codes.len());
        }
        Self {
            codes,
            points,
            offsets,
        }
    }

    /// Merges the two lightest nodes until one is left. Leaves sorted by count and inner
    /// nodes, which are made in order of weight, form two queues whose fronts are the two
    /// lightest candidates.
    fn link(counts: &[u64]) -> Links {
        let n = counts.len();
        let mut leaves: Vec<usize> = (0..n).collect();
        leaves.sort_by_key(|&i| (counts[i], i));
        let mut weight: Vec<u64> = counts.to_vec();
        weight.resize(2 * n.max(1) - 1, 0);
        let mut parent = vec![0; 2 * n.max(1) - 1];
        let mut branch = vec![0; 2 * n.max(1) - 1];
        let (mut next_leaf, mut next_inner) = (0, n);
        for inner in n..(2 * n).saturating_sub(1) {
            for bit in 0..2 {
                let take_leaf = next_leaf < n
                    && (next_inner >= inner || counts[leaves[next_leaf]] <= weight[next_inner]);
                let child = if take_leaf {
                    next_leaf += 1;
                    leaves[next_leaf - 1]
                } else {
                    next_inner += 1;
                    next_inner - 1
                };
                weight[inner] += weight[child];
                parent[child] = inner;
                branch[child] = bit;
            }
        }
        Links { parent, branch }
    }

    /// How many inner nodes (rows of the output matrix) the tree has: words − 1.
    pub fn inner_nodes(&self) -> usize {
        (self.offsets.len() - 1).saturating_sub(1)
    }

    /// Word `i`'s branches from the root down.
    #[inline(always)]
    pub fn code(&self, i: usize) -> &[u8] {
        &self.codes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Word `i`'s inner nodes from the root down.
    #[inline(always)]
    pub fn points(&self, i: usize) -> &[u32] {
        &self.points[self.offsets[i]..self.offsets[i + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kraft_sum(tree: &Huffman, n: usize) -> f64 {
        (0..n).map(|i| 0.5f64.powi(tree.code(i).len() as i32)).sum()
    }

    #[test]
    fn one_word_has_an_empty_path() {
        let tree = Huffman::new(&[7]);
        assert_eq!((tree.inner_nodes(), tree.code(0).len()), (0, 0));
    }

    #[test]
    fn classic_example_lengths() {
        // Weights 45, 13, 12, 16, 9, 5: the textbook optimum has lengths 1, 3, 3, 3, 4, 4.
        let tree = Huffman::new(&[45, 13, 12, 16, 9, 5]);
        let lengths: Vec<usize> = (0..6).map(|i| tree.code(i).len()).collect();
        assert_eq!(lengths, [1, 3, 3, 3, 4, 4]);
    }

    proptest! {
        #[test]
        fn codes_are_a_complete_prefix_free_code(counts in prop::collection::vec(1u64..1000, 2..60)) {
            let n = counts.len();
            let tree = Huffman::new(&counts);
            prop_assert_eq!(tree.inner_nodes(), n - 1);
            prop_assert!((kraft_sum(&tree, n) - 1.0).abs() < 1e-9);
            for i in 0..n {
                prop_assert!(tree.points(i).iter().all(|&p| (p as usize) < n - 1));
                prop_assert_eq!(tree.points(i)[0] as usize, n - 2, "paths start at the root");
                for j in 0..n {
                    let (a, b) = (tree.code(i), tree.code(j));
                    prop_assert!(i == j || !b.starts_with(a), "{:?} prefixes {:?}", a, b);
                    if counts[i] > counts[j] {
                        prop_assert!(a.len() <= b.len());
                    }
                }
            }
        }
    }
}
