//! The two pure-Rust CPU backends side by side, which chose the default (docs/backends.md):
//! MiniLM-sized BERT encoder forward and forward + backward, and a BiLSTM forward.
//!
//! cargo run --release --features ndarray --example backend_compare

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use transfer_nlp::contextual::{
    BertEncoder, BertEncoderConfig, ContextualEmbedder, HiddenAct, Lstm, LstmConfig,
};

/// Mean seconds of three runs after one warm-up.
fn seconds(mut f: impl FnMut()) -> f64 {
    f();
    let started = Instant::now();
    for _ in 0..3 {
        f();
    }
    started.elapsed().as_secs_f64() / 3.0
}

fn inputs(batch: usize, seq: usize, dim: usize, device: &Device) -> (Tensor<3>, Tensor<2, Bool>) {
    (
        Tensor::random([batch, seq, dim], Distribution::Default, device),
        Tensor::from_data(
            TensorData::new(vec![true; batch * seq], [batch, seq]),
            device,
        ),
    )
}

#[allow(deprecated)] // `Device::ndarray()`: kept in 0.22 for exactly this comparison.
fn main() {
    let minilm = BertEncoderConfig {
        hidden_size: 384,
        num_hidden_layers: 6,
        num_attention_heads: 12,
        intermediate_size: 1536,
        hidden_act: HiddenAct::Gelu,
        layer_norm_eps: 1e-12,
        hidden_dropout_prob: 0.1,
        relative_attention_num_buckets: None,
    };
    for (name, device) in [("flex", Device::flex()), ("ndarray", Device::ndarray())] {
        let bert = BertEncoder::from_config(&minilm, &device).expect("encoder");
        let (x, mask) = inputs(32, 128, 384, &device);
        let forward = seconds(|| {
            bert.forward(x.clone(), mask.clone()).into_data();
        });

        let autodiff = device.clone().autodiff();
        let bert = BertEncoder::from_config(&minilm, &autodiff).expect("encoder");
        let (x, mask) = inputs(32, 128, 384, &autodiff);
        let backward = seconds(|| {
            bert.forward(x.clone(), mask.clone()).sum().backward();
        });

        let lstm = Lstm::from_config(&LstmConfig::new(64, 64).with_bidirectional(true), &device)
            .expect("lstm");
        let (x, mask) = inputs(32, 256, 64, &device);
        let lstm = seconds(|| {
            lstm.forward(x.clone(), mask.clone()).into_data();
        });
        println!(
            "{}",
            serde_json::json!({
                "backend": name,
                "minilm_encoder_forward_32x128_s": forward,
                "minilm_encoder_forward_backward_32x128_s": backward,
                "bilstm_64_forward_32x256_s": lstm,
            })
        );
    }
}
