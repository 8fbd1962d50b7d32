//! Sources of experiments: AWS FIS and CloudWatch, Chaos Toolkit journals, incident files, and the demo generator.

pub mod chaostoolkit;
pub mod cloudwatch;
pub mod demo;
pub mod fis;
pub mod fis_logs;
pub mod in_flight;
pub mod incidents;
pub mod observe;
