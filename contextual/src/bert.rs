use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::prelude::*;
use burn::tensor::FloatDType;
use burn::tensor::activation::{gelu_approximate, relu};
use serde::{Deserialize, Serialize};

use crate::error::check;
use crate::heads::{merge_heads, split_heads};
use crate::{ContextualEmbedder, ContextualError};
use transfer_kernels as fused;
use transfer_kernels::exact_gelu;

/// The feed-forward activation (`hidden_act` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenAct {
    /// Exact GELU with erf (`gelu`).
    Gelu,
    /// Tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    GeluApproximate,
    Relu,
}

impl HiddenAct {
    /// The activation a `config.json` names (`hidden_act`, `hidden_activation`, …).
    pub fn parse(name: &str) -> Result<Self, ContextualError> {
        match name {
            "gelu" => Ok(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Self::GeluApproximate),
            "relu" => Ok(Self::Relu),
            other => Err(ContextualError::InvalidConfig {
                field: "hidden_act",
                message: format!(
                    "{other:?} is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)"
                ),
            }),
        }
    }

    pub(crate) fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Gelu => exact_gelu(x),
            Self::GeluApproximate => gelu_approximate(x),
            Self::Relu => relu(x),
        }
    }
}

/// The precision of the encoder's matrix products and attention.
///
/// `Bf16` and `F16` are mixed precision, as PyTorch's autocast: weights, gradients, the
/// residual stream and LayerNorm stay in f32; each projection and the attention run in the
/// half type (on tensor cores on CUDA). A run-time setting, not saved with the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    F32,
    Bf16,
    F16,
}

impl Precision {
    fn half(self) -> Option<FloatDType> {
        match self {
            Self::F32 => None,
            Self::Bf16 => Some(FloatDType::BF16),
            Self::F16 => Some(FloatDType::F16),
        }
    }

    /// `x · W + b` in this precision (the result in the half type when mixed).
    fn linear(self, layer: &Linear, x: Tensor<3>) -> Tensor<3> {
        fused::linear(layer, x, self.half())
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "fp32" => Ok(Self::F32),
            "bf16" => Ok(Self::Bf16),
            "f16" | "fp16" => Ok(Self::F16),
            other => Err(format!("unknown precision {other:?} (f32, bf16, f16)")),
        }
    }
}

/// Shape of a [`BertEncoder`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BertEncoderConfig {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: HiddenAct,
    pub layer_norm_eps: f64,
    pub hidden_dropout_prob: f64,
    /// MPNet's relative position buckets (`relative_attention_num_buckets`): a learned bias per
    /// head and bucket added to every layer's attention scores. `None` for BERT.
    #[serde(default)]
    pub relative_attention_num_buckets: Option<usize>,
}

