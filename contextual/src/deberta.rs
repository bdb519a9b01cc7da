use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::heads::{merge_heads, split_heads};
use crate::{ContextualEmbedder, ContextualError, HiddenAct};
use transfer_kernels as fused;

/// Shape of a [`DebertaV2Encoder`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebertaV2EncoderConfig {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: HiddenAct,
    pub layer_norm_eps: f64,
    pub hidden_dropout_prob: f64,
    /// Log buckets of relative positions (`position_buckets`), `None` for plain relative
    /// positions; the table has twice as many rows as buckets (or `max_relative_positions`).
    pub position_buckets: Option<usize>,
    /// The farthest relative position told apart (`max_relative_positions`, or
    /// `max_position_embeddings` when that is -1).
    pub max_relative_positions: usize,
    /// Content-to-position scores (`"c2p"` in `pos_att_type`).
    pub c2p: bool,
    /// Position-to-content scores (`"p2c"` in `pos_att_type`).
    pub p2c: bool,
    /// The positions are projected by the content's query and key projections
    /// (`share_att_key`), else by their own.
    pub share_att_key: bool,
    /// `norm_rel_ebd: "layer_norm"`: the relative table is layer-normalised before use.
    pub norm_rel_ebd: bool,
}

impl DebertaV2EncoderConfig {
    fn validate(&self) -> Result<(), ContextualError> {
        for (field, value) in [
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("intermediate_size", self.intermediate_size),
            ("max_relative_positions", self.max_relative_positions),
        ] {
            check(value > 0, field, || "must be at least 1".into())?;
        }
        let heads = self.num_attention_heads;
        check(
            heads > 0 && self.hidden_size.is_multiple_of(heads),
            "num_attention_heads",
            || {
                format!(
                    "{heads} heads do not divide hidden_size {}",
                    self.hidden_size
                )
            },
        )?;
        if let Some(buckets) = self.position_buckets {
            check(
                buckets >= 2 && self.max_relative_positions > buckets / 2 + 1,
                "position_buckets",
                || {
                    format!(
                        "{buckets} buckets need at least 2 and max_relative_positions ({}) above \
                         half of them plus one",
                        self.max_relative_positions
                    )
                },
            )?;
        }
        check(
            self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0,
            "layer_norm_eps",
            || format!("{} is not positive", self.layer_norm_eps),
        )?;
        check(
            (0.0..1.0).contains(&self.hidden_dropout_prob),
            "hidden_dropout_prob",
            || format!("{} is not in [0, 1)", self.hidden_dropout_prob),
        )
    }
}

/// Hugging Face's `attention.self`: content projections, and the positions' own projections
/// when `share_att_key` is off.
#[derive(Module, Debug)]
pub struct DisentangledSelfAttention {
    pub query_proj: Linear,
    pub key_proj: Linear,
    pub value_proj: Linear,
    pub pos_key_proj: Option<Linear>,
    pub pos_query_proj: Option<Linear>,
    num_heads: usize,
}

