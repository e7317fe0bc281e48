//! Typed identifiers, so a case id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
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
