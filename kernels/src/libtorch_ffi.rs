//! libtorch ops that tch 0.22 does not bind, from `csrc/libtorch_ops.cpp`: AdamW's fused kernel,
//! gradient clipping over a list of tensors, and LayerNorm's backward kernel.

use std::ffi::{CStr, c_char};

use torch_sys::C_tensor;

unsafe extern "C" {
    fn transfer_fused_adamw(
        params: *const *const C_tensor,
        grads: *const *const C_tensor,
        exp_avgs: *const *const C_tensor,
        exp_avg_sqs: *const *const C_tensor,
        steps: *const *const C_tensor,
        n: usize,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
    ) -> *mut c_char;
    fn transfer_clip_grad_norm(
        grads: *const *const C_tensor,
        n: usize,
        max_norm: f64,
        scaled: *mut *mut C_tensor,
    ) -> *mut c_char;
    #[allow(clippy::too_many_arguments)]
    fn transfer_layer_norm_backward(
        grad_out: *const C_tensor,
        input: *const C_tensor,
        width: i64,
        mean: *const C_tensor,
        rstd: *const C_tensor,
        gamma: *const C_tensor,
        beta: *const C_tensor,
        wanted: *const bool,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn transfer_free_error(error: *mut c_char);
}

/// The hyper-parameters of one AdamW step.
pub struct AdamWStep {
    pub lr: f64,
    pub beta_1: f64,
    pub beta_2: f64,
    pub weight_decay: f64,
    pub epsilon: f64,
}

/// libtorch's message, when `error` is one.
fn checked(error: *mut c_char) -> Result<(), String> {
    if error.is_null() {
        return Ok(());
    }
    // SAFETY: a NUL-terminated string from strdup, freed once, here.
    let message = unsafe { CStr::from_ptr(error) }
        .to_string_lossy()
        .into_owned();
    unsafe { transfer_free_error(error) };
    Err(message)
}

fn handles(tensors: &[&tch::Tensor]) -> Vec<*const C_tensor> {
    tensors.iter().map(|t| t.as_ptr()).collect()
}

/// One AdamW step (`_fused_adamw_`) in place on `params`, `exp_avgs` and `exp_avg_sqs`;
/// `steps` hold each parameter's step count after this step, as float scalars on its device.
/// libtorch checks its inputs before it writes: on an error nothing changed.
pub fn fused_adamw(
    params: &[&tch::Tensor],
    grads: &[&tch::Tensor],
    exp_avgs: &[&tch::Tensor],
    exp_avg_sqs: &[&tch::Tensor],
    steps: &[&tch::Tensor],
    step: &AdamWStep,
) -> Result<(), String> {
    let n = params.len();
    assert!(
        [grads, exp_avgs, exp_avg_sqs, steps]
            .iter()
            .all(|l| l.len() == n)
    );
    let lists = [params, grads, exp_avgs, exp_avg_sqs, steps].map(handles);
    // SAFETY: five lists of n live tensors, borrowed for the call.
    checked(unsafe {
        transfer_fused_adamw(
            lists[0].as_ptr(),
            lists[1].as_ptr(),
            lists[2].as_ptr(),
            lists[3].as_ptr(),
            lists[4].as_ptr(),
            n,
            step.lr,
            step.beta_1,
            step.beta_2,
            step.weight_decay,
            step.epsilon,
        )
    })
}

/// `grads` times `min(1, max_norm / (‖g‖ + 1e-6))`, `‖g‖` their global L2 norm (as
/// `torch.nn.utils.clip_grad_norm_`): a few multi-tensor kernels in all.
pub fn clip_grad_norm(grads: &[&tch::Tensor], max_norm: f64) -> Result<Vec<tch::Tensor>, String> {
    let list = handles(grads);
    let mut scaled = vec![std::ptr::null_mut(); grads.len()];
    // SAFETY: n live tensors in, n slots out.
    checked(unsafe {
        transfer_clip_grad_norm(list.as_ptr(), list.len(), max_norm, scaled.as_mut_ptr())
    })?;
    // SAFETY: each slot holds a new `at::Tensor`, ours to own and free.
    Ok(scaled
        .into_iter()
        .map(|t| unsafe { tch::Tensor::from_ptr(t) })
        .collect())
}

/// The saved forward of a LayerNorm over the last dimension (`native_layer_norm`'s input, mean
/// and reciprocal standard deviation, and the layer's gamma and beta).
pub struct LayerNormSaved<'a> {
    pub input: &'a tch::Tensor,
    pub mean: &'a tch::Tensor,
    pub rstd: &'a tch::Tensor,
    pub gamma: &'a tch::Tensor,
    pub beta: &'a tch::Tensor,
}

/// LayerNorm's backward (`native_layer_norm_backward`, PyTorch's kernel): the gradients of the
/// input, gamma and beta for those `wanted`.
pub fn layer_norm_backward(
    grad_out: &tch::Tensor,
    saved: &LayerNormSaved,
    wanted: [bool; 3],
) -> Result<[Option<tch::Tensor>; 3], String> {
    let width = *saved
        .input
        .size()
        .last()
        .ok_or("a LayerNorm input has no dimensions")?;
    let mut out = [std::ptr::null_mut(); 3];
    // SAFETY: six live tensors borrowed for the call, three flags in, three slots out.
    checked(unsafe {
        transfer_layer_norm_backward(
            grad_out.as_ptr(),
            saved.input.as_ptr(),
            width,
            saved.mean.as_ptr(),
            saved.rstd.as_ptr(),
            saved.gamma.as_ptr(),
            saved.beta.as_ptr(),
            wanted.as_ptr(),
            out.as_mut_ptr(),
        )
    })?;
    // SAFETY: each non-null slot holds a new `at::Tensor`, ours to own and free.
    Ok(out.map(|t| (!t.is_null()).then(|| unsafe { tch::Tensor::from_ptr(t) })))
}
