// AdamW over a list of parameters in libtorch's fused kernel (`_fused_adamw_`, CPU and CUDA),
// which tch 0.22 does not bind. The tensors are tch's handles (`at::Tensor *`).
#include <ATen/core/Tensor.h>
#include <ATen/ops/_fused_adamw.h>
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
}  // namespace

// Updates params, exp_avgs and exp_avg_sqs in place; steps hold each parameter's step count
// (after this step) as a float scalar on its device. Returns null, or the error (free it with
// transfer_free_error).
extern "C" char *transfer_fused_adamw(at::Tensor *const *params, at::Tensor *const *grads,
                                      at::Tensor *const *exp_avgs,
                                      at::Tensor *const *exp_avg_sqs,
                                      at::Tensor *const *steps, size_t n, double lr,
                                      double beta1, double beta2, double weight_decay,
                                      double eps) {
  try {
    at::_fused_adamw_(list(params, n), list(grads, n), list(exp_avgs, n),
                      list(exp_avg_sqs, n), {}, list(steps, n), lr, beta1, beta2,
                      weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false);
    return nullptr;
  } catch (const c10::Error &e) {
    return strdup(e.what_without_backtrace());
  } catch (const std::exception &e) {
    return strdup(e.what());
  }
}

extern "C" void transfer_free_error(char *error) { free(error); }
