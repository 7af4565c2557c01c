//! Key patterns in DuckDB's glob language, made precise:
//!
//! - `*` matches any run of characters within one path segment;
//! - `?` matches exactly one character (not `/`);
//! - `[abc]`, `[a-z]`, `[!a-z]` match one character of a class; as in
//!   DuckDB, only `!` negates: `[^a]` is the class of `^` and `a`;
//! - `**` as a whole segment matches zero or more whole segments (one or
//!   more at the end: `dir/**` is everything below `dir`, not `dir` itself),
//!   in time polynomial in the number of `**`s (matching is memoised);
//! - `\` makes the next character literal (`\*`, `\?`, `\[`).
//!
//! A pattern without wildcards names a single object. In URL compatibility
//! mode the key is taken literally: no wildcard at all.
//!
//! A key ending in `/` (a folder marker, as the S3 console and many tools
//! make) is never matched by a pattern with a wildcard, as in DuckDB: it
//! is no file. Empty segments inside a key (`a//b.csv`) are matched as
//! they are: `a/*/b.csv` matches it, `a/*.csv` does not.

use crate::error::GlobError;

/// One `/`-separated part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Exact text (escapes resolved).
    Literal(String),
    /// Text with wildcards, matched within the segment.
    Glob(Vec<Token>),
    /// `**`: zero or more whole segments.
    AnyDepth,
}

/// One element of a [`Segment::Glob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// This character.
    Char(char),
    /// `*`.
    AnyRun,
    /// `?`.
    AnyChar,
    /// `[...]`: inclusive ranges, possibly negated.
    Class {
        /// `[!...]`.
        negated: bool,
        /// Inclusive ranges; a single character is `(c, c)`.
        ranges: Vec<(char, char)>,
    },
}

impl Segment {
    /// Whether this segment can reject a directory name that a listing of
    /// its literal start returns. `*`, `name=*` and `**` cannot, so listing
    /// level by level through them only costs requests.
    pub fn prunes(&self) -> bool {
        match self {
            Segment::Literal(_) => true,
            Segment::AnyDepth => false,
            Segment::Glob(tokens) => {
                let rest: Vec<&Token> = tokens
                    .iter()
                    .skip_while(|t| matches!(t, Token::Char(_)))
                    .collect();
                !rest.iter().all(|t| **t == Token::AnyRun)
            }
        }
    }

    /// Whether `text` (one segment, no `/`) matches.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Segment::Literal(s) => s == text,
            Segment::AnyDepth => true,
            Segment::Glob(tokens) => glob_match(tokens, &text.chars().collect::<Vec<_>>()),
        }
    }

    /// The literal text this segment starts with: what a listing of it can
    /// use as its prefix.
    pub fn leading_literal(&self) -> String {
        match self {
            Segment::Literal(s) => s.clone(),
            Segment::AnyDepth => String::new(),
            Segment::Glob(tokens) => tokens
                .iter()
                .map_while(|t| match t {
                    Token::Char(c) => Some(*c),
                    _ => None,
                })
                .collect(),
        }
    }
}

fn class_matches(negated: bool, ranges: &[(char, char)], c: char) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != negated
}

/// Wildcard matching with backtracking to the last `*` (linear for
/// patterns with one `*`, quadratic at worst).
fn glob_match(tokens: &[Token], text: &[char]) -> bool {
    let (mut t, mut s) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while s < text.len() {
        let step = match tokens.get(t) {
            Some(Token::Char(c)) => *c == text[s],
            Some(Token::AnyChar) => true,
            Some(Token::Class { negated, ranges }) => class_matches(*negated, ranges, text[s]),
            Some(Token::AnyRun) => {
                star = Some((t, s));
                t += 1;
                continue;
            }
            None => false,
        };
        if step {
            t += 1;
            s += 1;
        } else if let Some((st, ss)) = star {
            t = st + 1;
            s = ss + 1;
            star = Some((st, ss + 1));
        } else {
            return false;
        }
    }
    tokens[t.min(tokens.len())..]
        .iter()
        .all(|tok| *tok == Token::AnyRun)
}

/// A parsed key pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    source: String,
    segments: Vec<Segment>,
}