impl BertEncoderConfig {
    /// The fields of a Hugging Face BERT `config.json` this stage uses (the rest is ignored).
    pub fn from_hf_json(json: &serde_json::Value) -> Result<Self, ContextualError> {
        let usize_field = |name: &'static str| {
            json.get(name)
                .and_then(|v| v.as_u64())
                .map(|v| v as usize)
                .ok_or(ContextualError::InvalidConfig {
                    field: name,
                    message: "missing from config.json or not a non-negative integer".into(),
                })
        };
        let f64_field = |name: &'static str, default: f64| match json.get(name) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or(ContextualError::InvalidConfig {
                field: name,
                message: "not a number".into(),
            }),
        };
        let act = json
            .get("hidden_act")
            .and_then(|v| v.as_str())
            .unwrap_or("gelu");
        Ok(Self {
            hidden_size: usize_field("hidden_size")?,
            num_hidden_layers: usize_field("num_hidden_layers")?,
            num_attention_heads: usize_field("num_attention_heads")?,
            intermediate_size: usize_field("intermediate_size")?,
            hidden_act: HiddenAct::parse(act)?,
            layer_norm_eps: f64_field("layer_norm_eps", 1e-12)?,
            hidden_dropout_prob: f64_field("hidden_dropout_prob", 0.1)?,
            relative_attention_num_buckets: None,
        })
    }

    fn validate(&self) -> Result<(), ContextualError> {
        check(self.hidden_size > 0, "hidden_size", || {
            "must be at least 1".into()
        })?;
        check(self.num_hidden_layers > 0, "num_hidden_layers", || {
            "must be at least 1".into()
        })?;
        check(self.intermediate_size > 0, "intermediate_size", || {
            "must be at least 1".into()
        })?;
        check(
            self.num_attention_heads > 0
                && self.hidden_size.is_multiple_of(self.num_attention_heads),
            "num_attention_heads",
            || {
                format!(
                    "{} heads do not divide hidden size {}",
                    self.num_attention_heads, self.hidden_size
                )
            },
        )?;
        check(
            self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0,
            "layer_norm_eps",
            || format!("{} is not positive", self.layer_norm_eps),
        )?;
        check(
            self.relative_attention_num_buckets
                .is_none_or(|n| n >= 4 && n.is_multiple_of(2)),
            "relative_attention_num_buckets",
            || "must be an even number of at least 4".into(),
        )?;
        check(
            (0.0..1.0).contains(&self.hidden_dropout_prob),
            "hidden_dropout_prob",
            || format!("{} is not in [0, 1)", self.hidden_dropout_prob),
        )
    }
}

/// Hugging Face's `attention.self`: query, key and value projections.
#[derive(Module, Debug)]
pub struct BertSelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    num_heads: usize,
}

/// Hugging Face's `attention.output` and `output`: a projection, dropout, then the residual
/// and LayerNorm (post-LN).
#[derive(Module, Debug)]
pub struct BertResidualOutput {
    pub dense: Linear,
    /// Hugging Face's `LayerNorm`.
    pub layer_norm: LayerNorm,
    dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct BertAttention {
    /// Hugging Face's `self` (a Rust keyword).
    pub self_attention: BertSelfAttention,
    pub output: BertResidualOutput,
}

#[derive(Module, Debug)]
pub struct BertIntermediate {
    pub dense: Linear,
}

/// One transformer layer.
#[derive(Module, Debug)]
pub struct BertLayer {
    pub attention: BertAttention,
    pub intermediate: BertIntermediate,
    pub output: BertResidualOutput,
}

/// BERT's encoder: post-LayerNorm transformer layers with padding masked out of attention.
/// Field names mirror Hugging Face's `encoder.*` tensors (`layer.0.attention.self.query`).
///
/// Attention-probability dropout is not applied (the fused attention kernels have none);
/// hidden-state dropout is.
#[derive(Module, Debug)]
pub struct BertEncoder {
    pub layer: Vec<BertLayer>,
    /// MPNet's `relative_attention_bias`: `[buckets, heads]`, shared by all layers.
    pub relative_attention_bias: Option<Embedding>,
    #[module(skip)]
    hidden_act: HiddenAct,
    intermediate_size: usize,
    layer_norm_eps: f64,
    hidden_dropout_prob: f64,
    #[module(skip)]
    precision: Precision,
}

/// What every layer of one forward pass needs besides its weights.
struct Pass {
    /// true at the keys no query may look at (padding), `[batch, 1, 1, seq]`.
    masked: Option<Tensor<4, Bool>>,
    libtorch_allow_mask: bool,
    /// MPNet's relative position bias, `[1, heads, seq, seq]`.
    position_bias: Option<Tensor<4>>,
    act: HiddenAct,
    precision: Precision,
    layer_norm_eps: f64,
}

impl BertSelfAttention {
    fn forward(&self, x: Tensor<3>, pass: &Pass) -> Tensor<3> {
        let [batch, seq, hidden] = x.dims();
        let heads = self.num_heads;
        let p = pass.precision;
        if let Some(bias) = &pass.position_bias {
            return self.biased_forward(x, bias.clone(), pass);
        }
        if let Some(context) = fused::packed_self_attention(
            [&self.query, &self.key, &self.value],
            &x,
            heads,
            pass.masked.as_ref(),
            p.half(),
        ) {
            return context;
        }
        let split = |t: Tensor<3>| {
            t.reshape([batch, seq, heads, hidden / heads])
                .swap_dims(1, 2)
        };
        let context = fused::attention(
            split(p.linear(&self.query, x.clone())),
            split(p.linear(&self.key, x.clone())),
            split(p.linear(&self.value, x)),
            pass.masked.clone(),
            pass.libtorch_allow_mask,
        );
        context.swap_dims(1, 2).reshape([batch, seq, hidden])
    }

