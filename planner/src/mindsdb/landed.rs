//! Whether an INSERT's rows are in the object once its write is done or
//! its answer lost: the version at the key, read by one HEAD, is placed
//! by its ETag first and then by its history of INSERTs ([`History`],
//! `x-amz-meta-s3sql-inserts`) ([`place`]):
//! - the ETag the write answered with, or a history naming this INSERT:
//!   its rows are there (another INSERT may have appended to them);
//! - the old version's ETag, or a history that is part of the old
//!   version's (an older version, review-s27 F12): the HEAD was answered
//!   stale (a cache, a load balancer, another site of a multi-site server)
//!   and tells nothing;
//! - a third ETag whose history names INSERTs the old version's lacks, and
//!   not this one: another INSERT's version replaced it, and its rows are
//!   not there;
//! - anything else (a third ETag with no history, or whose new INSERTs
//!   were written over a version with none ([`History::BROKEN`]), no
//!   ETag, a history too long to still name it): not known.
//!
//! An unknown outcome is told as such, with how to check, never as "run
//! the INSERT again": a server that keeps no user metadata (SeaweedFS and
//! others on multipart uploads) answered every large INSERT so after
//! writing its rows, and running it again added them twice (review-s26
//! #3).

use s3sql_s3_client::{GetObjectRequest, ObjectUrl, S3Client, etag_value};

use super::insert::{InsertTarget, client_error};
use crate::error::{PlannerError, Result};

/// The INSERTs a version of an object holds the rows of, newest first,
/// as user metadata `x-amz-meta-s3sql-inserts` (ids of 16 hex digits,
/// space-separated, at most [`History::KEPT`]): each INSERT's new version
/// holds every row of the version it replaced, so it names itself and
/// that version's INSERTs. When the answer to the new version's write is
/// lost and another writer's version is at the key since, this tells
/// whether it was an INSERT on top of this one's (its rows are there)
/// or not. A version replaced with no history is named
/// [`History::BROKEN`]: it may be an INSERT's whose server dropped its
/// metadata.
#[derive(Debug)]
pub(super) struct History {
    /// This INSERT's id.
    id: String,
    /// The history of the version this INSERT replaces; `None` when it
    /// has none.
    before: Option<Vec<String>>,
}

impl History {
    /// The user metadata's name (without `x-amz-meta-`).
    pub(super) const KEY: &str = "s3sql-inserts";
    /// INSERTs named at most: a lost answer is retried within seconds, and
    /// eight INSERTs landing meanwhile are already past belief. 136 bytes
    /// of the 2 KB of user metadata S3 keeps.
    const KEPT: usize = 8;
    /// Stands for the history of a replaced version that had none: a
    /// file no INSERT wrote, or an INSERT's version whose server dropped
    /// its user metadata (SeaweedFS and others on multipart uploads). Its
    /// INSERTs, maybe this one, are unknown, so a history holding it past
    /// the old version's never says "replaced" (review-s27 F13). Not 16
    /// hex digits, so never an INSERT's id.
    const BROKEN: &str = "?";

    /// A new INSERT over the version whose history is `before` (the
    /// user metadata's value; `None` when it has none).
    pub(super) fn over(before: Option<&str>) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            id: id[..16].to_owned(),
            before: names(before),
        }
    }

    /// The history of the new version: this INSERT, then the replaced
    /// version's ([`Self::BROKEN`] when it had none), the oldest dropped
    /// past [`Self::KEPT`].
    pub(super) fn after(&self) -> String {
        let before = match &self.before {
            Some(before) => before.iter().map(String::as_str).collect(),
            None => vec![Self::BROKEN],
        };
        std::iter::once(self.id.as_str())
            .chain(before)
            .take(Self::KEPT)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// How the history `names` of a version with another ETag than the
    /// old one's and not naming this INSERT stands to the old version's:
    /// `None` when it is part of it (an older version, answered stale),
    /// else the INSERTs it names past the old version's.
    fn since<'a>(&self, names: &'a [String]) -> Option<&'a [String]> {
        let agree = |a: &[String], b: &[String]| a.iter().zip(b).all(|(a, b)| a == b);
        let Some(before) = self.before.as_deref() else {
            return Some(names);
        };
        if (0..before.len()).any(|at| agree(&before[at..], names)) {
            return None;
        }
        let meets = (1..names.len())
            .find(|&at| agree(&names[at..], before))
            .unwrap_or(names.len());
        Some(&names[..meets])
    }
}

