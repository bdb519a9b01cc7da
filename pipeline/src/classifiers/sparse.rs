/// Rows of binary sparse features with one weight per feature: row `i` holds the features
/// `indices[offsets[i]..offsets[i + 1]]`, each with value `weights[feature]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct BinaryRows {
    pub offsets: Vec<usize>,
    pub indices: Vec<u32>,
}

impl BinaryRows {
    pub fn new() -> Self {
        Self {
            offsets: vec![0],
            indices: Vec::new(),
        }
    }

    pub fn push(&mut self, mut features: Vec<u32>) {
        features.sort_unstable();
        features.dedup();
        self.indices.extend(features);
        self.offsets.push(self.indices.len());
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn row(&self, i: usize) -> &[u32] {
        &self.indices[self.offsets[i]..self.offsets[i + 1]]
    }
}
