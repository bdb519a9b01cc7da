//! With the `tch` feature: compiles `csrc/libtorch_ops.cpp` against the libtorch that torch-sys
//! found (its `lib` directory comes as `DEP_TCH_LIBTORCH_LIB`), with torch-sys's C++ ABI rule.

fn main() {
    println!("cargo:rerun-if-changed=csrc/libtorch_ops.cpp");
    #[cfg(feature = "tch")]
    libtorch::build();
}

#[cfg(feature = "tch")]
mod libtorch {
    use std::env;
    use std::path::PathBuf;
    use std::process::Command;

    pub fn build() {
        for name in [
            "LIBTORCH_USE_PYTORCH",
            "LIBTORCH_INCLUDE",
            "LIBTORCH_CXX11_ABI",
        ] {
            println!("cargo:rerun-if-env-changed={name}");
        }
        let lib = PathBuf::from(
            env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports its libtorch lib directory"),
        );
        let root = env::var("LIBTORCH_INCLUDE")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                lib.parent()
                    .expect("libtorch's lib has a parent")
                    .to_path_buf()
            });
        cc::Build::new()
            .cpp(true)
            .pic(true)
            .warnings(false)
            .include(root.join("include"))
            .flag("-std=c++17")
            .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={}", cxx11_abi()))
            .file("csrc/libtorch_ops.cpp")
            .compile("transfer_libtorch_ops");
    }

    /// As torch-sys decides it: PyTorch's own answer under `LIBTORCH_USE_PYTORCH`, else
    /// `LIBTORCH_CXX11_ABI` (default 1).
    fn cxx11_abi() -> String {
        if env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
            let python = if env::var_os("VIRTUAL_ENV").is_some() {
                "python"
            } else {
                "python3"
            };
            let output = Command::new(python)
                .args([
                    "-c",
                    "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))",
                ])
                .output()
                .unwrap_or_else(|e| panic!("running {python} to ask torch its C++ ABI: {e}"));
            let abi = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            assert!(
                abi == "0" || abi == "1",
                "{python} gave no C++ ABI for torch: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            abi
        } else {
            env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned())
        }
    }
}
