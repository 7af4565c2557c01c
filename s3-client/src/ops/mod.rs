//! The S3 operations, grouped as the S3 API reference groups them.

pub mod bucket;
pub mod list;
mod lost;
pub mod metadata;
pub mod multipart;
pub mod object;
pub(crate) mod paging;
