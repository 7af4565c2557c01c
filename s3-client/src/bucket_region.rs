//! [`BucketRegions`]: what a client knows of each bucket's region, learnt
//! from the server. A bucket whose region no answer has confirmed yet may
//! refuse a request for its region by closing the connection while the
//! body is still being sent (S3 answers 400 early and resets, and the
//! answer is lost with the connection): the retry loop then asks the
//! bucket's region with a bodiless request before sending the body again.

use std::collections::HashMap;
use std::sync::Mutex;

/// One bucket's region as far as the server said.
#[derive(Debug, Default, Clone)]
struct Known {
    /// The region a redirect named, when not the configured one.
    learnt: Option<String>,
    /// A success, or an S3 error only given past the signature check
    /// (404, 409, 412 ...), came back to a request signed for the region
    /// requests now use.
    confirmed: bool,
}

/// Per-bucket regions, shared by a client's clones.
#[derive(Debug, Default)]
pub(crate) struct BucketRegions(Mutex<HashMap<String, Known>>);

impl BucketRegions {
    /// The region requests for `bucket` are signed for: the one learnt,
    /// else `configured`.
    pub(crate) fn region_for(&self, bucket: &str, configured: &str) -> String {
        let learnt = self
            .0
            .lock()
            .ok()
            .and_then(|map| map.get(bucket).and_then(|k| k.learnt.clone()));
        learnt.unwrap_or_else(|| configured.to_owned())
    }

    /// The server named `region` as `bucket`'s: later requests sign for it.
    pub(crate) fn learn(&self, bucket: &str, region: String) {
        if let Ok(mut map) = self.0.lock() {
            *map.entry(bucket.to_owned()).or_default() = Known {
                learnt: Some(region),
                confirmed: false,
            };
        }
    }

    /// The server took a request for `bucket` signed for `region`: it
    /// answered with a success or an error it gives only past the
    /// signature check.
    pub(crate) fn confirm(&self, bucket: &str, region: &str, configured: &str) {
        if let Ok(mut map) = self.0.lock() {
            let known = map.entry(bucket.to_owned()).or_default();
            // A concurrent redirect may have moved the bucket meanwhile.
            let current = known.learnt.as_deref().unwrap_or(configured);
            if current == region {
                known.confirmed = true;
            }
        }
    }

    /// The region learnt for `bucket` once an answer has confirmed it.
    pub(crate) fn confirmed_region(&self, bucket: &str) -> Option<String> {
        let map = self.0.lock().ok()?;
        let known = map.get(bucket).filter(|k| k.confirmed)?;
        known.learnt.clone()
    }

    /// Whether an answer has shown the server takes `bucket`'s requests
    /// signed as they are now.
    pub(crate) fn is_confirmed(&self, bucket: &str) -> bool {
        self.0
            .lock()
            .ok()
            .is_some_and(|map| map.get(bucket).is_some_and(|k| k.confirmed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_learnt_then_confirmed_per_bucket() {
        let regions = BucketRegions::default();
        assert_eq!(regions.region_for("b", "us-east-1"), "us-east-1");
        assert!(!regions.is_confirmed("b"));
        regions.learn("b", "eu-west-1".into());
        assert_eq!(regions.region_for("b", "us-east-1"), "eu-west-1");
        assert_eq!(regions.region_for("other", "us-east-1"), "us-east-1");
        // An answer to a request signed for the old region confirms nothing.
        regions.confirm("b", "us-east-1", "us-east-1");
        assert!(!regions.is_confirmed("b"));
        regions.confirm("b", "eu-west-1", "us-east-1");
        assert!(regions.is_confirmed("b"));
        assert!(!regions.is_confirmed("other"));
        regions.confirm("other", "us-east-1", "us-east-1");
        assert!(regions.is_confirmed("other"));
    }
}