/// `text` as a pattern matching only itself: every `\\`, `*`, `?` and
/// `[` escaped with a backslash (for a literal part, like a working
/// directory, joined to a written pattern).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '?' | '[') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl KeyPattern {
    /// Parses `pattern` as a glob (`*`, `**`, `?`, `[...]`, `\` escapes;
    /// `{` is a plain character, as in DuckDB; a trailing `**/` is `**`).
    /// An empty pattern is an error: it names no object (S3 keys are never
    /// empty).
    pub fn parse(pattern: &str) -> Result<Self, GlobError> {
        Self::non_empty(pattern)?;
        let mut segments = Parser::new(pattern).parse()?;
        // `dir/**/` is every object below `dir/`, as DuckDB reads it (a
        // directory URL with `**` pasted in), not keys ending in `/`.
        if let [.., Segment::AnyDepth, Segment::Literal(last)] = segments.as_slice()
            && last.is_empty()
        {
            segments.pop();
        }
        Ok(Self {
            source: pattern.to_owned(),
            segments,
        })
    }

    /// Takes `key` as it is (URL compatibility mode): no wildcards, no
    /// escapes. An empty key is an error, as in [`KeyPattern::parse`].
    pub fn literal(key: &str) -> Result<Self, GlobError> {
        Self::non_empty(key)?;
        Ok(Self {
            source: key.to_owned(),
            segments: key
                .split('/')
                .map(|s| Segment::Literal(s.to_owned()))
                .collect(),
        })
    }

    fn non_empty(pattern: &str) -> Result<(), GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::pattern(
                pattern,
                0,
                "the key is empty; write `**` for every object in the bucket, or name a key",
            ));
        }
        Ok(())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The segments.
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The single key this pattern names, when it has no wildcard.
    pub fn literal_key(&self) -> Option<String> {
        let parts: Option<Vec<&str>> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => Some(l.as_str()),
                _ => None,
            })
            .collect();
        parts.map(|p| p.join("/"))
    }

    /// Everything before the first wildcard: the only prefix worth listing.
    pub fn literal_prefix(&self) -> String {
        let mut prefix = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(s) => {
                    prefix.push_str(s);
                    prefix.push('/');
                }
                other => {
                    prefix.push_str(&other.leading_literal());
                    return prefix;
                }
            }
        }
        // No wildcard: the key itself (without the separator pushed last).
        prefix.pop();
        prefix
    }

    /// Whether `key` matches the whole pattern.
    pub fn matches(&self, key: &str) -> bool {
        if self.is_folder_marker(key) {
            return false;
        }
        let parts: Vec<&str> = key.split('/').collect();
        match_segments(&self.segments, &parts)
    }

    /// Whether `key` matches the segments from `from` on (the key holds
    /// only the part of the full key below those segments' start).
    pub fn matches_from(&self, from: usize, key: &str) -> bool {
        if self.is_folder_marker(key) {
            return false;
        }
        let parts: Vec<&str> = key.split('/').collect();
        match_segments(&self.segments[from.min(self.segments.len())..], &parts)
    }
}

impl KeyPattern {
    /// Whether `key` is a folder marker (`dir/`) this pattern has
    /// wildcards for: consoles and tools make them, S3 lists them, and
    /// no wildcard matches one (DuckDB's glob drops them too). A pattern
    /// without wildcards names its key, marker or not.
    fn is_folder_marker(&self, key: &str) -> bool {
        key.ends_with('/')
            && self
                .segments
                .iter()
                .any(|s| !matches!(s, Segment::Literal(_)))
    }
}

/// Matches segments against key parts; `**` takes zero or more parts (one
/// or more when last). Each (segment, part) pair is decided once, so `k`
/// `**`s against `n` parts cost O(k·n²) steps, not the C(n+k, k) of plain
/// backtracking (ten `**` against a 30-segment key: a minute per key).
fn match_segments(segments: &[Segment], parts: &[&str]) -> bool {
    let mut memo = vec![None; (segments.len() + 1) * (parts.len() + 1)];
    matches_at(segments, parts, 0, 0, &mut memo)
}

/// Whether `segments[s..]` match `parts[p..]`, remembered in `memo`.
fn matches_at(
    segments: &[Segment],
    parts: &[&str],
    s: usize,
    p: usize,
    memo: &mut [Option<bool>],
) -> bool {
    let at = s * (parts.len() + 1) + p;
    if let Some(known) = memo.get(at).copied().flatten() {
        return known;
    }
    let matched = match segments.get(s) {
        None => p == parts.len(),
        // A trailing `**` means "everything below": at least one segment.
        Some(Segment::AnyDepth) if s + 1 == segments.len() => p < parts.len(),
        Some(Segment::AnyDepth) => {
            (p..=parts.len()).any(|q| matches_at(segments, parts, s + 1, q, memo))
        }
        Some(segment) => parts.get(p).is_some_and(|part| {
            segment.matches(part) && matches_at(segments, parts, s + 1, p + 1, memo)
        }),
    };
    if let Some(slot) = memo.get_mut(at) {
        *slot = Some(matched);
    }
    matched
}