    /// Attention with an additive `[1, heads, seq, seq]` score bias (MPNet) that takes its
    /// gradient.
    fn biased_forward(&self, x: Tensor<3>, bias: Tensor<4>, pass: &Pass) -> Tensor<3> {
        let p = pass.precision;
        let project = |layer: &Linear| split_heads(p.linear(layer, x.clone()), self.num_heads);
        merge_heads(fused::biased_attention(
            project(&self.query),
            project(&self.key),
            project(&self.value),
            bias,
            pass.masked.clone(),
        ))
    }
}

/// MPNet's (and T5's) bidirectional bucket of the relative position `key − query`: exact
/// below a quarter of the buckets, logarithmic up to `max_distance`, in f32 as transformers.
fn relative_position_bucket(relative: i64, num_buckets: usize, max_distance: usize) -> i64 {
    let half = (num_buckets / 2) as i64;
    let side = if relative > 0 { half } else { 0 };
    let n = relative.abs();
    let max_exact = half / 2;
    if n < max_exact {
        return side + n;
    }
    let log_ratio = (n as f32 / max_exact as f32).ln();
    let log_range = (max_distance as f64 / max_exact as f64).ln() as f32;
    let large = max_exact + (log_ratio / log_range * (half - max_exact) as f32) as i64;
    side + large.min(half - 1)
}

/// MPNet's maximum distance between positions with their own bucket range.
const RELATIVE_MAX_DISTANCE: usize = 128;

/// The `[1, heads, seq, seq]` relative position bias of a sequence of `seq` tokens.
fn position_bias(table: &Embedding, seq: usize, device: &Device) -> Tensor<4> {
    let buckets = table.weight.lazy_shape().dims::<2>()[0];
    let ids: Vec<i64> = (0..seq as i64)
        .flat_map(|q| {
            (0..seq as i64)
                .map(move |k| relative_position_bucket(k - q, buckets, RELATIVE_MAX_DISTANCE))
        })
        .collect();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [seq, seq]), device);
    table.forward(ids).permute([2, 0, 1]).unsqueeze::<4>()
}

impl BertResidualOutput {
    fn forward(&self, x: Tensor<3>, residual: Tensor<3>, pass: &Pass) -> Tensor<3> {
        let projected = pass.precision.linear(&self.dense, x).cast(residual.dtype());
        fused::layer_norm(
            &self.layer_norm,
            pass.layer_norm_eps,
            fused::dropout(&self.dropout, projected) + residual,
        )
    }
}

impl BertLayer {
    fn forward(&self, x: Tensor<3>, pass: &Pass) -> Tensor<3> {
        let attended = self.attention.self_attention.forward(x.clone(), pass);
        let x = self.attention.output.forward(attended, x, pass);
        let inner = pass
            .act
            .apply(pass.precision.linear(&self.intermediate.dense, x.clone()));
        self.output.forward(inner, x, pass)
    }
}