/// The INSERTs a user metadata value names; `None` for no value or an
/// empty one.
fn names(value: Option<&str>) -> Option<Vec<String>> {
    let names: Vec<String> = value?.split_whitespace().map(str::to_owned).collect();
    (!names.is_empty()).then_some(names)
}

/// The version at the key, as a HEAD answered: its ETag and the INSERTs
/// its history names (`None` when it has none).
#[derive(Debug, Default)]
struct AtKey {
    etag: Option<String>,
    names: Option<Vec<String>>,
}

/// Where the version at the key leaves this INSERT's rows.
#[derive(Debug, PartialEq, Eq)]
enum Placed {
    /// In the object: the version written, or one built on it.
    There,
    /// Not there: another INSERT's version, not built on this one's.
    Replaced,
    /// Cannot be told, for this reason.
    Unknown(Why),
}

/// Why a [`Placed::Unknown`].
#[derive(Debug, PartialEq, Eq)]
enum Why {
    /// The HEAD answered the old version's ETag.
    Stale,
    /// The HEAD answered an older version (this ETag): its history is part
    /// of the old version's.
    Older(String),
    /// Another ETag than the write's, whose history holds
    /// [`History::BROKEN`] past the old version's: built on a version
    /// that had lost its history, maybe this INSERT's.
    Broken(String),
    /// Another ETag than the write's, and no history.
    NoHistory(String),
    /// No ETag, and no history naming this INSERT.
    NoEtag,
    /// A history of as many INSERTs as are kept, not naming this one.
    HistoryFull(usize),
}

impl Why {
    /// The reason in words; `old` is the old version's ETag.
    fn told(&self, old: &str) -> String {
        let key = History::KEY;
        match self {
            Why::Stale => format!(
                "the HEAD after it still answers the old version's ETag {old} (answered stale: a cache, a load balancer or another site of the server), which tells nothing"
            ),
            Why::Older(etag) => format!(
                "the HEAD after it answers an older version than the old one (ETag {etag}, its history of INSERTs, x-amz-meta-{key}, part of the old version's): answered stale (a cache, a load balancer or another site of the server), which tells nothing"
            ),
            Why::Broken(etag) => format!(
                "the object's version now (ETag {etag}) is not the one written, and was written over a version that named no INSERTs (x-amz-meta-{key}; the server may drop user metadata, as some do on multipart uploads), which may be this INSERT's, so it may or may not hold its rows"
            ),
            Why::NoHistory(etag) => format!(
                "the object's version now (ETag {etag}) is not the one written and names no INSERTs (x-amz-meta-{key}; the server may not keep user metadata), so it may or may not hold its rows"
            ),
            Why::NoEtag => format!(
                "the HEAD after it answers no ETag to compare with the write's, and the version's history (x-amz-meta-{key}) does not name this INSERT (the server may not keep user metadata)"
            ),
            Why::HistoryFull(n) => format!(
                "the object's version names the last {n} INSERTs, this one not among them, and older ones are not kept"
            ),
        }
    }
}

/// Places the version `now` at the key for the INSERT of `history`, whose
/// write answered `written` (`None`: no ETag, or no answer) over the
/// version of ETag `old`. ETags compare by value (quotes and `W/` aside).
fn place(now: &AtKey, written: Option<&str>, old: &str, history: &History) -> Placed {
    let same = |a: &str, b: &str| etag_value(a) == etag_value(b);
    let names = now.names.as_deref();
    if names.is_some_and(|names| names.contains(&history.id)) {
        return Placed::There;
    }
    let Some(etag) = now.etag.as_deref() else {
        return Placed::Unknown(Why::NoEtag);
    };
    if written.is_some_and(|written| same(etag, written)) {
        return Placed::There;
    }
    if same(etag, old) {
        return Placed::Unknown(Why::Stale);
    }
    let Some(names) = names else {
        return Placed::Unknown(Why::NoHistory(etag.to_owned()));
    };
    match history.since(names) {
        None => Placed::Unknown(Why::Older(etag.to_owned())),
        Some(new) if new.iter().any(|n| n == History::BROKEN) => {
            Placed::Unknown(Why::Broken(etag.to_owned()))
        }
        // The old version's INSERTs not reached: this one may be past
        // the kept ones.
        Some(new) if new.len() >= History::KEPT => Placed::Unknown(Why::HistoryFull(new.len())),
        Some(_) => Placed::Replaced,
    }
}

