//! AdamW, the optimizer of every training loop here.
//!
//! On libtorch (CPU and CUDA) each parameter's step is one in-place call of libtorch's fused
//! kernel, `_fused_adamw_` (what `torch.optim.AdamW(fused=True)` runs), instead of burn's
//! fifteen element-wise ops, each writing a fresh buffer: on a GPU that is one kernel launch per
//! parameter tensor instead of fifteen. Elsewhere, and with [`crate::Kernels::Burn`] or [`crate::Kernels::FusedOpsOnly`], burn's
//! [`burn::optim::AdamW`] runs. Both keep burn's [`AdamWState`], so a checkpoint written by one
//! resumes with the other.

use burn::optim::{AdamWConfig, AdamWState, LearningRate, ModuleOptimizer, Optimizer};
use burn::prelude::*;

/// β₁, β₂ and ε of every AdamW here (PyTorch's defaults, with ε = 1e-8).
const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// AdamW (β = 0.9, 0.999; ε = 1e-8) with decoupled `weight_decay`, for a whole module.
///
/// ```
/// use burn::nn::LinearConfig;
/// use burn::optim::GradientsParams;
/// use burn::prelude::*;
///
/// let device = Device::default().autodiff();
/// let layer = LinearConfig::new(4, 2).init(&device);
/// let mut optimizer = transfer_kernels::adamw(0.01);
/// let loss = layer.forward(Tensor::<2>::ones([3, 4], &device)).sum();
/// let grads = GradientsParams::from_grads(loss.backward(), &layer);
/// let layer = optimizer.step(1e-3, layer, grads);
/// assert_eq!(layer.weight.dims(), [4, 2]);
/// ```
pub fn adamw(weight_decay: f64) -> ModuleOptimizer {
    ModuleOptimizer::from(AdamW::new(weight_decay))
}

/// AdamW on one parameter at a time (see the module docs); [`adamw`] wraps it for a module.
#[derive(Clone)]
pub struct AdamW {
    burn: burn::optim::AdamW,
    #[cfg(feature = "tch")]
    weight_decay: f32,
    #[cfg(feature = "tch")]
    step_counts: libtorch::StepCounts,
}

impl AdamW {
    /// AdamW with decoupled `weight_decay`.
    pub fn new(weight_decay: f64) -> Self {
        let weight_decay = weight_decay as f32;
        Self {
            burn: AdamWConfig::new()
                .with_beta_1(BETA_1)
                .with_beta_2(BETA_2)
                .with_epsilon(EPSILON)
                .with_weight_decay(weight_decay)
                .build(),
            #[cfg(feature = "tch")]
            weight_decay,
            #[cfg(feature = "tch")]
            step_counts: Default::default(),
        }
    }
}

impl Optimizer for AdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        #[cfg(feature = "tch")]
        let (tensor, grad, state) = match libtorch::step(self, lr, tensor, grad, state) {
            Ok(done) => return done,
            Err(inputs) => *inputs,
        };
        self.burn.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <burn::optim::AdamW as Optimizer>::to_device(state, device)
    }
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch: deprecated in burn 0.22, and our libtorch backend
mod libtorch {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use burn::backend::LibTorch;
    use burn::backend::libtorch::TchTensor;
    use burn::optim::{AdamWState, AdaptiveMomentumState, LearningRate};
    use burn::prelude::*;

    use super::{AdamW, BETA_1, BETA_2, EPSILON};
    use crate::libtorch_ffi::{AdamWStep, fused_adamw};

    /// Set when libtorch refused the fused step once: burn's AdamW from then on.
    static REFUSED: AtomicBool = AtomicBool::new(false);

