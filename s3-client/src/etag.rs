//! ETags as servers write them, made comparable. S3 sends `"abc"`; some
//! servers send `abc` in one answer and `"abc"` in another (a listing
//! and a HEAD), and a proxy that transformed a body (nginx, a CDN) makes
//! it weak, `W/"abc"`. All three name one version of an object.

/// An ETag's value, for comparing: without surrounding blanks, without the
/// `W/` of a weak ETag and without its quotes. `"abc"`, `abc` and
/// `W/"abc"` all give `abc`; compare two ETags by comparing their values.
///
/// ```
/// use s3sql_s3_client::etag_value;
/// assert_eq!(etag_value("\"abc\""), "abc");
/// assert_eq!(etag_value("W/\"abc\""), etag_value("abc"));
/// ```
pub fn etag_value(etag: &str) -> &str {
    let etag = etag.trim();
    etag.strip_prefix("W/").unwrap_or(etag).trim_matches('"')
}

/// The `If-Match` header for the version with ETag `etag`: its value in
/// quotes, strong, as RFC 9110 writes an entity tag. A server compares
/// If-Match strongly, so a weak `W/"abc"` sent as given never matches, and
/// a strict one refuses a bare `abc`; `*` stays `*`.
pub(crate) fn if_match_header(etag: &str) -> String {
    match etag.trim() {
        "*" => "*".to_owned(),
        _ => format!("\"{}\"", etag_value(etag)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_weakness_do_not_make_another_version() {
        for etag in ["\"abc\"", "abc", "W/\"abc\"", " \"abc\" ", "W/abc"] {
            assert_eq!(etag_value(etag), "abc", "{etag}");
            assert_eq!(if_match_header(etag), "\"abc\"", "{etag}");
        }
        assert_ne!(etag_value("\"abc\""), etag_value("\"abd\""));
        assert_eq!(if_match_header("*"), "*");
    }
}
