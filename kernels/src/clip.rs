//! Gradient clipping by the global L2 norm, as `torch.nn.utils.clip_grad_norm_`.
//!
//! On libtorch the norm and the scaling are libtorch's multi-tensor ops (`_foreach_norm`,
//! `_foreach_mul`: a few kernels for all parameters on a GPU); elsewhere, and with
//! [`crate::Kernels::Burn`] or [`crate::Kernels::FusedOpsOnly`], burn's ops, four per parameter
//! tensor.

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Scales all gradients of `model` (in one or several sets, as when each stage has its own
/// learning rate) so that their global L2 norm is at most `max_norm`.
///
/// ```
/// use burn::nn::LinearConfig;
/// use burn::optim::GradientsParams;
/// use burn::prelude::*;
///
/// let device = Device::default().autodiff();
/// let layer = LinearConfig::new(4, 2).init(&device);
/// let loss = layer.forward(Tensor::<2>::ones([3, 4], &device)).sum().mul_scalar(100.0);
/// let mut grads = [GradientsParams::from_grads(loss.backward(), &layer)];
/// transfer_kernels::clip_global_norm(&layer, &mut grads, 1.0);
/// let weight = grads[0].get::<2>(layer.weight.id).unwrap();
/// let bias = grads[0].get::<1>(layer.bias.as_ref().unwrap().id).unwrap();
/// let norm = (weight.square().sum() + bias.square().sum()).sqrt().into_scalar::<f32>();
/// assert!((norm - 1.0).abs() < 1e-4);
/// ```
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut [GradientsParams], max_norm: f64) {
    #[cfg(feature = "tch")]
    if crate::Kernels::current().fused_optimizer() && libtorch::clip(model, grads, max_norm) {
        return;
    }
    with_burn(model, grads, max_norm);
}

/// [`clip_global_norm`] with burn's ops.
fn with_burn<M: Module>(model: &M, grads: &mut [GradientsParams], max_norm: f64) {
    let mut norm = SquaredNorm { grads, total: None };
    model.visit(&mut norm);
    let Some(total) = norm.total else { return };
    // min(1, max_norm / ‖g‖) stays on the device: no host round trip inside the step.
    let factor = (total.sqrt() + 1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    model.visit(&mut Scale { grads, factor });
}

struct SquaredNorm<'a> {
    grads: &'a [GradientsParams],
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        for grads in self.grads {
            if let Some(g) = grads.get::<D>(param.id) {
                let s = g.square().sum();
                self.total = Some(match self.total.take() {
                    Some(t) => t + s,
                    None => s,
                });
            }
        }
    }
}

struct Scale<'a> {
    grads: &'a mut [GradientsParams],
    factor: Tensor<1>,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        for grads in self.grads.iter_mut() {
            if let Some(g) = grads.remove::<D>(param.id) {
                grads.register(param.id, g.mul(self.factor.clone().reshape([1; D])));
            }
        }
    }
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch: deprecated in burn 0.22, and our libtorch backend
mod libtorch {
    use burn::backend::LibTorch;
    use burn::backend::libtorch::TchTensor;
    use burn::module::{ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use burn::prelude::*;

    /// Clips on libtorch; false (nothing changed) when a gradient is not a libtorch tensor.
    pub(super) fn clip<M: Module>(model: &M, grads: &mut [GradientsParams], max_norm: f64) -> bool {
        let mut gather = Gather {
            grads,
            found: Vec::new(),
            all_libtorch: true,
        };
        model.visit(&mut gather);
        if !gather.all_libtorch || gather.found.is_empty() {
            return false;
        }
        let found: Vec<&tch::Tensor> = gather.found.iter().map(|t| &t.tensor).collect();
        let scaled = match crate::libtorch_ffi::clip_grad_norm(&found, max_norm) {
            Ok(scaled) => scaled,
            Err(message) => {
                eprintln!("libtorch's gradient clipping failed ({message}); burn's ops instead");
                return false;
            }
        };
        model.visit(&mut Replace {
            grads,
            scaled: scaled.into_iter(),
        });
        true
    }

    /// The gradients as libtorch tensors, in the model's order.
    struct Gather<'a> {
        grads: &'a [GradientsParams],
        found: Vec<TchTensor>,
        all_libtorch: bool,
    }

    impl ModuleVisitor for Gather<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            for grads in self.grads {
                if let Some(g) = grads.get::<D>(param.id) {
                    match g.try_into_primitive::<LibTorch>() {
                        Ok(t) => self.found.push(t),
                        Err(_) => self.all_libtorch = false,
                    }
                }
            }
        }
    }

    /// Puts the scaled gradients back, in the same order.
    struct Replace<'a> {
        grads: &'a mut [GradientsParams],
        scaled: std::vec::IntoIter<tch::Tensor>,
    }

    impl ModuleVisitor for Replace<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            for grads in self.grads.iter_mut() {
                if grads.remove::<D>(param.id).is_some() {
                    let g = self
                        .scaled
                        .next()
                        .expect("one scaled gradient per gradient");
                    grads.register(
                        param.id,
                        Tensor::<D>::from_primitive::<LibTorch>(TchTensor::new(g)),
                    );
                }
            }
        }
    }
}

#[cfg(all(test, feature = "tch"))]
#[allow(deprecated)] // burn-tch
mod tests {
    use burn::nn::{Linear, LinearConfig};

    use super::*;

    fn grads(layer: &Linear, scale: f32) -> Vec<GradientsParams> {
        let device = layer.weight.device();
        let x = Tensor::<1, Int>::arange(0..12, &device)
            .float()
            .reshape([3, 4]);
        let loss = layer.forward(x).square().sum().mul_scalar(scale);
        vec![GradientsParams::from_grads(loss.backward(), layer)]
    }

    fn values(layer: &Linear, grads: &[GradientsParams]) -> Vec<TensorData> {
        let g = &grads[0];
        let weight = g.get::<2>(layer.weight.id).expect("weight gradient");
        let bias = g
            .get::<1>(layer.bias.as_ref().expect("bias").id)
            .expect("bias gradient");
        vec![weight.into_data(), bias.into_data()]
    }

    /// libtorch's multi-tensor clipping equals burn's, when it scales (a large gradient) and
    /// when it leaves the gradients alone (a small one).
    #[test]
    fn libtorch_clipping_equals_burns() {
        let device = Device::libtorch().autodiff();
        let layer = LinearConfig::new(4, 2).init(&device);
        for scale in [10.0, 1e-3] {
            let mut ours = grads(&layer, scale);
            let mut burns = grads(&layer, scale);
            let before = values(&layer, &ours);
            assert!(libtorch::clip(&layer, &mut ours, 1.0));
            with_burn(&layer, &mut burns, 1.0);
            let (ours, burns) = (values(&layer, &ours), values(&layer, &burns));
            for ((o, b), was) in ours.iter().zip(&burns).zip(&before) {
                o.assert_approx_eq::<f32>(b, burn::tensor::Tolerance::relative(1e-5));
                assert_eq!(
                    o == was,
                    scale < 1.0,
                    "scaled only when the norm is above 1"
                );
            }
        }
    }
}
