//! A network and NB-SVM as one classifier: their log-odds and margins added after scaling
//! each on unlabelled reviews ([`combine_scores`]), with the logs that compare each model alone.

use transfer_nlp::pipeline::classifiers::NbSvm;
use transfer_nlp::pipeline::classifiers::ensemble::combine_scores;
use transfer_nlp::{
    ContextualEmbedder, Example, Predictor, TokenEmbedder, Tokenizer, TransferError,
    TransferPipeline,
};

use crate::context::{Context, accuracy, texts};
use crate::networks::log_odds;

/// Unlabelled reviews whose scores set each model's scale in an ensemble.
pub const ENSEMBLE_SCALE_REVIEWS: usize = 2_000;

/// Which cell an ensemble's accuracy is for, in its log line.
#[derive(Debug, Clone, Copy)]
pub struct EnsembleCell {
    /// The recipe's name.
    pub recipe: &'static str,
    /// The network's name (`bert`, `ulmfit`).
    pub network: &'static str,
    pub n: usize,
    pub seed: u64,
}

/// A pipeline's log-odds on the test set and on the [`ENSEMBLE_SCALE_REVIEWS`] unlabelled
/// reviews that weigh it in an ensemble.
pub fn scale_and_test_scores<T, E, C, P>(
    ctx: &Context,
    pipeline: &TransferPipeline<T, E, C, P>,
    seed: u64,
) -> Result<[Vec<f64>; 2], TransferError>
where
    T: Tokenizer,
    E: TokenEmbedder,
    C: ContextualEmbedder,
    P: Predictor,
{
    Ok([
        log_odds(pipeline, &texts(ctx.test))?,
        log_odds(pipeline, &ctx.unlabelled_pool(ENSEMBLE_SCALE_REVIEWS, seed))?,
    ])
}

/// The test accuracy of a network's and NB-SVM's scores added ([`combine_scores`], each
/// weighed on [`ENSEMBLE_SCALE_REVIEWS`] unlabelled reviews); `network` holds the
/// network's log-odds on the test set and on those reviews. Logs each model's own
/// accuracy, the share of test reviews each calls positive, and the ensemble's accuracy
/// with the other centring ([`crate::StudyConfig::centres_ensemble`]).
pub fn ensemble_accuracy(
    ctx: &Context,
    cell: EnsembleCell,
    [network_test, network_unlabelled]: [Vec<f64>; 2],
    nbsvm: &NbSvm,
) -> f64 {
    let EnsembleCell {
        recipe,
        network,
        n,
        seed,
    } = cell;
    let centred = ctx.config.centres_ensemble();
    let unlabelled = ctx.unlabelled_pool(ENSEMBLE_SCALE_REVIEWS, seed);
    let reference = [network_unlabelled, nbsvm.decisions(&unlabelled)];
    let test = [network_test, nbsvm.decisions(&texts(ctx.test))];
    let combined = combine_scores(&test, &reference, centred);
    let other = combine_scores(&test, &reference, !centred);
    // Each model's accuracy and share called positive (far from half on the balanced test
    // set: a shifted threshold).
    let [of_network, of_nbsvm, of_both, of_other] =
        [&test[0], &test[1], &combined, &other].map(|scores| {
            let calls = positive_scores(scores);
            let positive = calls.iter().filter(|&&p| p).count() as f64;
            (
                accuracy(&calls, ctx.test),
                positive / calls.len().max(1) as f64,
            )
        });
    // Each alone with its threshold at its median on the unlabelled reviews: NB-SVM's
    // interpolated weights keep the SVM's intercept, so its own threshold can be far off.
    let [network_centred, nbsvm_centred] =
        [0, 1].map(|i| centred_accuracy(&test[i], &reference[i], ctx.test));
    eprintln!(
        "{} n = {n} seed {seed}: {network} alone {:.4}, nbsvm alone {:.4}, together {:.4} \
         (called positive: {:.3} / {:.3} / {:.3}); {} {:.4} ({:.3} positive); each alone \
         centred: {network} {network_centred:.4}, nbsvm {nbsvm_centred:.4}",
        recipe,
        of_network.0,
        of_nbsvm.0,
        of_both.0,
        of_network.1,
        of_nbsvm.1,
        of_both.1,
        if centred { "uncentred" } else { "centred" },
        of_other.0,
        of_other.1,
    );
    of_both.0
}

pub fn positive_scores(scores: &[f64]) -> Vec<bool> {
    scores.iter().map(|&s| s > 0.0).collect()
}

/// Adds `scores` into `sum`, element by element.
pub fn add_into(sum: &mut [f64], scores: &[f64]) {
    for (total, score) in sum.iter_mut().zip(scores) {
        *total += score;
    }
}

/// The accuracy of one model's `scores` on `examples` with its threshold at its median over
/// `reference` (its scores on unlabelled texts).
pub fn centred_accuracy(scores: &[f64], reference: &[f64], examples: &[Example]) -> f64 {
    let centred = combine_scores(&[scores.to_vec()], &[reference.to_vec()], true);
    accuracy(&positive_scores(&centred), examples)
}
