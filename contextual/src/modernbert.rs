use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bert::hands_torch_an_allow_mask;
use crate::error::check;
use crate::heads::{merge_heads, padded_keys, padded_keys_but_own, position_mask, split_heads};
use crate::{ContextualEmbedder, ContextualError, HiddenAct};
use transfer_kernels as fused;

/// Whether a ModernBERT layer attends over the whole text or a window around each token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionSpan {
    /// `full_attention`: every token, rotary positions with `global_rope_theta`.
    Global,
    /// `sliding_attention`: tokens within `local_attention / 2`, with `local_rope_theta`.
    Local,
}

/// Shape of a [`ModernBertEncoder`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModernBertEncoderConfig {
    pub hidden_size: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_activation: HiddenAct,
    pub norm_eps: f64,
    pub norm_bias: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    /// One per layer (`layer_types`).
    pub layer_types: Vec<AttentionSpan>,
    pub global_rope_theta: f64,
    pub local_rope_theta: f64,
    /// The local window's width: a token sees those at most half of it away.
    pub local_attention: usize,
    pub attention_dropout: f64,
    pub mlp_dropout: f64,
}

impl ModernBertEncoderConfig {
    fn validate(&self) -> Result<(), ContextualError> {
        check(self.hidden_size > 0, "hidden_size", || {
            "must be at least 1".into()
        })?;
        check(!self.layer_types.is_empty(), "layer_types", || {
            "no layers".into()
        })?;
        check(self.intermediate_size > 0, "intermediate_size", || {
            "must be at least 1".into()
        })?;
        let heads = self.num_attention_heads;
        check(
            heads > 0
                && self.hidden_size.is_multiple_of(heads)
                && (self.hidden_size / heads).is_multiple_of(2),
            "num_attention_heads",
            || {
                format!(
                    "{heads} heads do not split {} into even halves",
                    self.hidden_size
                )
            },
        )?;
        check(
            self.norm_eps.is_finite() && self.norm_eps > 0.0,
            "norm_eps",
            || format!("{} is not positive", self.norm_eps),
        )?;
        for (field, theta) in [
            ("global_rope_theta", self.global_rope_theta),
            ("local_rope_theta", self.local_rope_theta),
        ] {
            check(theta.is_finite() && theta > 1.0, field, || {
                format!("{theta} is not above 1")
            })?;
        }
        for (field, p) in [
            ("attention_dropout", self.attention_dropout),
            ("mlp_dropout", self.mlp_dropout),
        ] {
            check((0.0..1.0).contains(&p), field, || {
                format!("{p} is not in [0, 1)")
            })?;
        }
        Ok(())
    }
}

/// Hugging Face's `attn`: the packed `Wqkv` projection and the output `Wo`.
#[derive(Module, Debug)]
pub struct ModernBertAttention {
    /// Hugging Face's `Wqkv`.
    pub wqkv: Linear,
    /// Hugging Face's `Wo`.
    pub wo: Linear,
    drop: Dropout,
    num_heads: usize,
}

/// Hugging Face's `mlp`: GeGLU, `Wo(act(input) · gate)` with `input, gate = Wi(x)`.
#[derive(Module, Debug)]
pub struct ModernBertMlp {
    /// Hugging Face's `Wi`.
    pub wi: Linear,
    /// Hugging Face's `Wo`.
    pub wo: Linear,
    drop: Dropout,
}

/// One pre-LayerNorm layer; the first has no `attn_norm` (the embeddings' norm precedes it).
#[derive(Module, Debug)]
pub struct ModernBertLayer {
    pub attn_norm: Option<LayerNorm>,
    pub attn: ModernBertAttention,
    pub mlp_norm: LayerNorm,
    pub mlp: ModernBertMlp,
    local: bool,
}

/// ModernBERT's encoder (Warner et al. 2024): pre-LayerNorm layers with rotary positions,
/// GeGLU feed-forwards and attention alternating between the whole text and a local window,
/// then a final LayerNorm. Field names mirror Hugging Face's `layers.*` and `final_norm`.
/// Attention-probability dropout is not applied.
#[derive(Module, Debug)]
pub struct ModernBertEncoder {
    pub layers: Vec<ModernBertLayer>,
    pub final_norm: LayerNorm,
    #[module(skip)]
    hidden_activation: HiddenAct,
    intermediate_size: usize,
    norm_eps: f64,
    attention_bias: bool,
    mlp_bias: bool,
    global_rope_theta: f64,
    local_rope_theta: f64,
    local_attention: usize,
}

