//! Unit tests of the drain once the attempt's group is gone.

use super::*;

/// A relay that never ends and passes on a byte every 20 ms, as one whose pipe a process
/// outside the group keeps writing to; what `finish` returned, and after how long.
fn drain_of_an_endless_relay(cancel_after: Option<Duration>) -> (Option<LeftBehind>, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (tx, rx) = oneshot::channel::<io::Result<Relayed<()>>>();
        let progress = Arc::new(Progress::default());
        let relay = RunningRelay {
            done: Some(rx),
            progress: Arc::clone(&progress),
            pipe: None,
            fallback: None,
        };
        let writer = tokio::spawn(async move {
            loop {
                sleep(Duration::from_millis(20)).await;
                progress.taken.fetch_add(1, Ordering::Relaxed);
                progress.relayed.fetch_add(1, Ordering::Relaxed);
            }
        });
        let (cancel_tx, mut cancel) = Cancel::manual();
        if let Some(after) = cancel_after {
            tokio::spawn(async move {
                sleep(after).await;
                let _ = cancel_tx.send(Some(15));
            });
        }
        let start = Instant::now();
        let (relayed, left) = relay.finish(&mut cancel).await;
        writer.abort();
        drop(tx);
        assert!(relayed.is_none());
        (left, start.elapsed())
    })
}

#[test]
fn bytes_that_keep_coming_after_the_group_is_gone_get_a_bounded_grace() {
    let (left, took) = drain_of_an_endless_relay(None);
    assert_eq!(left, Some(LeftBehind::Escaped));
    assert!(took >= DRAIN_GRACE, "{took:?}");
    assert!(took < DRAIN_GRACE * 3, "{took:?}");
}

#[test]
fn a_cancellation_during_the_drain_ends_it_at_once() {
    let (left, took) = drain_of_an_endless_relay(Some(Duration::from_millis(100)));
    assert_eq!(left, Some(LeftBehind::Cancelled));
    assert!(took < DRAIN_GRACE, "{took:?}");
}
