//! One task per key at a time: the first request for a key starts the
//! work, every request for the same key while it runs joins it and
//! watches its progress. The work runs as its own task, so a client that
//! goes away cancels nothing the others wait for; the key is forgotten
//! once the task ends (or panics), after it published its last state, so
//! a request arriving later starts afresh and finds in the store whatever
//! the task committed.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

/// The tasks running, by key; each publishes its state `S` on a watch
/// channel.
pub(crate) struct Flights<K, S> {
    running: Mutex<HashMap<K, watch::Receiver<S>>>,
}

impl<K, S> Default for Flights<K, S> {
    fn default() -> Self {
        Flights {
            running: Mutex::new(HashMap::new()),
        }
    }
}

impl<K, S> Flights<K, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    S: Send + Sync + 'static,
{
    /// Joins the task running for `key`, or starts one: `start` gets the
    /// sender of a channel holding `initial` and returns the work, which
    /// is spawned. Either way, returns a receiver of the task's state.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub(crate) fn join_or_start<F, W>(
        self: &Arc<Self>,
        key: K,
        initial: S,
        start: F,
    ) -> watch::Receiver<S>
    where
        F: FnOnce(Arc<watch::Sender<S>>) -> W,
        W: Future<Output = ()> + Send + 'static,
    {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(receiver) = running.get(&key) {
            return receiver.clone();
        }
        let (sender, receiver) = watch::channel(initial);
        running.insert(key.clone(), receiver.clone());
        drop(running);
        let work = start(Arc::new(sender));
        let forget = Forget {
            flights: Arc::clone(self),
            key: Some(key),
        };
        tokio::spawn(async move {
            // Dropped when the work ends or unwinds: the key is free again.
            let _forget = forget;
            work.await;
        });
        receiver
    }

    /// How many tasks run now (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Removes a finished task's key.
struct Forget<K: Hash + Eq, S> {
    flights: Arc<Flights<K, S>>,
    key: Option<K>,
}

impl<K: Hash + Eq, S> Drop for Forget<K, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.flights
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_requests_for_one_key_share_one_task() {
        let flights: Arc<Flights<&'static str, Option<u32>>> = Arc::default();
        let started = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let mut released = Some(released);
        let mut receivers = Vec::new();
        for _ in 0..4 {
            let started = Arc::clone(&started);
            let gate = released.take();
            receivers.push(
                flights.join_or_start("blob", None, move |sender| async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    if let Some(gate) = gate {
                        let _ = gate.await;
                    }
                    sender.send_replace(Some(7));
                }),
            );
        }
        assert_eq!(flights.len(), 1);
        release.send(()).unwrap();
        for mut receiver in receivers {
            let value = *receiver.wait_for(Option::is_some).await.unwrap();
            assert_eq!(value, Some(7));
        }
        assert_eq!(started.load(Ordering::SeqCst), 1);
        // The key is forgotten once the task ended: the next request starts anew.
        tokio::task::yield_now().await;
        while flights.len() != 0 {
            tokio::task::yield_now().await;
        }
        let mut again = flights.join_or_start("blob", None, |sender| async move {
            sender.send_replace(Some(8));
        });
        assert_eq!(*again.wait_for(Option::is_some).await.unwrap(), Some(8));
    }
}
