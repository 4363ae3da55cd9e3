//! Use cases: one function per thing a person does, between HTTP (routes, which parse and render)
//! and the store. The site's pages and the API call the same functions, so they cannot disagree.

pub mod moderation;
pub mod queue;