/// Rotary position tables `cos` and `±sin` (`[1, 1, seq, head_dim]`) for base `theta`, as
/// transformers computes them: each frequency used for both halves of a head; the sine
/// negated in the first half, where `rotate_half` puts the negated second half of `x`.
fn rotary_tables(seq: usize, head_dim: usize, theta: f64, device: &Device) -> [Tensor<4>; 2] {
    let half = head_dim / 2;
    let inv_freq: Vec<f32> = (0..half)
        .map(|k| (1.0 / theta.powf(2.0 * k as f64 / head_dim as f64)) as f32)
        .collect();
    let table = |f: &dyn Fn(f32, usize) -> f32| {
        let values: Vec<f32> = (0..seq)
            .flat_map(|p| (0..head_dim).map(move |d| (p, d)))
            .map(|(p, d)| f(p as f32 * inv_freq[d % half], d))
            .collect();
        Tensor::<2>::from_data(TensorData::new(values, [seq, head_dim]), device)
            .reshape([1, 1, seq, head_dim])
    };
    let signed_sin = |a: f32, d: usize| if d < half { -a.sin() } else { a.sin() };
    [table(&|a, _| a.cos()), table(&signed_sin)]
}

/// `x · cos + rotate_half(x) · sin`, `rotate_half` = the halves swapped, the second negated
/// (the sign is in the table).
fn rotate(x: Tensor<4>, [cos, signed_sin]: &[Tensor<4>; 2]) -> Tensor<4> {
    let [batch, heads, seq, dim] = x.dims();
    let half = dim / 2;
    let swapped = Tensor::cat(
        vec![
            x.clone().narrow(3, half, half),
            x.clone().narrow(3, 0, half),
        ],
        3,
    );
    let shape = [batch, heads, seq, dim];
    x * cos.clone().expand(shape) + swapped * signed_sin.clone().expand(shape)
}

/// What every layer of one forward pass needs besides its weights.
struct Pass {
    global_rope: [Tensor<4>; 2],
    local_rope: [Tensor<4>; 2],
    /// `[batch, 1, 1, seq]`: the padded keys.
    padded: Option<Tensor<4, Bool>>,
    /// `[batch, 1, seq, seq]`: keys outside the window, and padded keys other than the
    /// query's own.
    outside_window: Tensor<4, Bool>,
    libtorch_allow_mask: bool,
    act: HiddenAct,
    norm_eps: f64,
}

impl ModernBertAttention {
    fn forward(&self, x: Tensor<3>, local: bool, pass: &Pass) -> Tensor<3> {
        let qkv = fused::linear(&self.wqkv, x, None);
        let rope = if local {
            &pass.local_rope
        } else {
            &pass.global_rope
        };
        let masked = if local {
            Some(pass.outside_window.clone())
        } else {
            pass.padded.clone()
        };
        let context = fused::rotary_self_attention(&qkv, self.num_heads, rope, masked.as_ref())
            .unwrap_or_else(|| self.attention(qkv, rope, masked, pass.libtorch_allow_mask));
        fused::dropout(&self.drop, fused::linear(&self.wo, context, None))
    }

    /// [`fused::rotary_self_attention`] where it does not run: the packed projections split,
    /// the queries and keys rotated, then attention; heads merged.
    fn attention(
        &self,
        qkv: Tensor<3>,
        rope: &[Tensor<4>; 2],
        masked: Option<Tensor<4, Bool>>,
        libtorch_allow_mask: bool,
    ) -> Tensor<3> {
        let [batch, seq, width] = qkv.dims();
        let hidden = width / 3;
        let qkv = qkv.reshape([batch, seq, 3, hidden]);
        let part = |i: usize| {
            split_heads(
                qkv.clone().narrow(2, i, 1).reshape([batch, seq, hidden]),
                self.num_heads,
            )
        };
        let (query, key, value) = (rotate(part(0), rope), rotate(part(1), rope), part(2));
        merge_heads(fused::attention(
            query,
            key,
            value,
            masked,
            libtorch_allow_mask,
        ))
    }
}

impl ModernBertMlp {
    fn forward(&self, x: Tensor<3>, act: HiddenAct) -> Tensor<3> {
        let inner = fused::linear(&self.wi, x, None);
        let gated = match act {
            HiddenAct::Gelu => fused::gelu_gated(inner, false),
            HiddenAct::GeluApproximate => fused::gelu_gated(inner, true),
            HiddenAct::Relu => {
                let width = inner.dims()[2] / 2;
                let input = inner.clone().narrow(2, 0, width);
                act.apply(input) * inner.narrow(2, width, width)
            }
        };
        fused::linear(&self.wo, fused::dropout(&self.drop, gated), None)
    }
}

