//! A fake object host for the core's tests (`gojs.rs`, `wapc.rs`, `queued.rs` include it by
//! path): it records every op it is asked to run and answers with the test's own reply rule.

use parking_lot::Mutex;
use std::sync::Arc;
use wasgo_core::{InstanceKey, ObjectError, ObjectHost, ObjectOp, ObjectReply, SafetyLevel};

type Reply = dyn Fn(&ObjectOp) -> Result<ObjectReply, ObjectError> + Send + Sync;

/// Records every op; `reply` decides the answer.
pub struct RecordingHost {
    pub seen: Mutex<Vec<ObjectOp>>,
    reply: Box<Reply>,
}

impl RecordingHost {
    pub fn new(
        reply: impl Fn(&ObjectOp) -> Result<ObjectReply, ObjectError> + Send + Sync + 'static,
    ) -> Arc<RecordingHost> {
        Arc::new(RecordingHost {
            seen: Mutex::new(Vec::new()),
            reply: Box::new(reply),
        })
    }
}

impl ObjectHost for RecordingHost {
    fn run(
        &self,
        _key: InstanceKey,
        _level: SafetyLevel,
        op: ObjectOp,
    ) -> Result<ObjectReply, ObjectError> {
        self.seen.lock().push(op.clone());
        (self.reply)(&op)
    }
}
