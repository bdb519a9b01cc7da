//! Running on a machine: choosing the device, the allocator, keeping the device busy, and
//! progress bars.

pub mod allocator;
pub mod device;
pub(crate) mod overlap;
pub mod progress;