    /// Fused steps taken (the tests check that the fused kernel ran).
    #[cfg(test)]
    pub(super) static FUSED_STEPS: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);

    /// The step count as a float scalar on the device (what `_fused_adamw_` reads), made once
    /// per step and device and shared by all parameters: no host-to-device copy in the step.
    #[derive(Clone, Default)]
    pub(super) struct StepCounts(Arc<Mutex<Option<(usize, tch::Device, tch::Tensor)>>>);

    impl StepCounts {
        fn get(&self, time: usize, device: tch::Device) -> tch::Tensor {
            let mut cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match &*cached {
                Some((t, d, count)) if *t == time && *d == device => count.shallow_clone(),
                _ => {
                    let count =
                        tch::Tensor::full([] as [i64; 0], time as f64, (tch::Kind::Float, device));
                    *cached = Some((time, device, count.shallow_clone()));
                    count
                }
            }
        }
    }

    /// The inputs, handed back for burn's AdamW.
    type Inputs<const D: usize> = Box<(Tensor<D>, Tensor<D>, Option<AdamWState<D>>)>;

    /// One fused step, or the inputs back when they are not all plain libtorch float tensors
    /// of one kind and device (or the fused ops are off).
    pub(super) fn step<const D: usize>(
        adamw: &AdamW,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamWState<D>>,
    ) -> Result<(Tensor<D>, Option<AdamWState<D>>), Inputs<D>> {
        if !crate::Kernels::current().fused_optimizer()
            || REFUSED.load(Ordering::Relaxed)
            || state
                .as_ref()
                .is_some_and(|s| s.momentum.max_moment_2.is_some())
        {
            return Err(Box::new((tensor, grad, state)));
        }
        let (param, grad, moments) = take(tensor, grad, state)?;
        let param = writable(param);
        let grad = grad.tensor.contiguous();
        let earlier = moments.as_ref().map(|(time, _, _)| *time);
        let (exp_avg, exp_avg_sq) = match moments {
            Some((_, m, v)) => (writable(m), writable(v)),
            None => {
                let zeros = || TchTensor::new(param.tensor.zeros_like());
                (zeros(), zeros())
            }
        };
        let time = earlier.unwrap_or(0) + 1;
        let count = adamw.step_counts.get(time, param.tensor.device());
        let step = AdamWStep {
            lr,
            beta_1: f64::from(BETA_1),
            beta_2: f64::from(BETA_2),
            weight_decay: f64::from(adamw.weight_decay),
            epsilon: f64::from(EPSILON),
        };
        let result = fused_adamw(
            &[&param.tensor],
            &[&grad],
            &[&exp_avg.tensor],
            &[&exp_avg_sq.tensor],
            &[&count],
            &step,
        );
        let state = |time, m, v| {
            AdamWState::new(AdaptiveMomentumState {
                time,
                moment_1: Tensor::from_primitive::<LibTorch>(m),
                moment_2: Tensor::from_primitive::<LibTorch>(v),
                max_moment_2: None,
            })
        };
        let param_out = Tensor::from_primitive::<LibTorch>(param);
        let Err(message) = result else {
            #[cfg(test)]
            FUSED_STEPS.fetch_add(1, Ordering::Relaxed);
            return Ok((param_out, Some(state(time, exp_avg, exp_avg_sq))));
        };
        if !REFUSED.swap(true, Ordering::Relaxed) {
            eprintln!("libtorch's fused AdamW failed ({message}); burn's AdamW from now on");
        }
        // Nothing was written: libtorch checks its inputs first.
        let grad = Tensor::from_primitive::<LibTorch>(TchTensor::new(grad));
        let state = earlier.map(|time| state(time, exp_avg, exp_avg_sq));
        Err(Box::new((param_out, grad, state)))
    }

    type Moments = Option<(usize, TchTensor, TchTensor)>;

    /// The libtorch tensors inside, when all are plain float tensors of one kind, shape and
    /// device; else the inputs unchanged.
    #[allow(clippy::type_complexity)]
    fn take<const D: usize>(
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamWState<D>>,
    ) -> Result<(TchTensor, TchTensor, Moments), Inputs<D>> {
        let moments = state
            .as_ref()
            .map(|s| (&s.momentum.moment_1, &s.momentum.moment_2));
        let all: Vec<&Tensor<D>> = [&tensor, &grad]
            .into_iter()
            .chain(moments.into_iter().flat_map(|(m, v)| [m, v]))
            .collect();
        let tch: Option<Vec<TchTensor>> = all
            .iter()
            .map(|t| {
                (!t.is_autodiff())
                    .then(|| (*t).clone().try_into_primitive::<LibTorch>().ok())
                    .flatten()
            })
            .collect();
        let Some(tch) = tch else {
            return Err(Box::new((tensor, grad, state)));
        };
        let first = &tch[0].tensor;
        let alike = tch.iter().all(|t| {
            t.tensor.kind() == first.kind()
                && t.tensor.device() == first.device()
                && t.tensor.size() == first.size()
        });
        if !alike || !first.is_floating_point() {
            return Err(Box::new((tensor, grad, state)));
        }
        let time = state.as_ref().map(|s| s.momentum.time);
        // Our copies are the only handles left when the originals go.
        drop((tensor, grad, state));
        let mut tch = tch.into_iter();
        let (param, grad) = (tch.next().expect("param"), tch.next().expect("grad"));
        let moments = time.map(|time| {
            (
                time,
                tch.next().expect("moment 1"),
                tch.next().expect("moment 2"),
            )
        });
        Ok((param, grad, moments))
    }

    /// `x`, or a contiguous copy when its buffer is shared (a model clone elsewhere holds it)
    /// or strided: the fused step writes in place.
    fn writable(x: TchTensor) -> TchTensor {
        if !x.tensor.is_contiguous() {
            TchTensor::new(x.tensor.contiguous())
        } else if x.can_mut() {
            x
        } else {
            TchTensor::new(x.tensor.copy())
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, Param};
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
    use burn::prelude::*;

    use super::adamw;

    const WEIGHT_DECAY: f64 = 0.01;

    /// `steps` steps of `optimizer` on `layer`, each on the squared error of a seeded batch;
    /// learning rates change per step as under a schedule.
    fn train(
        mut layer: Linear,
        optimizer: &mut ModuleOptimizer,
        steps: std::ops::Range<u64>,
    ) -> Linear {
        let device = layer.weight.device();
        for step in steps {
            let x = normal([5, 6], step, &device);
            let y = normal([5, 3], step + 100, &device);
            let loss = (layer.forward(x) - y).square().sum();
            let grads = GradientsParams::from_grads(loss.backward(), &layer);
            layer = optimizer.step(1e-2 / (step + 1) as f64, layer, grads);
        }
        layer
    }

    fn assert_close(a: &Linear, b: &Linear) {
        let (a, b) = (a.clone().valid(), b.clone().valid());
        a.weight.val().into_data().assert_approx_eq::<f32>(
            &b.weight.val().into_data(),
            burn::tensor::Tolerance::absolute(2e-6),
        );
        let (ab, bb) = (a.bias.expect("bias").val(), b.bias.expect("bias").val());
        ab.into_data()
            .assert_approx_eq::<f32>(&bb.into_data(), burn::tensor::Tolerance::absolute(2e-6));
    }

    fn burn_adamw() -> ModuleOptimizer {
        AdamWConfig::new()
            .with_weight_decay(WEIGHT_DECAY as f32)
            .with_epsilon(1e-8)
            .init()
    }

    /// Made on the host from `seed` (tests run in parallel, and the device's generator is
    /// global): spread over about [-1.7, 1.7], different for every seed and position.
    fn normal<const D: usize>(shape: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
        let values: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|i| 1.7 * ((i as f32 + 1.0) * 12.9898 + seed as f32 * 78.233).sin())
            .collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn layer(device: &Device) -> Linear {
        let device = device.clone().autodiff();
        let mut layer = LinearConfig::new(6, 3).init(&device);
        layer.weight = Param::from_tensor(normal([6, 3], 7, &device).mul_scalar(0.3));
        layer.bias = Some(Param::from_tensor(normal([3], 8, &device).mul_scalar(0.3)));
        layer
    }

    /// On the default backend ours is burn's AdamW.
    #[test]
    fn equals_burns_adamw_on_the_default_backend() {
        let start = layer(&Device::default());
        let ours = train(start.clone(), &mut adamw(WEIGHT_DECAY), 0..5);
        let burns = train(start, &mut burn_adamw(), 0..5);
        assert_close(&ours, &burns);
    }

    #[cfg(feature = "tch")]
    #[allow(deprecated)] // burn-tch
    mod on_libtorch {
        use std::sync::atomic::Ordering;

        use burn::tensor::Bytes;

        use super::super::libtorch::FUSED_STEPS;
        use super::*;

        /// libtorch's CPU, or CUDA device 0 with `TRANSFER_TEST_CUDA=1`.
        fn device() -> Device {
            if std::env::var("TRANSFER_TEST_CUDA").as_deref() == Ok("1") {
                Device::libtorch_cuda(0)
            } else {
                Device::libtorch()
            }
        }

        /// The fused kernel gives burn's AdamW's parameters, and leaves the model it started
        /// from (which shares its buffers) untouched.
        #[test]
        fn fused_step_equals_burns_and_writes_no_shared_buffer() {
            let start = layer(&device());
            let before = start.weight.val().into_data();
            let fused = FUSED_STEPS.load(Ordering::Relaxed);
            let ours = train(start.clone(), &mut adamw(WEIGHT_DECAY), 0..6);
            // Weight and bias, six steps each (other tests may add theirs).
            assert!(FUSED_STEPS.load(Ordering::Relaxed) >= fused + 12);
            let burns = train(start.clone(), &mut burn_adamw(), 0..6);
            assert_close(&ours, &burns);
            assert_eq!(start.weight.val().into_data(), before);
            assert_ne!(ours.weight.val().into_data(), before);
        }

        /// A transposed (strided) parameter, as loaded from PyTorch's linear layers.
        #[test]
        fn fused_step_takes_strided_parameters() {
            let mut start = layer(&device());
            let weight = start.weight.val().inner();
            let strided = Tensor::<2>::from_data(weight.transpose().into_data(), &device());
            let strided = strided.transpose();
            let tch = strided
                .clone()
                .try_into_primitive::<burn::backend::LibTorch>();
            assert!(!tch.expect("a libtorch tensor").tensor.is_contiguous());
            start.weight = Param::from_tensor(Tensor::from_inner(strided).require_grad());
            let ours = train(start.clone(), &mut adamw(WEIGHT_DECAY), 0..3);
            let burns = train(start, &mut burn_adamw(), 0..3);
            assert_close(&ours, &burns);
        }

        /// A checkpoint of the fused optimizer's state resumes where it left off.
        #[test]
        fn fused_state_saves_and_resumes() {
            let start = layer(&device());
            let straight = train(start.clone(), &mut adamw(WEIGHT_DECAY), 0..4);
            let mut first = adamw(WEIGHT_DECAY);
            let half = train(start, &mut first, 0..2);
            let bytes = first.into_bytes().expect("saves");
            let mut resumed = adamw(WEIGHT_DECAY)
                .from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
                .expect("loads");
            let resumed = train(half, &mut resumed, 2..4);
            assert_close(&resumed, &straight);
        }
    }
}