/// Hugging Face's `attention.output` and `output`: a projection, dropout, then the residual
/// and LayerNorm (post-LN).
#[derive(Module, Debug)]
pub struct DebertaV2ResidualOutput {
    pub dense: Linear,
    /// Hugging Face's `LayerNorm`.
    pub layer_norm: LayerNorm,
    dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct DebertaV2Attention {
    /// Hugging Face's `self` (a Rust keyword).
    pub self_attention: DisentangledSelfAttention,
    pub output: DebertaV2ResidualOutput,
}

#[derive(Module, Debug)]
pub struct DebertaV2Intermediate {
    pub dense: Linear,
}

#[derive(Module, Debug)]
pub struct DebertaV2Layer {
    pub attention: DebertaV2Attention,
    pub intermediate: DebertaV2Intermediate,
    pub output: DebertaV2ResidualOutput,
}

/// DeBERTa-v2/v3's encoder (He et al. 2021): post-LayerNorm layers whose attention adds to
/// the content-to-content scores content-to-position and position-to-content scores over
/// log-bucketed relative positions, from one relative table (`rel_embeddings`) shared by all
/// layers. Field names mirror Hugging Face's `encoder.*`. Attention-probability dropout is not
/// applied; hidden-state dropout is.
#[derive(Module, Debug)]
pub struct DebertaV2Encoder {
    pub layer: Vec<DebertaV2Layer>,
    pub rel_embeddings: Embedding,
    /// Hugging Face's `LayerNorm`, on the relative table (`norm_rel_ebd`).
    pub layer_norm: Option<LayerNorm>,
    #[module(skip)]
    hidden_act: HiddenAct,
    layer_norm_eps: f64,
    max_relative_positions: usize,
    bucketed: bool,
    c2p: bool,
    p2c: bool,
}

/// transformers' `make_log_bucket_position`: relative positions within `buckets / 2` stay as
/// they are; farther ones share logarithmically wider buckets up to `max_position`
/// (`buckets - 1` at most).
pub fn log_bucket(relative: i64, buckets: usize, max_position: usize) -> i64 {
    let mid = (buckets / 2) as i64;
    if relative.abs() <= mid {
        return relative;
    }
    // In f32, as transformers computes it (the ratio in f64, then f32).
    let scale = (((max_position - 1) as f64 / mid as f64) as f32).ln();
    let log = ((relative.abs() as f32 / mid as f32).ln() / scale * (mid - 1) as f32).ceil() as i64;
    relative.signum() * (log + mid)
}

/// What every layer of one forward pass needs besides its weights.
struct Pass {
    /// `[batch, 1, seq, seq]`: true where a query or a key is padding.
    masked: Option<Tensor<4, Bool>>,
    /// The relative table, layer-normalised if configured: `[2 · span, hidden]`.
    relative: Tensor<2>,
    /// `[batch, heads, seq, seq]`: the table row each (query, key) score reads for c2p, and
    /// (key, query) for p2c.
    c2p_rows: Tensor<4, Int>,
    p2c_rows: Tensor<4, Int>,
}

impl DisentangledSelfAttention {
    fn forward(&self, x: Tensor<3>, encoder: &DebertaV2Encoder, pass: &Pass) -> Tensor<3> {
        let heads = self.num_heads;
        let project =
            |layer: &Linear, x: Tensor<3>| split_heads(fused::linear(layer, x, None), heads);
        let query = project(&self.query_proj, x.clone());
        let key = project(&self.key_proj, x.clone());
        let value = project(&self.value_proj, x);
        let head_dim = query.dims()[3];
        let factor = 1 + usize::from(encoder.c2p) + usize::from(encoder.p2c);
        let scale = ((head_dim * factor) as f64).sqrt().recip();
        let mut scores = query.clone().matmul(key.clone().swap_dims(2, 3));
        let table = pass.relative.clone().unsqueeze::<3>();
        let batch = query.dims()[0];
        // The relative table as the positions' keys or queries: `[batch, heads, d, rows]`.
        let project = |own: &Option<Linear>, shared: &Linear| {
            let projection = own.as_ref().unwrap_or(shared);
            let positions = split_heads(projection.forward(table.clone()), heads).swap_dims(2, 3);
            let [_, heads, d, rows] = positions.dims();
            positions.expand([batch, heads, d, rows])
        };
        if encoder.c2p {
            let positions = project(&self.pos_key_proj, &self.key_proj);
            let by_row = query.matmul(positions);
            scores = scores + by_row.gather(3, pass.c2p_rows.clone());
        }
        if encoder.p2c {
            let positions = project(&self.pos_query_proj, &self.query_proj);
            let by_row = key.matmul(positions);
            scores = scores + by_row.gather(3, pass.p2c_rows.clone()).swap_dims(2, 3);
        }
        let mut scores = scores.mul_scalar(scale);
        if let Some(masked) = &pass.masked {
            let shape = scores.dims();
            scores = scores.mask_fill(masked.clone().expand(shape), f32::MIN);
        }
        merge_heads(softmax(scores, 3).matmul(value))
    }
}

impl DebertaV2ResidualOutput {
    fn forward(&self, x: Tensor<3>, residual: Tensor<3>, eps: f64) -> Tensor<3> {
        let projected = fused::dropout(&self.dropout, fused::linear(&self.dense, x, None));
        fused::layer_norm(&self.layer_norm, eps, projected + residual)
    }
}

impl DebertaV2Layer {
    fn forward(&self, x: Tensor<3>, encoder: &DebertaV2Encoder, pass: &Pass) -> Tensor<3> {
        let attended = self
            .attention
            .self_attention
            .forward(x.clone(), encoder, pass);
        let eps = encoder.layer_norm_eps;
        let x = self.attention.output.forward(attended, x, eps);
        let inner = fused::linear(&self.intermediate.dense, x.clone(), None);
        self.output.forward(encoder.hidden_act.apply(inner), x, eps)
    }
}

impl DebertaV2Encoder {
    /// The table rows of c2p (`[seq, seq]`, query × key) and p2c (key × query) scores.
    fn score_rows(&self, seq: usize, device: &Device) -> [Tensor<2, Int>; 2] {
        let span = self.rel_embeddings.weight.lazy_shape().dims::<2>()[0] / 2;
        let row = |relative: i64| {
            let bucket = if self.bucketed {
                log_bucket(relative, span, self.max_relative_positions)
            } else {
                relative
            };
            (bucket + span as i64).clamp(0, 2 * span as i64 - 1)
        };
        let table = |f: &dyn Fn(i64, i64) -> i64| {
            let cells: Vec<i64> = (0..seq as i64)
                .flat_map(|i| (0..seq as i64).map(move |j| (i, j)))
                .map(|(i, j)| f(i, j))
                .collect();
            Tensor::<2, Int>::from_data(TensorData::new(cells, [seq, seq]), device)
        };
        // c2p: query i, key j reads row(i − j); p2c: key i, query j reads row(j − i)
        // (transformers' −bucket(i − j), the buckets being odd).
        [table(&|i, j| row(i - j)), table(&|i, j| row(j - i))]
    }
}

impl ContextualEmbedder for DebertaV2Encoder {
    type Config = DebertaV2EncoderConfig;

