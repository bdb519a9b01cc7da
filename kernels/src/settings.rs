//! [`Kernels`]: which of this crate's kernels run, one typed value for the whole process.

use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// Which kernels run: every fused op and the fused optimizer (the default), or burn's own
/// ops for all or part of them, to compare. Set once at start-up with [`Kernels::set`]; the
/// `transfer` CLI sets it from `TRANSFER_FUSED` ([`Kernels::from_env`]).
///
/// ```
/// use transfer_kernels::Kernels;
///
/// let burn_only: Kernels = "0".parse()?;
/// assert_eq!(burn_only, Kernels::Burn);
/// assert!(!burn_only.fused_ops() && !burn_only.fused_optimizer());
/// assert!(Kernels::Fused.fused_ops() && Kernels::Fused.fused_optimizer());
/// assert!("fast".parse::<Kernels>().is_err());
/// # Ok::<(), transfer_kernels::KernelsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// Every fused op, fused AdamW and multi-tensor clipping (`1`, `on`, `true`, `fused`).
    #[default]
    Fused,
    /// burn's own ops and optimizer everywhere (`0`, `off`, `false`, `burn`).
    Burn,
    /// The fused ops with burn's AdamW and clipping (`ops`).
    FusedOpsOnly,
    /// As [`Kernels::Fused`], with self-attention's projections as three products instead of
    /// one packed product (`unpacked`).
    Unpacked,
    /// As [`Kernels::Fused`], with every libtorch op's backward through libtorch's autograd
    /// engine (attention's route on CUDA) instead of ours (`autograd`).
    Autograd,
}

/// A `TRANSFER_FUSED` value that names no [`Kernels`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown kernel setting {0:?}: expected one of 1, on, true, fused, 0, off, false, burn, ops, unpacked, autograd"
)]
pub struct KernelsError(pub String);

/// The current setting, as `Kernels as u8`.
static CURRENT: AtomicU8 = AtomicU8::new(Kernels::Fused as u8);

impl Kernels {
    const ALL: [Kernels; 5] = [
        Self::Fused,
        Self::Burn,
        Self::FusedOpsOnly,
        Self::Unpacked,
        Self::Autograd,
    ];

    /// The setting every op reads.
    pub fn current() -> Self {
        Self::ALL[CURRENT.load(Ordering::Relaxed) as usize]
    }

    /// Makes `self` the setting for the whole process; ops already recorded on an autodiff
    /// graph keep the route they took.
    pub fn set(self) {
        CURRENT.store(self as u8, Ordering::Relaxed);
    }

    /// `TRANSFER_FUSED` from the environment, [`Kernels::Fused`] when unset.
    pub fn from_env() -> Result<Self, KernelsError> {
        match std::env::var("TRANSFER_FUSED") {
            Ok(value) => value.parse(),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Whether the fused ops run (linear layers, LayerNorm, attention, dropout, LSTM layers,
    /// cross-entropy).
    pub fn fused_ops(self) -> bool {
        self != Self::Burn
    }

    /// Whether AdamW and gradient clipping run libtorch's fused and multi-tensor kernels.
    pub fn fused_optimizer(self) -> bool {
        !matches!(self, Self::Burn | Self::FusedOpsOnly)
    }

    /// Whether self-attention's three projections run as one packed product on libtorch.
    pub fn packed_projections(self) -> bool {
        self.fused_ops() && self != Self::Unpacked
    }

    /// Whether libtorch ops with a backward of ours may take it.
    pub fn own_backward(self) -> bool {
        self != Self::Autograd
    }
}

impl FromStr for Kernels {
    type Err = KernelsError;

    fn from_str(value: &str) -> Result<Self, KernelsError> {
        Ok(match value.trim() {
            "1" | "on" | "true" | "fused" => Self::Fused,
            "0" | "off" | "false" | "burn" => Self::Burn,
            "ops" => Self::FusedOpsOnly,
            "unpacked" => Self::Unpacked,
            "autograd" => Self::Autograd,
            other => return Err(KernelsError(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_round_trips_through_its_index() {
        for kernels in Kernels::ALL {
            assert_eq!(Kernels::ALL[kernels as usize], kernels);
        }
        assert_eq!("autograd".parse(), Ok(Kernels::Autograd));
        assert_eq!("ops".parse(), Ok(Kernels::FusedOpsOnly));
        assert_eq!("of".parse::<Kernels>(), Err(KernelsError("of".to_owned())));
    }
}
