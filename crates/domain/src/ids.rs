//! Typed identifiers, so a case id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organisation: a customer or a partner.
    OrgId
);
id_type!(
    /// A person who signs in: vendor staff, partner technician or customer.
    UserId
);
id_type!(
    /// A support case. Its number, shown to people, is the same value.
    CaseId
);
id_type!(
    /// A public reply or internal note on a case.
    CommentId
);
id_type!(
    /// A knowledge article.
    ArticleId
);
id_type!(
    /// A service customers use, shown on the status page.
    ServiceId
);
id_type!(
    /// An incident, formal or internal, or a drill.
    IncidentId
);
id_type!(
    /// A group of signals about one service, waiting to be qualified.
    SignalGroupId
);
id_type!(
    /// A support queue, tiered or swarming.
    QueueId
);
id_type!(
    /// A routing rule.
    RuleId
);
id_type!(
    /// A training course with its test.
    CourseId
);
