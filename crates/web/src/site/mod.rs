//! The site's pages (HTML), one module per audience of the platform. The JSON API is in `crate::api`;
//! both call the use cases of `crate::app`.

pub mod account;
pub mod admin;
pub mod bookings;
pub mod kit;
pub mod members;
pub mod opendata;
pub mod organiser;
pub mod proconnect;
pub mod public;
pub mod review;
pub mod seo;
pub mod stats;
pub mod tokens;