impl BertEncoder {
    /// Runs the encoder in `precision` (see [`Precision`]); f32 unless set.
    ///
    /// ```
    /// use burn::prelude::*;
    /// use transfer_contextual::{BertEncoder, BertEncoderConfig, ContextualEmbedder, HiddenAct, Precision};
    ///
    /// let config = BertEncoderConfig {
    ///     hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16,
    ///     hidden_act: HiddenAct::Gelu, layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1,
    ///     relative_attention_num_buckets: None,
    /// };
    /// let encoder = BertEncoder::from_config(&config, &Device::flex()).unwrap()
    ///     .with_precision(Precision::Bf16);
    /// assert_eq!(encoder.precision(), Precision::Bf16);
    /// ```
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }
}

/// burn 0.22's libtorch backend passes a boolean attention mask unchanged to torch's
/// `scaled_dot_product_attention`, where `true` means "may attend": the opposite of burn's
/// convention (and of its autodiff fallback). On a plain libtorch device the mask is flipped
/// before the call (`fused::attention`); the golden test on tch checks it.
pub(crate) fn hands_torch_an_allow_mask(device: &Device) -> bool {
    !device.is_autodiff() && format!("{device:?}").starts_with("Device<LibTorch")
}

impl ContextualEmbedder for BertEncoder {
    type Config = BertEncoderConfig;

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
        // Without padding there is nothing to mask, and the fused kernels run unmasked (flash
        // attention on CUDA).
        let pass = Pass {
            masked: padded.then(|| mask.bool_not().reshape([batch, 1, 1, seq])),
            libtorch_allow_mask: hands_torch_an_allow_mask(&embedded.device()),
            position_bias: self
                .relative_attention_bias
                .as_ref()
                .map(|table| position_bias(table, seq, &embedded.device())),
            act: self.hidden_act,
            precision: self.precision,
            layer_norm_eps: self.layer_norm_eps,
        };
        self.layer
            .iter()
            .fold(embedded, |x, layer| layer.forward(x, &pass))
    }

    fn input_dim(&self) -> usize {
        self.layer[0]
            .attention
            .self_attention
            .query
            .weight
            .lazy_shape()
            .dims::<2>()[0]
    }

    fn output_dim(&self) -> usize {
        self.input_dim()
    }

    fn config(&self) -> BertEncoderConfig {
        BertEncoderConfig {
            hidden_size: self.input_dim(),
            num_hidden_layers: self.layer.len(),
            num_attention_heads: self.layer[0].attention.self_attention.num_heads,
            intermediate_size: self.intermediate_size,
            hidden_act: self.hidden_act,
            layer_norm_eps: self.layer_norm_eps,
            hidden_dropout_prob: self.hidden_dropout_prob,
            relative_attention_num_buckets: self
                .relative_attention_bias
                .as_ref()
                .map(|t| t.weight.lazy_shape().dims::<2>()[0]),
        }
    }

    fn from_config(config: &BertEncoderConfig, device: &Device) -> Result<Self, ContextualError> {
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
        let residual = |i| BertResidualOutput {
            dense: linear(i, h),
            layer_norm: LayerNormConfig::new(h)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        };
        let layer = (0..config.num_hidden_layers)
            .map(|_| BertLayer {
                attention: BertAttention {
                    self_attention: BertSelfAttention {
                        query: linear(h, h),
                        key: linear(h, h),
                        value: linear(h, h),
                        num_heads: config.num_attention_heads,
                    },
                    output: residual(h),
                },
                intermediate: BertIntermediate {
                    dense: linear(h, config.intermediate_size),
                },
                output: residual(config.intermediate_size),
            })
            .collect();
        let relative_attention_bias = config.relative_attention_num_buckets.map(|buckets| {
            EmbeddingConfig::new(buckets, config.num_attention_heads)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device)
        });
        Ok(Self {
            layer,
            relative_attention_bias,
            hidden_act: config.hidden_act,
            intermediate_size: config.intermediate_size,
            layer_norm_eps: config.layer_norm_eps,
            hidden_dropout_prob: config.hidden_dropout_prob,
            precision: Precision::F32,
        })
    }
}