    fn forward(&self, embedded: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let padded = !mask.clone().all().into_scalar::<bool>();
        self.forward_known_padding(embedded, mask, padded)
    }

    fn forward_known_padding(
        &self,
        embedded: Tensor<3>,
        mask: Tensor<2, Bool>,
        padded: bool,
    ) -> Tensor<3> {
        let [batch, seq, _] = embedded.dims();
        let heads = self.layer[0].attention.self_attention.num_heads;
        let device = embedded.device();
        let masked = padded.then(|| {
            let hidden = mask.bool_not();
            let keys = hidden.clone().reshape([batch, 1, 1, seq]);
            let queries = hidden.reshape([batch, 1, seq, 1]);
            keys.expand([batch, 1, seq, seq])
                .bool_or(queries.expand([batch, 1, seq, seq]))
        });
        let relative = match &self.layer_norm {
            Some(norm) => norm.forward(self.rel_embeddings.weight.val()),
            None => self.rel_embeddings.weight.val(),
        };
        let [c2p_rows, p2c_rows] = self.score_rows(seq, &device).map(|rows| {
            rows.reshape([1, 1, seq, seq])
                .expand([batch, heads, seq, seq])
        });
        let pass = Pass {
            masked,
            relative,
            c2p_rows,
            p2c_rows,
        };
        self.layer
            .iter()
            .fold(embedded, |x, layer| layer.forward(x, self, &pass))
    }

    fn input_dim(&self) -> usize {
        self.rel_embeddings.weight.lazy_shape().dims::<2>()[1]
    }

    fn output_dim(&self) -> usize {
        self.input_dim()
    }

    fn config(&self) -> DebertaV2EncoderConfig {
        let first = &self.layer[0];
        let attention = &first.attention.self_attention;
        DebertaV2EncoderConfig {
            hidden_size: self.input_dim(),
            num_hidden_layers: self.layer.len(),
            num_attention_heads: attention.num_heads,
            intermediate_size: first.intermediate.dense.weight.lazy_shape().dims::<2>()[1],
            hidden_act: self.hidden_act,
            layer_norm_eps: self.layer_norm_eps,
            hidden_dropout_prob: first.output.dropout.prob,
            position_buckets: self
                .bucketed
                .then(|| self.rel_embeddings.weight.lazy_shape().dims::<2>()[0] / 2),
            max_relative_positions: self.max_relative_positions,
            c2p: self.c2p,
            p2c: self.p2c,
            share_att_key: attention.pos_key_proj.is_none() && attention.pos_query_proj.is_none(),
            norm_rel_ebd: self.layer_norm.is_some(),
        }
    }

    fn from_config(
        config: &DebertaV2EncoderConfig,
        device: &Device,
    ) -> Result<Self, ContextualError> {
        config.validate()?;
        let h = config.hidden_size;
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device)
        };
        let norm = || {
            LayerNormConfig::new(h)
                .with_epsilon(config.layer_norm_eps)
                .init(device)
        };
        let output = |i| DebertaV2ResidualOutput {
            dense: linear(i, h),
            layer_norm: norm(),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        };
        let span = config
            .position_buckets
            .unwrap_or(config.max_relative_positions);
        let own = |wanted: bool| (wanted && !config.share_att_key).then(|| linear(h, h));
        let layer = (0..config.num_hidden_layers)
            .map(|_| DebertaV2Layer {
                attention: DebertaV2Attention {
                    self_attention: DisentangledSelfAttention {
                        query_proj: linear(h, h),
                        key_proj: linear(h, h),
                        value_proj: linear(h, h),
                        pos_key_proj: own(config.c2p),
                        pos_query_proj: own(config.p2c),
                        num_heads: config.num_attention_heads,
                    },
                    output: output(h),
                },
                intermediate: DebertaV2Intermediate {
                    dense: linear(h, config.intermediate_size),
                },
                output: output(config.intermediate_size),
            })
            .collect();
        Ok(Self {
            layer,
            rel_embeddings: EmbeddingConfig::new(2 * span, h)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device),
            layer_norm: config.norm_rel_ebd.then(norm),
            hidden_act: config.hidden_act,
            layer_norm_eps: config.layer_norm_eps,
            max_relative_positions: config.max_relative_positions,
            bucketed: config.position_buckets.is_some(),
            c2p: config.c2p,
            p2c: config.p2c,
        })
    }
}
