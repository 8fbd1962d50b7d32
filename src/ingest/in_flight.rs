//! AWS calls kept in flight a few at a time, their answers used in the order they were asked.

use std::collections::BTreeMap;
use std::future::Future;

use tokio::task::JoinSet;

/// Calls `call` on every item with at most `limit` calls in flight, starting the next one as soon
/// as any ends (a slow answer holds only its own slot, not a whole batch), and hands each answer
/// to `use_answer` in the items' order, so what is made of them does not depend on which answer
/// came first. Answers that arrive early wait for their turn; at most `4 × limit` are held, so
/// memory stays bounded behind one slow call. The first error stops everything: the calls still
/// in flight are cancelled.
pub async fn in_order<I, T, E, Call, Answer>(
    items: impl IntoIterator<Item = I>,
    limit: usize,
    call: Call,
    mut use_answer: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    Call: Fn(I) -> Answer,
    Answer: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let limit = limit.max(1);
    let mut items = items.into_iter().enumerate();
    let mut calls = JoinSet::new();
    let mut arrived: BTreeMap<usize, T> = BTreeMap::new();
    let mut next_to_use = 0;
    let mut started = 0;
    loop {
        while calls.len() < limit && started < next_to_use + 4 * limit {
            let Some((position, item)) = items.next() else {
                break;
            };
            let answer = call(item);
            calls.spawn(async move { (position, answer.await) });
            started += 1;
        }
        let Some(joined) = calls.join_next().await else {
            return Ok(());
        };
        let (position, answer) = joined.expect("an AWS call does not panic");
        arrived.insert(position, answer?);
        while let Some(answer) = arrived.remove(&next_to_use) {
            use_answer(answer)?;
            next_to_use += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Answers come back out of order; they are used in the items' order, never more than
    /// `limit` are in flight, and a slot is reused as soon as it frees up: item 0 answers only
    /// once item 8 has started, which batches of 4 would never allow.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_are_used_in_order_with_at_most_limit_in_flight() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let eighth_started = Arc::new(tokio::sync::Notify::new());
        let mut used = Vec::new();
        in_order(
            0..24u64,
            4,
            |item| {
                let (in_flight, most) = (in_flight.clone(), most.clone());
                let eighth_started = eighth_started.clone();
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    if item == 8 {
                        eighth_started.notify_one();
                    }
                    if item == 0 {
                        tokio::time::timeout(Duration::from_secs(10), eighth_started.notified())
                            .await
                            .map_err(|_| "item 8 never started while item 0 was in flight")?;
                    } else {
                        tokio::time::sleep(Duration::from_millis(1 + item % 3)).await;
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, &str>(item * 10)
                }
            },
            |answer| {
                used.push(answer);
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(used, (0..24).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn the_first_error_is_returned() {
        let mut used = Vec::new();
        let result = in_order(
            0..10u32,
            3,
            |item| async move {
                if item == 5 {
                    Err(format!("item {item} failed"))
                } else {
                    Ok(item)
                }
            },
            |answer| {
                used.push(answer);
                Ok(())
            },
        )
        .await;
        assert_eq!(result, Err("item 5 failed".to_string()));
        assert!(used.iter().all(|item| *item < 5), "{used:?}");
    }
}
