//! Talking to Azure: clouds and endpoints, credentials, and one HTTP client with paging, retries and throttling
//! handling for Microsoft Graph and Azure Resource Manager. Knows nothing of snapshots.

pub mod client;
pub mod cloud;
pub mod credential;
pub mod error;
pub mod items;
pub mod pace;
mod reply;
pub mod retry;

pub use client::{AzureClient, Service};
pub use cloud::{Cloud, Endpoints};
pub use error::ApiError;
