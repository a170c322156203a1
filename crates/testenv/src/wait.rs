use std::future::Future;
use std::time::Duration;

use crate::{Error, Result};

/// Polls `check` every 100 ms until it returns `Ok(Some(value))` or `timeout` passes.
///
/// `check` returns `Ok(None)` for "not yet" and may return `Err` to give up at once. The last
/// "not yet" description (set through the `&mut String`) is put into the timeout error so a
/// failing test says what it last saw.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Option<T>, String)>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let (value, seen) = check().await?;
        if let Some(value) = value {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            let detail = if seen.is_empty() {
                String::new()
            } else {
                format!(": last seen {seen}")
            };
            return Err(Error::Timeout {
                what: what.to_string(),
                timeout,
                detail,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
