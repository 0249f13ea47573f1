//! Carrying out the app's requests: each becomes a task that sends it to the engine and
//! forwards every response as an `Input`, until the asker cancels it (which drops the stream
//! and stops the engine's work).

use std::collections::HashMap;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::msg::Input;
use crate::engine::EngineClient;
use crate::engine::api::Request;

pub struct Driver {
    client: EngineClient,
    inputs: mpsc::UnboundedSender<Input>,
    tasks: HashMap<u64, JoinHandle<()>>,
}

impl Driver {
    pub fn new(client: EngineClient, inputs: mpsc::UnboundedSender<Input>) -> Driver {
        Driver {
            client,
            inputs,
            tasks: HashMap::new(),
        }
    }

    pub fn send(&mut self, id: u64, request: Request) {
        self.tasks.retain(|_, task| !task.is_finished());
        let client = self.client.clone();
        let inputs = self.inputs.clone();
        let task = tokio::spawn(async move {
            let mut replies = client.stream(request).await;
            while let Some(response) = replies.recv().await {
                if inputs.send(Input::Reply(id, response)).is_err() {
                    return;
                }
            }
        });
        self.tasks.insert(id, task);
    }

    pub fn cancel(&mut self, id: u64) {
        if let Some(task) = self.tasks.remove(&id) {
            task.abort();
        }
    }
}
