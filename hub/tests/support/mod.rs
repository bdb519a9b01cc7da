pub mod fake_hub;
pub mod python;
