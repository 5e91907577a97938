//! Everything that can happen in a run, and what each event carries. A leaf:
//! it imports only the request reference and the engine, so every component
//! can schedule events without depending on the world.

use super::ids::{ClientId, ConnId, NodeId, OpRef, QueryRef};
use super::protocol::SlotRef;
use super::request::ReqRef;

/// Everything that can happen.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next request arrives.
    Arrival,
    /// A timeline bucket ends.
    Tick,
    /// A fault changes phase.
    Fault {
        /// Index in the model's fault list.
        index: u16,
        /// What happens now.
        action: FaultAction,
    },
    /// A `work` step ends.
    Work(ReqRef),
    /// A request's patience in the front-end queue ends (503).
    FrontendQueueTimeout(ReqRef),
    /// A request's `timeout server` ends (504).
    FrontendServerTimeout(ReqRef),
    /// A database query's execution ends.
    DbDone(QueryRef),
    /// A wait for a database connection times out.
    DbTimeout(QueryRef),
    /// A database caller's deadline passes.
    DbDeadline(QueryRef),
    /// A request's sleep before retrying a failed database call ends.
    DbRetry(ReqRef),
    /// An upstream layer sends a failed request again.
    UpstreamRetry(ReqRef),
    /// A bulkhead caller's deadline.
    BulkheadDeadline(ReqRef),
    /// A client op's caller timeout.
    OpTimeout {
        /// Client.
        client: ClientId,
        /// The op.
        op: OpRef,
    },
    /// A message reaches the node end of a connection.
    ToNode {
        /// Connection.
        conn: ConnId,
        /// Its generation when sent.
        generation: u32,
    },
    /// A message reaches the client end of a connection.
    ToClient {
        /// Connection.
        conn: ConnId,
        /// Its generation when sent.
        generation: u32,
    },
    /// A node worker finishes a request.
    NodeDone {
        /// Global node.
        node: NodeId,
        /// Worker.
        worker: u16,
        /// Service serial.
        serial: u32,
    },
    /// A connect attempt (SYN) reaches a node.
    ConnectArrive {
        /// Connection.
        conn: ConnId,
        /// Its generation.
        generation: u32,
    },
    /// A client timer or notification.
    Client {
        /// Client.
        client: ClientId,
        /// What.
        timer: ClientTimer,
    },
    /// A resilience retry's sleep ends (the call's slot).
    Retry(SlotRef),
    /// A proxy tier's thread finishes handling a message (`sim::proxy`).
    Proxy(SlotRef),
    /// A lease on a key of a node is due to end.
    LeaseEnd {
        /// Global node.
        node: NodeId,
        /// Key.
        key: u32,
    },
}

/// A phase change of a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// The fault begins.
    Start,
    /// A duty cycle or flapping fault switches phase.
    Toggle,
    /// A frozen node's host goes down for the reboot.
    RebootDown,
    /// A fault on a duty cycle enters an on phase (applied again).
    CycleOn,
    /// A fault on a duty cycle enters an off phase (lifted for a while).
    CycleOff,
    /// The fault ends.
    End,
}

/// Client timers and notifications that are not op timeouts or replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// A reconnect to a node is due.
    Reconnect(NodeId),
    /// The result of a connect attempt arrives.
    ConnectResult {
        /// Global node.
        node: NodeId,
        /// What became of it.
        outcome: ConnectOutcome,
        /// The connection generation of the attempt.
        generation: u32,
    },
    /// The node reset the connection (a crash, or a rebooted host).
    Reset(NodeId),
    /// The I/O thread is free again after a stall.
    IoFree,
    /// The I/O thread's select timeout (`wakeupDelay`).
    Wakeup,
    /// Deliver a cancellation to the caller of an op (progressive
    /// cancellation during the discard-logging stall).
    Cancel(u32),
    /// The noop sent by `verifyAliveOnConnect` got no reply in time.
    VerifyDeadline {
        /// Global node.
        node: NodeId,
        /// The connection generation of the attempt.
        generation: u32,
    },
}

/// What became of a connect attempt, as the client learns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// The kernel completed the handshake.
    Accepted,
    /// Connection refused (RST): nothing listens on the port.
    Refused,
    /// No answer before the client's (or the OS's) connect timeout.
    TimedOut,
}
