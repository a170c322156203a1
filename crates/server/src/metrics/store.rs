//! The short history of each deployment's figures, in memory: one [`History`] ring per
//! deployment (at most [`MAX_DEPLOYMENTS`], the least recently scraped dropped first), plus the
//! last scrape's figures for rates. Filled by the scrapes callers make, so it covers the time
//! someone watched; it is not a monitoring system.
//!
//! Memory is bounded: [`MAX_DEPLOYMENTS`] × (`History::max_bytes`, 90 × 168 B ≈ 15 KiB, plus
//! one [`Snapshot`]) ≈ 4 MiB at most.

use std::collections::HashMap;
use std::sync::Mutex;

use kubeairunway_core::metrics::{History, Point, Rates, Snapshot, Summary};

/// Deployments with a history at most.
pub(crate) const MAX_DEPLOYMENTS: usize = 256;

/// `(namespace, name, uid)`: a recreated deployment starts a new history.
type Key = (String, String, String);

struct Entry {
    last: Option<Snapshot>,
    history: History,
    touched_ms: i64,
}

/// The histories.
#[derive(Default)]
pub(crate) struct Store {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Store {
    /// Records a successful scrape at `now_ms` and returns the rates since the previous one and
    /// the history after it.
    pub(crate) fn record(
        &self,
        key: Key,
        now_ms: i64,
        summary: &Summary,
    ) -> (Option<Rates>, Vec<Point>) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !entries.contains_key(&key) && entries.len() >= MAX_DEPLOYMENTS {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.touched_ms)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                entries.remove(&k);
            }
        }
        // Other deployments of the same name (an older uid) are gone.
        entries.retain(|k, _| !(k.0 == key.0 && k.1 == key.1 && k.2 != key.2));
        let entry = entries.entry(key).or_insert_with(|| Entry {
            last: None,
            history: History::new(),
            touched_ms: now_ms,
        });
        let snapshot = Snapshot {
            at_ms: now_ms,
            summary: summary.clone(),
        };
        let rates = entry
            .last
            .as_ref()
            .and_then(|prev| Rates::between(prev, &snapshot));
        // Keep the earlier snapshot while scrapes come faster than a second, so rates span
        // at least that.
        if rates.is_some() || entry.last.is_none() {
            entry.last = Some(snapshot);
        }
        entry
            .history
            .push(Point::new(now_ms, summary, rates.as_ref()));
        entry.touched_ms = now_ms;
        (rates, entry.history.points(now_ms))
    }

    /// The history of `key` (empty when none).
    pub(crate) fn history(&self, key: &Key, now_ms: i64) -> Vec<Point> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .map(|e| e.history.points(now_ms))
            .unwrap_or_default()
    }

    /// Deployments held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(tokens: f64) -> Summary {
        Summary {
            generation_tokens_total: Some(tokens),
            running_requests: Some(1.0),
            ..Summary::default()
        }
    }

    fn key(name: &str, uid: &str) -> Key {
        ("ns".into(), name.into(), uid.into())
    }

    #[test]
    fn rates_and_history_accumulate() {
        let s = Store::default();
        let (r, h) = s.record(key("a", "1"), 0, &summary(0.0));
        assert!(r.is_none());
        assert_eq!(h.len(), 1);
        let (r, h) = s.record(key("a", "1"), 10_000, &summary(100.0));
        assert_eq!(r.and_then(|r| r.generation_tokens_per_second), Some(10.0));
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].generation_tokens_per_second, Some(10.0));
        // A recreated deployment starts again.
        let (r, h) = s.record(key("a", "2"), 20_000, &summary(0.0));
        assert!(r.is_none());
        assert_eq!(h.len(), 1);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn the_number_of_deployments_is_bounded() {
        let s = Store::default();
        for i in 0..(MAX_DEPLOYMENTS + 10) {
            let t = i64::try_from(i).expect("small");
            s.record(key(&format!("d{i}"), "u"), t, &summary(0.0));
        }
        assert_eq!(s.len(), MAX_DEPLOYMENTS);
        assert!(
            s.history(&key("d0", "u"), 0).is_empty(),
            "the oldest went first"
        );
    }
}
