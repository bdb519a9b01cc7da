// LD_PRELOAD shim: records every libtorch op (and, with TORCH_TRACE_CUDA=1, every CUDA kernel)
// of any program that uses libtorch -- `transfer` or python -- into a Chrome trace at exit.
//   g++ -O2 -shared -fPIC -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 scripts/profile/torch_trace.cpp \
//     -I$T/include -I$T/include/torch/csrc/api/include -L$T/lib -Wl,--no-as-needed -ltorch_cuda -ltorch_cpu -lc10 -o torch_trace.so
//   TORCH_TRACE_OUT=trace.json LD_PRELOAD=./torch_trace.so transfer speed ...
// Preload it into the libtorch program only (`timeout 60 env LD_PRELOAD=… transfer …`): every
// preloaded process writes the file at its exit, and a wrapper such as `timeout` exits last.
// ($T: site-packages/torch.) Summarise with scripts/profile/trace_ops.py.
#include <torch/csrc/autograd/profiler_kineto.h>

#include <cstdlib>
#include <set>
#include <string>

namespace {
namespace prof = torch::profiler::impl;

std::set<prof::ActivityType> activities() {
  std::set<prof::ActivityType> a{prof::ActivityType::CPU};
  const char* cuda = std::getenv("TORCH_TRACE_CUDA");
  if (cuda && std::string(cuda) == "1") a.insert(prof::ActivityType::CUDA);
  return a;
}

// The profiler's state is thread-local to the main thread, and a thread's thread-locals are
// destroyed at exit in the reverse order of their construction: one made after enabling the
// profiler is destroyed while the profiler's state still exists.
struct StopAtExit {
  ~StopAtExit() {
    auto result = torch::autograd::profiler::disableProfiler();
    if (result) result->save(std::getenv("TORCH_TRACE_OUT"));
  }
};

__attribute__((constructor)) void start() {
  if (!std::getenv("TORCH_TRACE_OUT")) return;
  prof::ProfilerConfig config(prof::ProfilerState::KINETO);
  torch::autograd::profiler::prepareProfiler(config, activities());
  torch::autograd::profiler::enableProfiler(config, activities());
  static thread_local StopAtExit stop;
  (void)&stop;
}
}  // namespace
