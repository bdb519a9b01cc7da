// libtorch ops that tch 0.22 does not bind: AdamW's fused kernel, gradient clipping over a
// list of tensors (multi-tensor kernels on CUDA) and LayerNorm's backward kernel. The tensors
// are tch's handles (`at::Tensor *`); each function returns null, or the error (free it with
// transfer_free_error).
#include <ATen/core/Tensor.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/_fused_adamw.h>
#include <ATen/ops/linalg_vector_norm.h>
#include <ATen/ops/native_layer_norm_backward.h>
#include <ATen/ops/stack.h>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

namespace {
std::vector<at::Tensor> list(at::Tensor *const *tensors, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(*tensors[i]);
  return out;
}

// Runs f; no C++ exception crosses into Rust.
template <typename F>
char *guarded(F f) {
  try {
    f();
    return nullptr;
  } catch (const c10::Error &e) {
    return strdup(e.what_without_backtrace());
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
}
}  // namespace

// AdamW (`_fused_adamw_`): updates params, exp_avgs and exp_avg_sqs in place; steps hold each
// parameter's step count (after this step) as a float scalar on its device.
extern "C" char *transfer_fused_adamw(at::Tensor *const *params, at::Tensor *const *grads,
                                      at::Tensor *const *exp_avgs,
                                      at::Tensor *const *exp_avg_sqs,
                                      at::Tensor *const *steps, size_t n, double lr,
                                      double beta1, double beta2, double weight_decay,
                                      double eps) {
  return guarded([&] {
    at::_fused_adamw_(list(params, n), list(grads, n), list(exp_avgs, n),
                      list(exp_avg_sqs, n), {}, list(steps, n), lr, beta1, beta2,
                      weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false);
  });
}

// The gradients times min(1, max_norm / (‖g‖ + 1e-6)), ‖g‖ their global L2 norm (as
// torch.nn.utils.clip_grad_norm_), into `scaled`: new tensors, owned by the caller.
extern "C" char *transfer_clip_grad_norm(at::Tensor *const *grads, size_t n, double max_norm,
                                         at::Tensor **scaled) {
  return guarded([&] {
    auto g = list(grads, n);
    auto total = at::linalg_vector_norm(at::stack(at::_foreach_norm(g, 2)), 2);
    auto factor = total.add(1e-6).reciprocal().mul(max_norm).clamp_max(1.0);
    auto out = at::_foreach_mul(g, factor);
    for (size_t i = 0; i < n; ++i) scaled[i] = new at::Tensor(std::move(out[i]));
  });
}

// LayerNorm's backward over the last dimension (`native_layer_norm_backward`, one kernel):
// the gradients of the input, gamma and beta where `wanted` says so, else null, into `out`:
// new tensors, owned by the caller.
extern "C" char *transfer_layer_norm_backward(const at::Tensor *grad_out, const at::Tensor *input,
                                              int64_t width, const at::Tensor *mean,
                                              const at::Tensor *rstd, const at::Tensor *gamma,
                                              const at::Tensor *beta, const bool *wanted,
                                              at::Tensor **out) {
  return guarded([&] {
    auto [dx, dgamma, dbeta] = at::native_layer_norm_backward(
        *grad_out, *input, {width}, *mean, *rstd, *gamma, *beta, {wanted[0], wanted[1], wanted[2]});
    at::Tensor grads[3] = {std::move(dx), std::move(dgamma), std::move(dbeta)};
    for (size_t i = 0; i < 3; ++i)
      out[i] = wanted[i] && grads[i].defined() ? new at::Tensor(std::move(grads[i])) : nullptr;
  });
}

extern "C" void transfer_free_error(char *error) { free(error); }
