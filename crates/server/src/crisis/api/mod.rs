//! The crisis management JSON API, by topic: what is set up beforehand (services, roster,
//! templates), signals, and incidents with their updates and post-mortems.

pub mod incidents;
pub mod setup;
pub mod signals;
