//! Sign-in on the server: password hashing, session tokens and cookies, the login flow, the
//! identity that every request carries once its session is resolved, and managing users
//! and their passwords.

pub mod login;
pub mod password;
pub mod service_key;
pub mod session;
pub mod users;

pub use session::Identity;