/// The character-level parser.
struct Parser<'a> {
    pattern: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(pattern: &'a str) -> Self {
        Self {
            pattern,
            chars: pattern.chars().collect(),
            pos: 0,
        }
    }

    fn error(&self, at: usize, reason: &str) -> GlobError {
        GlobError::pattern(self.pattern, at, reason)
    }

    fn parse(mut self) -> Result<Vec<Segment>, GlobError> {
        let mut segments = Vec::new();
        loop {
            segments.push(self.segment()?);
            match self.chars.get(self.pos) {
                Some('/') => self.pos += 1,
                _ => return Ok(segments),
            }
        }
    }

    /// One segment, up to (not including) the next unescaped `/`.
    fn segment(&mut self) -> Result<Segment, GlobError> {
        let start = self.pos;
        let mut tokens = Vec::new();
        while let Some(&c) = self.chars.get(self.pos) {
            match c {
                '/' => break,
                '\\' => {
                    let escaped = *self
                        .chars
                        .get(self.pos + 1)
                        .ok_or_else(|| self.error(self.pos, "a trailing backslash escapes nothing; write \\\\ for a literal backslash"))?;
                    tokens.push(Token::Char(escaped));
                    self.pos += 2;
                }
                '*' if self.chars.get(self.pos + 1) == Some(&'*') => {
                    let end = self.pos + 2;
                    let whole =
                        self.pos == start && matches!(self.chars.get(end), None | Some('/'));
                    if !whole {
                        return Err(self.error(self.pos, "`**` must be a whole path segment, as in logs/**/x.csv; use `*` within a name"));
                    }
                    self.pos = end;
                    return Ok(Segment::AnyDepth);
                }
                '*' => {
                    tokens.push(Token::AnyRun);
                    self.pos += 1;
                }
                '?' => {
                    tokens.push(Token::AnyChar);
                    self.pos += 1;
                }
                '[' => tokens.push(self.class()?),
                _ => {
                    tokens.push(Token::Char(c));
                    self.pos += 1;
                }
            }
        }
        if tokens.iter().all(|t| matches!(t, Token::Char(_))) {
            let text = tokens
                .into_iter()
                .filter_map(|t| match t {
                    Token::Char(c) => Some(c),
                    _ => None,
                })
                .collect();
            return Ok(Segment::Literal(text));
        }
        Ok(Segment::Glob(tokens))
    }

    /// `[...]` starting at the current `[`.
    fn class(&mut self) -> Result<Token, GlobError> {
        let open = self.pos;
        self.pos += 1;
        // DuckDB 1.5.5 negates with `!` only: its `[^a]` matches `^` and `a`.
        let negated = self.chars.get(self.pos) == Some(&'!');
        if negated {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let Some(&c) = self.chars.get(self.pos) else {
                return Err(self.error(
                    open,
                    "unclosed `[`: add the closing `]`, or write `\\[` for a literal bracket",
                ));
            };
            match c {
                ']' if !first => {
                    self.pos += 1;
                    return Ok(Token::Class { negated, ranges });
                }
                '/' => return Err(self.error(self.pos, "a character class cannot contain `/`")),
                _ => {
                    let lo = if c == '\\' {
                        self.pos += 1;
                        *self
                            .chars
                            .get(self.pos)
                            .ok_or_else(|| self.error(open, "unclosed `[`"))?
                    } else {
                        c
                    };
                    self.pos += 1;
                    let is_range = self.chars.get(self.pos) == Some(&'-')
                        && !matches!(self.chars.get(self.pos + 1), None | Some(']'));
                    if is_range {
                        let hi = self.chars[self.pos + 1];
                        if hi < lo {
                            return Err(self.error(
                                self.pos,
                                &format!("range `{lo}-{hi}` is backwards; write `{hi}-{lo}`"),
                            ));
                        }
                        ranges.push((lo, hi));
                        self.pos += 2;
                    } else {
                        ranges.push((lo, lo));
                    }
                }
            }
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> KeyPattern {
        KeyPattern::parse(s).unwrap()
    }

    #[test]
    fn matches_duckdb_semantics() {
        assert!(p("*.csv").matches("a.csv"));
        assert!(!p("*.csv").matches("dir/a.csv"), "* does not cross /");
        assert!(
            p("dir/**/*.csv").matches("dir/a.csv"),
            "** matches zero segments"
        );
        assert!(p("dir/**/*.csv").matches("dir/x/y/a.csv"));
        assert!(p("**").matches("a/b/c"));
        assert!(
            !p("a/**").matches("a"),
            "a trailing ** is below the directory"
        );
        assert!(p("a/**").matches("a/b"));
        // A folder marker is no file a wildcard names; a literal key is
        // the key it names.
        for pattern in ["dir/*", "**", "*/*", "dir/**", "*"] {
            assert!(!p(pattern).matches("dir/"), "{pattern}");
        }
        assert!(p("dir/").matches("dir/"));
    }

    #[test]
    fn many_any_depth_segments_match_in_polynomial_time() {
        // Plain backtracking takes C(60, 20) steps here: it never ends.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let pattern = KeyPattern::parse(&format!("{}x.csv", "**/".repeat(20))).unwrap();
            let key = format!("{}y.csv", "d/".repeat(40));
            let _ = tx.send((
                pattern.matches(&key),
                pattern.matches(&key.replace('y', "x")),
            ));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(got, Ok((false, true)), "20 `**`s against 41 segments");
        assert!(p("f?.csv").matches("f1.csv") && !p("f?.csv").matches("f10.csv"));
        assert!(p("y=202[34]/*").matches("y=2023/a") && !p("y=202[34]/*").matches("y=2022/a"));
        assert!(p("[!a-c]*").matches("d1") && !p("[!a-c]*").matches("b1"));
        assert!(p("a\\*b").matches("a*b") && !p("a\\*b").matches("axb"));
        assert!(p("q\\?.csv").matches("q?.csv"));
    }

    /// `[^a]` is a class of `^` and `a`, not a negation: DuckDB 1.5.5's
    /// glob over S3 (moto) and local files picks `f^.csv` and `fa.csv` of
    /// `fa fb fc f^`, and `[!a]` the other three (review-8c #11).
    #[test]
    fn a_caret_opening_a_class_is_a_character_as_in_duckdb() {
        let keys = ["fa.csv", "fb.csv", "fc.csv", "f^.csv"];
        let picked = |pattern: &str| -> Vec<&str> {
            keys.into_iter().filter(|k| p(pattern).matches(k)).collect()
        };
        assert_eq!(picked("f[^a].csv"), ["fa.csv", "f^.csv"]);
        assert_eq!(picked("f[!a].csv"), ["fb.csv", "fc.csv", "f^.csv"]);
        assert_eq!(picked("f[^].csv"), ["f^.csv"]);
        assert_eq!(picked("f[!^].csv"), ["fa.csv", "fb.csv", "fc.csv"]);
    }

    #[test]
    fn an_escaped_text_matches_only_itself() {
        let text = r"dir [1]/a*b?/c\d";
        let pattern = KeyPattern::parse(&escape(text)).unwrap();
        assert_eq!(pattern.literal_key().as_deref(), Some(text));
    }

    #[test]
    fn literal_prefix_stops_at_first_wildcard() {
        assert_eq!(
            p("logs/year=202[34]/*.parquet").literal_prefix(),
            "logs/year=202"
        );
        assert_eq!(p("logs/*.parquet").literal_prefix(), "logs/");
        assert_eq!(p("**/x").literal_prefix(), "");
        assert_eq!(p("a/b.csv").literal_key().as_deref(), Some("a/b.csv"));
        assert_eq!(p("a/b*.csv").literal_key(), None);
        assert_eq!(p("a\\*b").literal_key().as_deref(), Some("a*b"));
    }

    #[test]
    fn compatibility_mode_is_literal() {
        let lit = KeyPattern::literal("data/what?*.csv").unwrap();
        assert_eq!(lit.literal_key().as_deref(), Some("data/what?*.csv"));
        assert!(lit.matches("data/what?*.csv"));
    }

    #[test]
    fn errors_point_at_the_character() {
        let e = KeyPattern::parse("a/b[0-9.csv").unwrap_err().to_string();
        assert!(
            e.contains("character 3") && e.contains("unclosed `[`"),
            "{e}"
        );
        let e = KeyPattern::parse("a/x**y/z").unwrap_err().to_string();
        assert!(
            e.contains("character 3") && e.contains("whole path segment"),
            "{e}"
        );
        let e = KeyPattern::parse("a\\").unwrap_err().to_string();
        assert!(e.contains("trailing backslash"), "{e}");
        let e = KeyPattern::parse("[z-a]").unwrap_err().to_string();
        assert!(e.contains("backwards"), "{e}");
    }

    #[test]
    fn pruning_segments() {
        assert!(!Segment::AnyDepth.prunes());
        assert!(!p("*").segments()[0].prunes());
        assert!(
            !p("m=*").segments()[0].prunes(),
            "the listing prefix already says m="
        );
        assert!(p("m=1?").segments()[0].prunes());
        assert!(p("*.csv").segments()[0].prunes());
    }
}
