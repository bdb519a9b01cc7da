#!/usr/bin/env bash
# Word vectors trained here on IMDB's unlabelled and training reviews (`transfer word2vec`)
# against GloVe 6B-50d, as the token embedder of the study's word-vector sums and of a BiLSTM
# whose vectors are frozen or fine-tuned: n = 100, 1,000, 10,000, 3 seeds, all 25,000 test
# reviews, on the CPU. Run from the repository root with $TRANSFER_ASSETS set:
#   scripts/results/word2vec_transfer.sh [vectors|held-out|test|merge]   (all four by default)
# About 2 hours on the 2-core machine; each step resumes where it stopped.
set -euo pipefail
cargo build --release --quiet -p transfer-cli
transfer="${CARGO_TARGET_DIR:-target}/release/transfer"
steps="${1:-vectors held-out test merge}"
vectors=runs/vectors
glove="$TRANSFER_ASSETS/vectors/glove.6B.50d.100k.txt.gz"
results=docs/results/textflix

# 1. The IMDB vectors: the settings of docs/results/word2vec.md (skip-gram, window 5, min count
#    5, negative 5, sample 1e-3, 5 epochs), 100 dimensions as there and 50 as GloVe's.
if [[ " $steps " == *" vectors "* ]]; then
    mkdir -p "$vectors"
    for dim in 100 50; do
        out="$vectors/imdb-w2v-${dim}d.bin"
        [[ -f "$out" ]] || "$transfer" word2vec --corpus imdb --out "$out" --dim "$dim" \
            --threads 2 --quiet > "$vectors/imdb-w2v-${dim}d.json"
    done
fi

# 2. The BiLSTM's learning rate, chosen on 2,000 held-out training reviews (n = 100 and 1,000,
#    one seed, GloVe and the 100-d IMDB vectors alike): the rate with the best mean over the
#    four cells of each recipe.
if [[ " $steps " == *" held-out "* ]]; then
    for lr in 0.001 0.003; do
        for name in glove:"$glove" imdb-w2v-100d:"$vectors/imdb-w2v-100d.bin"; do
            "$transfer" textflix --out "$results/held-out/bilstm-${name%%:*}-lr$lr" \
                --models bilstm-frozen,bilstm-tuned --sizes 100,1000 --seeds 1 \
                --held-out 2000 --set "vectors=${name#*:}" --set "bilstm.learning_rate=$lr" --quiet
        done
    done
fi

# 3. The test set, scored once per recipe: the rate chosen in 2 for each. The 50-d IMDB
#    vectors (GloVe's dimension) in the word-vector sums only: the BiLSTM cells at n = 10,000
#    cost about 5 minutes each on 2 cores.
frozen_lr=0.003
tuned_lr=0.003
test_run() { # NAME VECTORS RECIPE LR
    "$transfer" textflix --out "$results/vectors-$1-$3" --models "$3" \
        --sizes 100,1000,10000 --seeds 3 --set "vectors=$2" --set "bilstm.learning_rate=$4" --quiet
}
if [[ " $steps " == *" test "* ]]; then
    for name in glove:"$glove" imdb-w2v-100d:"$vectors/imdb-w2v-100d.bin" \
        imdb-w2v-50d:"$vectors/imdb-w2v-50d.bin"; do
        test_run "${name%%:*}" "${name#*:}" wvsum 0
    done
    for name in glove:"$glove" imdb-w2v-100d:"$vectors/imdb-w2v-100d.bin"; do
        test_run "${name%%:*}" "${name#*:}" bilstm-frozen $frozen_lr
        test_run "${name%%:*}" "${name#*:}" bilstm-tuned $tuned_lr
    done
fi

# 4. One table and figure from those runs.
if [[ " $steps " == *" merge "* ]]; then
    "$transfer" textflix merge --spec textflix/merges/word_vectors.toml \
        --out "$results/word-vectors"
fi
