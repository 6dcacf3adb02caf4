//! Sign-in on the server: password hashing, session tokens and cookies, the login flow, and
//! the identity that every request carries once its session is resolved.

pub mod login;
pub mod password;
pub mod service_key;
pub mod session;

pub use session::Identity;