impl ModernBertLayer {
    fn forward(&self, x: Tensor<3>, pass: &Pass) -> Tensor<3> {
        let normed = match &self.attn_norm {
            Some(norm) => fused::layer_norm(norm, pass.norm_eps, x.clone()),
            None => x.clone(),
        };
        let x = x + self.attn.forward(normed, self.local, pass);
        let normed = fused::layer_norm(&self.mlp_norm, pass.norm_eps, x.clone());
        x + self.mlp.forward(normed, pass.act)
    }
}

impl ContextualEmbedder for ModernBertEncoder {
    type Config = ModernBertEncoderConfig;

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
        let [batch, seq, hidden] = embedded.dims();
        let device = embedded.device();
        let head_dim = hidden / self.layers[0].attn.num_heads;
        let reach = self.local_attention / 2;
        let window = position_mask(seq, &device, |q, k| q.abs_diff(k) > reach);
        let pass = Pass {
            global_rope: rotary_tables(seq, head_dim, self.global_rope_theta, &device),
            local_rope: rotary_tables(seq, head_dim, self.local_rope_theta, &device),
            outside_window: padded_keys_but_own(mask.clone())
                .bool_or(window.expand([batch, 1, seq, seq])),
            padded: padded.then(|| padded_keys(mask)),
            libtorch_allow_mask: hands_torch_an_allow_mask(&device),
            act: self.hidden_activation,
            norm_eps: self.norm_eps,
        };
        let x = self
            .layers
            .iter()
            .fold(embedded, |x, layer| layer.forward(x, &pass));
        fused::layer_norm(&self.final_norm, self.norm_eps, x)
    }

    fn input_dim(&self) -> usize {
        self.final_norm.gamma.lazy_shape().dims::<1>()[0]
    }

    fn output_dim(&self) -> usize {
        self.input_dim()
    }

    fn config(&self) -> ModernBertEncoderConfig {
        let first = &self.layers[0];
        ModernBertEncoderConfig {
            hidden_size: self.input_dim(),
            num_attention_heads: first.attn.num_heads,
            intermediate_size: self.intermediate_size,
            hidden_activation: self.hidden_activation,
            norm_eps: self.norm_eps,
            norm_bias: self.final_norm.beta.is_some(),
            attention_bias: self.attention_bias,
            mlp_bias: self.mlp_bias,
            layer_types: self
                .layers
                .iter()
                .map(|l| {
                    if l.local {
                        AttentionSpan::Local
                    } else {
                        AttentionSpan::Global
                    }
                })
                .collect(),
            global_rope_theta: self.global_rope_theta,
            local_rope_theta: self.local_rope_theta,
            local_attention: self.local_attention,
            attention_dropout: first.attn.drop.prob,
            mlp_dropout: first.mlp.drop.prob,
        }
    }

    fn from_config(
        config: &ModernBertEncoderConfig,
        device: &Device,
    ) -> Result<Self, ContextualError> {
        config.validate()?;
        let h = config.hidden_size;
        let linear = |i, o, bias| {
            LinearConfig::new(i, o)
                .with_bias(bias)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device)
        };
        let norm = || {
            LayerNormConfig::new(h)
                .with_epsilon(config.norm_eps)
                .with_bias(config.norm_bias)
                .init(device)
        };
        let layers = config
            .layer_types
            .iter()
            .enumerate()
            .map(|(i, span)| ModernBertLayer {
                attn_norm: (i > 0).then(norm),
                attn: ModernBertAttention {
                    wqkv: linear(h, 3 * h, config.attention_bias),
                    wo: linear(h, h, config.attention_bias),
                    drop: DropoutConfig::new(config.attention_dropout).init(),
                    num_heads: config.num_attention_heads,
                },
                mlp_norm: norm(),
                mlp: ModernBertMlp {
                    wi: linear(h, 2 * config.intermediate_size, config.mlp_bias),
                    wo: linear(config.intermediate_size, h, config.mlp_bias),
                    drop: DropoutConfig::new(config.mlp_dropout).init(),
                },
                local: *span == AttentionSpan::Local,
            })
            .collect();
        Ok(Self {
            layers,
            final_norm: norm(),
            hidden_activation: config.hidden_activation,
            intermediate_size: config.intermediate_size,
            norm_eps: config.norm_eps,
            attention_bias: config.attention_bias,
            mlp_bias: config.mlp_bias,
            global_rope_theta: config.global_rope_theta,
            local_rope_theta: config.local_rope_theta,
            local_attention: config.local_attention,
        })
    }
}