/// The version at the key, by a HEAD.
async fn at_key(
    client: &S3Client,
    url: &ObjectUrl,
) -> std::result::Result<AtKey, s3sql_s3_client::Error> {
    let stored = client
        .head_object_metadata(url.bucket(), url.key(), &GetObjectRequest::default())
        .await?;
    Ok(AtKey {
        etag: stored.meta.etag,
        names: names(stored.metadata.user.get(History::KEY).map(String::as_str)),
    })
}

/// The INSERT's error when the object's version at the key, `version`
/// (what is known of it), does not hold its rows.
fn not_in_the_object(target: &InsertTarget, version: &str) -> PlannerError {
    target.error(format!(
        "{version} whose history (x-amz-meta-{}) does not hold this INSERT: its rows are not in the object; run the INSERT again",
        History::KEY
    ))
}

/// The new version was written, and the server answered with ETag
/// `written`: the version at the key is placed ([`place`]). A server that
/// ignores If-Match on CompleteMultipartUpload (moto 5.2) completes
/// INSERTs whose guard HEADs all passed over each other, each answered
/// with success; this HEAD, one per INSERT, tells each one replaced by a
/// version landing before it (review-10h #1). Not asked when the history
/// did not fit on the new version (`named`): its absence would then say
/// nothing.
pub(super) async fn still_there(
    client: &S3Client,
    url: &ObjectUrl,
    target: &InsertTarget,
    history: &History,
    (old, written): (&str, Option<&str>),
    named: bool,
) -> Result<()> {
    if !named {
        return Ok(());
    }
    let now = match at_key(client, url).await {
        Ok(now) => now,
        Err(e) if e.is_not_found() => {
            return Err(target.error(
                "the new version was written, and the object was deleted by another writer at once: its rows are not in it",
            ));
        }
        Err(e) => {
            return Err(target.error(format!(
                "the new version was written, but the HEAD checking that no other writer replaced it at once failed ({e}): SELECT from the object to see whether its rows are there before running the INSERT again"
            )));
        }
    };
    match place(&now, written, old, history) {
        Placed::There => Ok(()),
        Placed::Replaced => Err(not_in_the_object(
            target,
            "the new version was written, and replaced at once by another writer's version",
        )),
        Placed::Unknown(why) => {
            let compare = match written {
                Some(etag) => format!(" (or HEAD it: its ETag {etag} is this INSERT's version)"),
                None => String::new(),
            };
            Err(target.error(format!(
                "outcome unknown: the new version was written, but {}; SELECT from the object to see whether its rows are there{compare} before running the INSERT again",
                why.told(old)
            )))
        }
    }
}

