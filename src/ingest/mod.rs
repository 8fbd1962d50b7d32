//! Sources of experiments: AWS FIS and CloudWatch, Chaos Toolkit journals, incident files, and the demo generator.

pub mod demo;
pub mod fis;
