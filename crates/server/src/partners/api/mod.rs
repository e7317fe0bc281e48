//! The partner program's JSON API, by topic: the program itself (partners, agreements,
//! scorecards, alerts, fees, statements), routing (rules, queues, escalating and swarming)
//! and training (courses and tests).

pub mod program;
pub mod routing;
pub mod training;
