//! How a received message is recorded: where it came in and what became of it.

use crate::string_enum;

string_enum!(
    /// The door a message came in by. All three run the same pipeline.
    MailSource { Smtp => "smtp", Imap => "imap", Pipe => "pipe" }
);

string_enum!(
    /// What became of a received message: `pending` (stored, not yet placed), `placed` (a new
    /// case or a comment), `noise` (an auto-reply, a bounce or our own mail: kept, opens
    /// nothing), `duplicate` (the same message was placed before) or `quarantined` (waits for
    /// a person, with a reason).
    InboundState {
        Pending => "pending",
        Placed => "placed",
        Noise => "noise",
        Duplicate => "duplicate",
        Quarantined => "quarantined"
    }
);
