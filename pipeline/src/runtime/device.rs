use burn::prelude::Device;

use crate::error::{Result, TransferError};

/// Parses a device name:
///
/// - `cpu` or `flex`: the pure-Rust CPU backend (the default);
/// - `tch` or `tch-cpu`: libtorch on CPU (`tch` feature);
/// - `cuda` or `cuda:N`: libtorch on CUDA GPU N (`tch` feature).
pub fn parse_device(name: &str) -> Result<Device> {
    let invalid = |why: &str| TransferError::Device(name.to_string(), why.to_string());
    match name {
        "cpu" | "flex" => Ok(Device::flex()),
        "tch" | "tch-cpu" | "libtorch" => libtorch(name, None),
        _ => {
            let index = match name.strip_prefix("cuda") {
                Some("") => 0,
                Some(rest) => rest
                    .strip_prefix(':')
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| invalid("expected cuda or cuda:N"))?,
                None => return Err(invalid("expected cpu, tch, cuda or cuda:N")),
            };
            libtorch(name, Some(index))
        }
    }
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn marks tch deprecated; libtorch is one of our two backends.
fn libtorch(_name: &str, cuda: Option<usize>) -> Result<Device> {
    Ok(match cuda {
        None => Device::libtorch(),
        Some(index) => Device::libtorch_cuda(index),
    })
}

#[cfg(not(feature = "tch"))]
fn libtorch(name: &str, _cuda: Option<usize>) -> Result<Device> {
    Err(TransferError::Device(
        name.to_string(),
        "built without the `tch` feature (cargo build --features tch)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert!(parse_device("cpu").is_ok());
        assert!(parse_device("gpu").is_err());
        assert!(parse_device("cuda:x").is_err());
        assert_eq!(parse_device("tch").is_ok(), cfg!(feature = "tch"));
    }
}
