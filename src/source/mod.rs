//! Raw record shapes as shippers carry them, and how the rule's ECS fields are derived from them the way
//! Elastic's ingest pipelines do. `argv` holds the command-line splitters and image-path basenames.

pub mod argv;