/// The new version's write failed: when the client could not tell
/// whether it took effect (its answer was lost, and another writer's
/// version is at the key since), the version at the key is placed
/// ([`place`], no ETag written known): `Ok` when the rows are there
/// (another INSERT appended to this one's version), the error saying
/// exactly what is known otherwise. Any other failure is `error` as it is.
pub(super) async fn settle(
    client: &S3Client,
    url: &ObjectUrl,
    target: &InsertTarget,
    (history, old): (&History, &str),
    error: PlannerError,
) -> Result<()> {
    if !matches!(
        client_error(&error),
        Some(s3sql_s3_client::Error::OutcomeUnknown { .. })
    ) {
        return Err(error);
    }
    let unknown = |why: String| {
        target.error(format!(
            "outcome unknown: the answer to the new version's write was lost, and the object now is another writer's version: this INSERT's version may have been written and replaced since (its rows then in the new version if that writer appended to it) or never written; {why}: SELECT from the object to see whether its rows are there before running the INSERT again ({error})"
        ))
    };
    let now = match at_key(client, url).await {
        Ok(now) => now,
        Err(e) => {
            return Err(unknown(format!(
                "the HEAD that would tell from the object's history of INSERTs failed ({e})"
            )));
        }
    };
    match place(&now, None, old, history) {
        Placed::There => {
            tracing::info!(
                table = target.name,
                "an INSERT whose write's answer was lost landed, and another INSERT appended to it since"
            );
            Ok(())
        }
        Placed::Replaced => Err(not_in_the_object(
            target,
            "the answer to the new version's write was lost, and the object now is a version another INSERT wrote",
        )),
        Placed::Unknown(Why::NoHistory(_)) => Err(unknown(format!(
            "the object's version names no INSERTs (x-amz-meta-{}), so it was not written by s3sql's INSERT, or its server keeps no user metadata",
            History::KEY
        ))),
        Placed::Unknown(why) => Err(unknown(why.told(old))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "00112233aabbccdd";
    const OLD: &str = "\"old\"";
    const WRITTEN: &str = "\"new-2\"";

    /// This INSERT (of id [`ID`]) over a version whose history is `before`.
    fn over(before: Option<&[&str]>) -> History {
        History {
            id: ID.to_owned(),
            before: before.map(|n| n.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    fn at(etag: Option<&str>, names: Option<&[&str]>) -> AtKey {
        AtKey {
            etag: etag.map(str::to_owned),
            names: names.map(|n| n.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    /// A server that keeps no user metadata: the version written has no
    /// history, and its ETag (quoted or not) says it is this INSERT's
    /// (review-s26 #3: it was told replaced, "run the INSERT again").
    #[test]
    fn the_etag_written_places_the_rows_without_a_history() {
        for etag in [WRITTEN, "new-2", "W/\"new-2\""] {
            assert_eq!(
                place(&at(Some(etag), None), Some(WRITTEN), OLD, &over(None)),
                Placed::There,
                "{etag}"
            );
        }
        // Another INSERT appended to it since: named in the history.
        assert_eq!(
            place(
                &at(Some("\"third\""), Some(&["ffff", ID])),
                Some(WRITTEN),
                OLD,
                &over(None)
            ),
            Placed::There
        );
    }

    /// A HEAD answered with the old ETag (stale), or with no ETag, or
    /// with a third ETag and no history, tells nothing: unknown, never
    /// "replaced".
    #[test]
    fn a_stale_or_unplaceable_version_is_unknown() {
        assert_eq!(
            place(
                &at(Some(OLD), Some(&["ffff"])),
                Some(WRITTEN),
                OLD,
                &over(None)
            ),
            Placed::Unknown(Why::Stale)
        );
        assert_eq!(
            place(&at(Some("old"), None), None, OLD, &over(None)),
            Placed::Unknown(Why::Stale)
        );
        assert_eq!(
            place(&at(None, Some(&["ffff"])), Some(WRITTEN), OLD, &over(None)),
            Placed::Unknown(Why::NoEtag)
        );
        assert_eq!(
            place(
                &at(Some("\"third\""), None),
                Some(WRITTEN),
                OLD,
                &over(None)
            ),
            Placed::Unknown(Why::NoHistory("\"third\"".into()))
        );
        let full: Vec<String> = (0..History::KEPT).map(|i| format!("{i:016x}")).collect();
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        assert_eq!(
            place(
                &at(Some("\"third\""), Some(&full)),
                Some(WRITTEN),
                OLD,
                &over(None)
            ),
            Placed::Unknown(Why::HistoryFull(History::KEPT))
        );
    }

    /// Only a third ETag whose history does not name this INSERT is
    /// another INSERT's version over this one's.
    #[test]
    fn a_third_version_whose_history_lacks_the_insert_replaced_it() {
        for written in [Some(WRITTEN), None] {
            assert_eq!(
                place(
                    &at(Some("\"third\""), Some(&["ffff"])),
                    written,
                    OLD,
                    &over(None)
                ),
                Placed::Replaced,
                "{written:?}"
            );
        }
    }

    #[test]
    fn a_history_names_this_insert_first_and_keeps_the_last_ones() {
        let before: Vec<String> = (0..History::KEPT).map(|i| format!("{i}")).collect();
        let history = History::over(Some(&before.join(" ")));
        let after = history.after();
        let names: Vec<&str> = after.split(' ').collect();
        assert_eq!(names.len(), History::KEPT);
        assert_eq!(names[0], history.id);
        assert_eq!(names[1], "0");
        // Over a version with no history (or an empty one): the marker.
        for before in [None, Some(""), Some(" ")] {
            let history = History::over(before);
            assert_eq!(history.after(), format!("{} ?", history.id), "{before:?}");
        }
    }

    /// Review-s27 F12: INSERT X wrote V0 (`[X]`), Y wrote V1 (`[Y X]`),
    /// and this INSERT wrote over V1; a HEAD answered by a replica still
    /// at V0 (or at V1 under another ETag) is stale, never "replaced",
    /// which would have the user add the rows twice. Also when the old
    /// history is past [`History::KEPT`] and the older one holds INSERTs
    /// the old one dropped.
    #[test]
    fn an_older_version_answered_is_stale_not_replaced() {
        const X: &str = "1111111111111111";
        const Y: &str = "2222222222222222";
        for written in [Some(WRITTEN), None] {
            for names in [&[X][..], &[Y, X]] {
                assert_eq!(
                    place(
                        &at(Some("\"v0\""), Some(names)),
                        written,
                        OLD,
                        &over(Some(&[Y, X]))
                    ),
                    Placed::Unknown(Why::Older("\"v0\"".into())),
                    "{names:?} {written:?}"
                );
            }
        }
        let kept: Vec<String> = (0..12).map(|i| format!("{i:016x}")).collect();
        let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
        let before = &kept[..History::KEPT];
        assert_eq!(
            place(
                &at(Some("\"v0\""), Some(&kept[2..2 + History::KEPT])),
                Some(WRITTEN),
                OLD,
                &over(Some(before))
            ),
            Placed::Unknown(Why::Older("\"v0\"".into()))
        );
        // A version naming an INSERT the old one lacks, on top of the old
        // one's, replaced it: told so even when its history is full.
        let mut theirs = vec!["ffffffffffffffff"];
        theirs.extend_from_slice(&before[..History::KEPT - 1]);
        for names in [&theirs[..], &theirs[..3], &["ffffffffffffffff", X][..]] {
            let old = if names.contains(&X) {
                over(Some(&[Y, X]))
            } else {
                over(Some(before))
            };
            assert_eq!(
                place(
                    &at(Some("\"third\""), Some(names)),
                    Some(WRITTEN),
                    OLD,
                    &old
                ),
                Placed::Replaced,
                "{names:?}"
            );
        }
    }

    /// Review-s27 F13: this INSERT's version lost its history (a server
    /// dropping user metadata on multipart uploads) and INSERT B was
    /// written over it, so B's history is `[B ?]`: unknown, never
    /// "replaced". A marker the old version's history already holds says
    /// nothing of this INSERT; a history written before the marker (or by
    /// another tool) is read as it was.
    #[test]
    fn a_version_over_one_without_history_is_unknown() {
        const B: &str = "bbbbbbbbbbbbbbbb";
        const P: &str = "1111111111111111";
        let broken = |names: &[&str], old: &History| {
            place(&at(Some("\"third\""), Some(names)), Some(WRITTEN), OLD, old)
        };
        for old in [over(Some(&[P])), over(None), over(Some(&[P, "?"]))] {
            for names in [&[B, "?"][..], &["cccccccccccccccc", B, "?"]] {
                assert_eq!(
                    broken(names, &old),
                    Placed::Unknown(Why::Broken("\"third\"".into())),
                    "{names:?} over {:?}",
                    old.before
                );
            }
        }
        assert_eq!(
            broken(&[B, P, "?"], &over(Some(&[P, "?"]))),
            Placed::Replaced
        );
        assert_eq!(broken(&[B], &over(None)), Placed::Replaced);
        // The marker is never an INSERT's id.
        let id = History::over(None).id;
        assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!History::BROKEN.bytes().any(|b| b.is_ascii_hexdigit()));
    }
}
