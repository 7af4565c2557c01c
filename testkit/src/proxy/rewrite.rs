//! Edits to S3's XML answers, done on the text: a server that sends a
//! different continuation token, a refused delete, an endless listing.

/// A `<DeleteResult>` refusing every `<Key>` of the DeleteObjects
/// `request` with `code`, each key written raw (only `&`, `<`, `>`
/// escaped).
pub(super) fn refused_deletes(request: &str, code: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult>");
    for chunk in request.split("<Key>").skip(1) {
        let text = chunk.split("</Key>").next().unwrap_or_default();
        let key = unescape_xml(text);
        let raw = key
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        out.push_str(&format!(
            "<Error><Key>{raw}</Key><Code>{code}</Code><Message>injected by FaultProxy</Message></Error>"
        ));
    }
    out.push_str("</DeleteResult>");
    out
}

/// XML character data with its entity and numeric character references
/// replaced (enough for the bodies clients send).
fn unescape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find(';') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let name = &rest[at + 1..at + end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..=at + end]),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// `text` with the content of its `NextContinuationToken` element replaced
/// by `token` (XML-escaped); unchanged when it has none.
pub(super) fn replace_next_token(text: &str, token: &str) -> String {
    replace_element(text, "NextContinuationToken", token)
}

/// `text` with the content of its first `<element>` replaced by `value`.
fn replace_element(text: &str, element: &str, value: &str) -> String {
    let (open, close) = (format!("<{element}>"), format!("</{element}>"));
    let Some(start) = text.find(&open).map(|i| i + open.len()) else {
        return text.to_owned();
    };
    let Some(end) = text[start..].find(&close).map(|i| start + i) else {
        return text.to_owned();
    };
    let token = value;
    let escaped = token
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("{}{escaped}{}", &text[..start], &text[end..])
}

/// A listing page `text` with `prefix` as its first common prefix.
pub(super) fn prepend_common_prefix(text: &str, prefix: &str) -> String {
    let escaped = prefix
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let element = format!("<CommonPrefixes><Prefix>{escaped}</Prefix></CommonPrefixes>");
    match text.find("<CommonPrefixes>") {
        Some(at) => format!("{}{element}{}", &text[..at], &text[at..]),
        None => text.replacen(
            "</ListBucketResult>",
            &format!("{element}</ListBucketResult>"),
            1,
        ),
    }
}

/// A listing page `text` made truncated, continuing under `token`: a
/// ListObjectsV2 page, or a ListBuckets page (whose token element is
/// `ContinuationToken`, and which is truncated by having one).
pub(super) fn endless_page(text: &str, token: &str) -> String {
    let text = text.replace(
        "<IsTruncated>false</IsTruncated>",
        "<IsTruncated>true</IsTruncated>",
    );
    let (element, close) = match text.contains("</ListAllMyBucketsResult>") {
        true => ("ContinuationToken", "</ListAllMyBucketsResult>"),
        false => ("NextContinuationToken", "</ListBucketResult>"),
    };
    if text.contains(&format!("<{element}>")) {
        return replace_element(&text, element, token);
    }
    text.replacen(close, &format!("<{element}>{token}</{element}>{close}"), 1)
}
