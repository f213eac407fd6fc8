//! The event-sourced state machine: events, the state they fold into, and the commands
//! that emit them.

mod commands;
pub mod credentials;
mod errors;
mod events;
mod state;
pub mod text;

pub use commands::{
    Deployed, DocIds, Emitter, OrgDeployment, Queued, ShieldNarrowed, Submission, queued,
};
pub use errors::RuntimeError;
pub use events::{Event, LostPayment, NotifyMode, Rematched, ShieldWidened, TaskSpec, lost_key};
pub use state::{
    Absence, Deployment, Document, ImportedInvoice, InvoiceDecision, Leaver, LostEntry, Made,
    OrgInForce, Sealed, State, Status, Task, TaskStatus,
};
