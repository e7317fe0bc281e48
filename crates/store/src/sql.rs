//! A tiny builder for queries whose `WHERE` clause depends on the request, numbering `$N`
//! placeholders as it goes so the text stays valid on both backends.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};
use sqlx::{Any, Arguments, FromRow};

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    /// A number or NULL, typed as a number (PostgreSQL matches a `VALUES` list's columns by
    /// type, so a NULL must say what it stands for).
    MaybeInt(Option<i64>),
    MaybeText(Option<String>),
}

#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `arg`.
    pub fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends placeholders for `args`, separated by commas (the inside of an `IN (...)`).
    pub fn bind_list(&mut self, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        for (i, arg) in args.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(arg);
        }
        self
    }

    /// Appends ` AND {column} IN (...)` for `args`, or nothing when there are none (no
    /// values means no condition, not "matches nothing").
    pub fn push_in(&mut self, column: &str, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        let args: Vec<Arg> = args.into_iter().collect();
        if !args.is_empty() {
            self.push(" AND ")
                .push(column)
                .push(" IN (")
                .bind_list(args)
                .push(")");
        }
        self
    }

    /// The query, reading each row as `R`.
    pub fn query_as<R>(&self) -> QueryAs<'_, Any, R, AnyArguments<'_>>
    where
        R: for<'r> FromRow<'r, AnyRow>,
    {
        sqlx::query_as_with(&self.text, self.arguments())
    }

    /// The statement, for what it does rather than rows.
    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        sqlx::query_with(&self.text, self.arguments())
    }

    /// The bound values in placeholder order.
    fn arguments(&self) -> AnyArguments<'_> {
        let mut arguments = AnyArguments::default();
        for arg in &self.args {
            let added = match arg {
                Arg::Int(v) => arguments.add(*v),
                Arg::Text(v) => arguments.add(v.as_str()),
                Arg::MaybeInt(v) => arguments.add(*v),
                Arg::MaybeText(v) => arguments.add(v.as_deref()),
            };
            // The `Any` driver stores numbers, text and NULLs as they are: adding one cannot fail.
            added.expect("a number, a text or a NULL is always a valid argument");
        }
        arguments
    }
}
