use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bert::hands_torch_an_allow_mask;
use crate::error::check;
use crate::heads::{merge_heads, padded_keys_but_own, position_mask, split_heads};
use crate::{ContextualEmbedder, ContextualError, HiddenAct};
use transfer_kernels as fused;

/// Shape of a [`Gpt2Decoder`]; field names as in Hugging Face's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpt2DecoderConfig {
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// The feed-forward width (`n_inner`; `4 · n_embd` when the config leaves it null).
    pub n_inner: usize,
    pub activation_function: HiddenAct,
    pub layer_norm_epsilon: f64,
    pub resid_pdrop: f64,
}

impl Gpt2DecoderConfig {
    fn validate(&self) -> Result<(), ContextualError> {
        for (field, value) in [
            ("n_embd", self.n_embd),
            ("n_layer", self.n_layer),
            ("n_inner", self.n_inner),
        ] {
            check(value > 0, field, || "must be at least 1".into())?;
        }
        check(
            self.n_head > 0 && self.n_embd.is_multiple_of(self.n_head),
            "n_head",
            || format!("{} heads do not divide n_embd {}", self.n_head, self.n_embd),
        )?;
        check(
            self.layer_norm_epsilon.is_finite() && self.layer_norm_epsilon > 0.0,
            "layer_norm_epsilon",
            || format!("{} is not positive", self.layer_norm_epsilon),
        )?;
        check(
            (0.0..1.0).contains(&self.resid_pdrop),
            "resid_pdrop",
            || format!("{} is not in [0, 1)", self.resid_pdrop),
        )
    }
}

/// Hugging Face's `attn`: the packed `c_attn` projection and `c_proj` (GPT-2's `Conv1D`s are
/// linear layers stored `[in, out]`, as ours are).
#[derive(Module, Debug)]
pub struct Gpt2Attention {
    pub c_attn: Linear,
    pub c_proj: Linear,
    num_heads: usize,
}

/// Hugging Face's `mlp`: `c_fc`, the activation, `c_proj`.
#[derive(Module, Debug)]
pub struct Gpt2Mlp {
    pub c_fc: Linear,
    pub c_proj: Linear,
}

/// One pre-LayerNorm block (Hugging Face's `h.N`).
#[derive(Module, Debug)]
pub struct Gpt2Block {
    pub ln_1: LayerNorm,
    pub attn: Gpt2Attention,
    pub ln_2: LayerNorm,
    pub mlp: Gpt2Mlp,
}

/// GPT-2's decoder as a contextual embedder: causal pre-LayerNorm blocks and `ln_f`. Each
/// token sees itself and those before it, so only the last real token has read the whole
/// text: pool with `Pooling::Last`. Field names mirror Hugging Face's `h.*` and `ln_f`.
/// Attention-probability dropout is not applied; residual dropout is.
#[derive(Module, Debug)]
pub struct Gpt2Decoder {
    pub h: Vec<Gpt2Block>,
    pub ln_f: LayerNorm,
    dropout: Dropout,
    #[module(skip)]
    activation: HiddenAct,
    layer_norm_epsilon: f64,
}

/// What every block of one pass needs besides its weights.
struct Pass<'a> {
    /// `[batch, 1, seq, seq]`: later keys, and padded keys other than the query's own.
    hidden: Tensor<4, Bool>,
    libtorch_allow_mask: bool,
    decoder: &'a Gpt2Decoder,
}

impl Gpt2Block {
    fn forward(&self, x: Tensor<3>, pass: &Pass) -> Tensor<3> {
        let decoder = pass.decoder;
        let eps = decoder.layer_norm_epsilon;
        let width = x.dims()[2];
        let normed = fused::layer_norm(&self.ln_1, eps, x.clone());
        let qkv = fused::linear(&self.attn.c_attn, normed, None);
        let part =
            |i: usize| split_heads(qkv.clone().narrow(2, i * width, width), self.attn.num_heads);
        let hidden = Some(pass.hidden.clone());
        let context = fused::attention(part(0), part(1), part(2), hidden, pass.libtorch_allow_mask);
        let attended = fused::linear(&self.attn.c_proj, merge_heads(context), None);
        let x = x + fused::dropout(&decoder.dropout, attended);
        let normed = fused::layer_norm(&self.ln_2, eps, x.clone());
        let inner = decoder
            .activation
            .apply(fused::linear(&self.mlp.c_fc, normed, None));
        let out = fused::linear(&self.mlp.c_proj, inner, None);
        x + fused::dropout(&decoder.dropout, out)
    }
}

impl ContextualEmbedder for Gpt2Decoder {
    type Config = Gpt2DecoderConfig;

    fn forward(&self, embedded: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let [batch, seq, _] = embedded.dims();
        let device = embedded.device();
        let later = position_mask(seq, &device, |q, k| k > q);
        let hidden = padded_keys_but_own(mask).bool_or(later.expand([batch, 1, seq, seq]));
        let pass = Pass {
            hidden,
            libtorch_allow_mask: hands_torch_an_allow_mask(&device),
            decoder: self,
        };
        let x = self
            .h
            .iter()
            .fold(embedded, |x, block| block.forward(x, &pass));
        fused::layer_norm(&self.ln_f, self.layer_norm_epsilon, x)
    }

    fn input_dim(&self) -> usize {
        self.ln_f.gamma.lazy_shape().dims::<1>()[0]
    }

    fn output_dim(&self) -> usize {
        self.input_dim()
    }

    fn config(&self) -> Gpt2DecoderConfig {
        Gpt2DecoderConfig {
            n_embd: self.input_dim(),
            n_layer: self.h.len(),
            n_head: self.h[0].attn.num_heads,
            n_inner: self.h[0].mlp.c_fc.weight.lazy_shape().dims::<2>()[1],
            activation_function: self.activation,
            layer_norm_epsilon: self.layer_norm_epsilon,
            resid_pdrop: self.dropout.prob,
        }
    }

    fn from_config(config: &Gpt2DecoderConfig, device: &Device) -> Result<Self, ContextualError> {
        config.validate()?;
        let d = config.n_embd;
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device)
        };
        let norm = || {
            LayerNormConfig::new(d)
                .with_epsilon(config.layer_norm_epsilon)
                .init(device)
        };
        let h = (0..config.n_layer)
            .map(|_| Gpt2Block {
                ln_1: norm(),
                attn: Gpt2Attention {
                    c_attn: linear(d, 3 * d),
                    c_proj: linear(d, d),
                    num_heads: config.n_head,
                },
                ln_2: norm(),
                mlp: Gpt2Mlp {
                    c_fc: linear(d, config.n_inner),
                    c_proj: linear(config.n_inner, d),
                },
            })
            .collect();
        Ok(Self {
            h,
            ln_f: norm(),
            dropout: DropoutConfig::new(config.resid_pdrop).init(),
            activation: config.activation_function,
            layer_norm_epsilon: config.layer_norm_epsilon,
        })
    }
}
