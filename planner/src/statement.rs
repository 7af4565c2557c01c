//! The statement layer (DESIGN.md, a query's path, step 1): DuckDB
//! statements sqlparser does not cover are parsed here, the way
//! datafusion-cli's `exec.rs` and DataFusion's `DFParser` split the work;
//! everything else is DataFusion's SQL, parsed in DuckDB's dialect.

use datafusion::error::DataFusionError;
use datafusion::sql::parser::{DFParserBuilder, Statement as DFStatement};
use std::ops::ControlFlow;

use crate::dialect::DuckDb;
use datafusion::sql::sqlparser::ast::{
    Query, SelectFlavor, SelectItem, SetExpr, VisitMut, VisitorMut, WildcardAdditionalOptions,
};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{
    Location, Token, TokenWithSpan, Tokenizer, TokenizerError,
};

use crate::copy::{self, CopyStatement};
use crate::describe::{self, DescribeStatement};
use crate::error::{PlannerError, Result};
use crate::secret_sql::{self, SecretStatement};
use crate::setting_sql::{self, SettingStatement};

/// One parsed statement, ready for [`crate::Session::execute`].
///
/// `Debug` never shows a secret's value: secret parameters print redacted.
#[derive(Debug)]
pub struct Statement {
    pub(crate) kind: StatementKind,
    /// Its `(DESCRIBE ...)` subqueries, by the table name standing in.
    pub(crate) describes: Vec<crate::describe_subquery::DescribeTable>,
}

#[derive(Debug)]
pub(crate) enum StatementKind {
    /// `CREATE SECRET` / `DROP SECRET`.
    Secret(SecretStatement),
    /// `SET` / `RESET` / `SHOW` of an `s3_*` or `http_*` setting.
    Setting(SettingStatement),
    /// DuckDB's `DESCRIBE` / `SUMMARIZE` of a query, table or file.
    Describe(DescribeStatement),
    /// MindsDB's `CREATE` / `DROP DATABASE`, `SHOW DATABASES`, `SHOW TABLES FROM`.
    Database(crate::mindsdb::DatabaseStatement),
    /// DuckDB's `COPY ... TO` (our writer, not DataFusion's).
    Copy(Box<CopyStatement>),
    /// `INSERT INTO a.b ...`: MindsDB's append to a database's object,
    /// or DataFusion's INSERT when `a` is no database.
    Insert(crate::mindsdb::InsertStatement),
    /// Anything DataFusion plans.
    DataFusion(Box<DFStatement>),
}

/// `text` as a SQL string literal: single-quoted, each `'` doubled (SQL
/// text s3sql writes for DataFusion or shows as DuckDB would).
pub(crate) fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Splits `sql` into statements, ours and DataFusion's.
pub(crate) fn parse(sql: &str) -> Result<Vec<Statement>> {
    let (text, mut describes) = crate::describe_subquery::cut_out(sql)?;
    if describes.is_empty() {
        return parse_text(sql);
    }
    let mut statements = parse_text(&text)?;
    for statement in &mut statements {
        let StatementKind::DataFusion(query) = &statement.kind else {
            continue;
        };
        let text = query.to_string();
        let (mine, rest) = describes
            .into_iter()
            .partition(|(name, _)| text.contains(name.as_str()));
        statement.describes = mine;
        describes = rest;
    }
    if describes.is_empty() {
        Ok(statements)
    } else {
        Err(PlannerError::argument(
            "DESCRIBE",
            "(DESCRIBE ...) and (SUMMARIZE ...) are read as tables by queries only, not by COPY, DESCRIBE or SET",
        ))
    }
}

/// `sql`'s tokens in DuckDB's dialect, an `E'...'` string read as the
/// plain string it means (`E'it\'s'` is `'it''s'`): DuckDB takes one
/// wherever a string goes, sqlparser's expressions only in PostgreSQL's
/// dialect.
fn tokens(sql: &str) -> Result<Vec<TokenWithSpan>> {
    let mut tokens = Tokenizer::new(&DuckDb, sql)
        .tokenize_with_location()
        .map_err(|e| PlannerError::Syntax(naming_the_escape(sql, e).into()))?;
    for token in &mut tokens {
        if let Token::EscapedStringLiteral(text) = &mut token.token {
            token.token = Token::SingleQuotedString(std::mem::take(text));
        }
    }
    crate::interval_units::singular_units(&mut tokens);
    Ok(tokens)
}

/// A tokenizer error that names the escape of a closed `E'...'` string
/// it refused, which sqlparser calls unterminated.
fn naming_the_escape(sql: &str, error: TokenizerError) -> TokenizerError {
    if error.message != UNTERMINATED_ESCAPE_STRING {
        return error;
    }
    match refused_escape(sql, error.location) {
        // The escape is part of the string, which may be a credential.
        Some(_) if crate::mask::may_hold_secret(sql) => TokenizerError {
            message: "invalid escape in an E'...' string (not shown: the statement may hold a secret): it takes \\xHH, octal \\ooo up to \\377, \\uXXXX and \\UXXXXXXXX, none of them NUL or a surrogate".to_owned(),
            location: error.location,
        },
        Some(escape) => TokenizerError {
            message: format!(
                "invalid escape {escape} in an E'...' string: it takes \\xHH, octal \\ooo up to \\377, \\uXXXX and \\UXXXXXXXX, none of them NUL or a surrogate"
            ),
            location: error.location,
        },
        None => error,
    }
}

/// [`parse`], of text without `(DESCRIBE ...)` subqueries.
fn parse_text(sql: &str) -> Result<Vec<Statement>> {
    let dialect = DuckDb;
    let mut df = DFParserBuilder::new(tokens(sql)?)
        .with_dialect(&dialect)
        .build()?;
    let mut statements = Vec::new();
    let mut expecting_delimiter = false;
    // Whether the last statement carried a secret, so an error about what
    // follows it does not echo it either.
    let mut sensitive = false;
    // Whether it was a CREATE DATABASE, whose PARAMETERS a shell would
    // echo unmasked (its secrets are double-quoted JSON strings).
    let mut after_database = false;
    loop {
        while df.parser.consume_token(&Token::SemiColon) {
            expecting_delimiter = false;
        }
        if df.parser.peek_token() == Token::EOF {
            break;
        }
        if expecting_delimiter {
            let error = with_hint(
                PlannerError::from(unexpected(&df.parser, "end of statement")),
                sql,
            );
            return Err(match (sensitive, after_database) {
                (_, true) => crate::mindsdb::pointed(hide_literals_in(error, sql), sql),
                (true, false) => hide_literals_in(error, sql),
                (false, false) => error,
            });
        }
        if explains_our_statement(&df.parser) {
            // DataFusion would plan or echo it, secret and all.
            return Err(PlannerError::argument(
                "EXPLAIN",
                "it shows the plan of a query; CREATE SECRET, DROP SECRET, CREATE DATABASE, \
                 SET and RESET have none (run them without EXPLAIN)",
            ));
        }
        if explains_copy(&df.parser) {
            return Err(PlannerError::argument(
                "EXPLAIN",
                "it shows the plan of a query, and COPY writes through s3sql's own writer, \
                 which has no plan to show: EXPLAIN the COPY's query (EXPLAIN SELECT ...), \
                 or run the COPY itself",
            ));
        }
        let kind = if let Some(database) = crate::mindsdb::parse(&mut df.parser, sql)
            .map_err(|e| crate::mindsdb::pointed(hide_literals_in(e, sql), sql))?
        {
            StatementKind::Database(database)
        } else if let Some(describe) = describe::parse(&mut df.parser)? {
            StatementKind::Describe(describe)
        } else if let Some(copy) = copy::parse(&mut df.parser)? {
            StatementKind::Copy(Box::new(copy))
        } else if let Some(secret) =
            secret_sql::parse(&mut df.parser).map_err(|e| hide_literals_in(e, sql))?
        {
            StatementKind::Secret(secret)
        } else if let Some(setting) = setting_sql::parse(&mut df.parser)? {
            StatementKind::Setting(setting)
        } else if let Some(insert) =
            crate::mindsdb::parse_insert(&mut df.parser).map_err(|e| with_hint(e, sql))?
        {
            StatementKind::Insert(insert)
        } else {
            StatementKind::DataFusion(Box::new(
                df.parse_statement()
                    .map_err(|e| with_hint(syntax(e), sql))?,
            ))
        };
        after_database = matches!(kind, StatementKind::Database(_));
        sensitive = match &kind {
            StatementKind::Secret(_) | StatementKind::Database(_) => true,
            StatementKind::Setting(setting) => setting.is_sensitive(),
            _ => false,
        };
        statements.push(Statement {
            kind,
            describes: Vec::new(),
        });
        expecting_delimiter = true;
    }
    Ok(statements)
}

/// Makes DuckDB's `FROM x` (with no SELECT) read `SELECT * FROM x` in
/// every query of `node`: sqlparser reads it as a SELECT of no columns,
/// which DataFusion plans as a result without columns.
pub(crate) fn from_first_selects_all<V: VisitMut>(node: &mut V) {
    struct FromFirst;
    impl VisitorMut for FromFirst {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            select_all(&mut query.body);
            ControlFlow::Continue(())
        }
    }
    fn select_all(body: &mut SetExpr) {
        match body {
            SetExpr::Select(select)
                if select.flavor == SelectFlavor::FromFirstNoSelect
                    && select.projection.is_empty() =>
            {
                select
                    .projection
                    .push(SelectItem::Wildcard(WildcardAdditionalOptions::default()));
            }
            SetExpr::SetOperation { left, right, .. } => {
                select_all(left);
                select_all(right);
            }
            _ => {}
        }
    }
    let _ = node.visit(&mut FromFirst);
}

/// Whether `sql` is whole statements: it ends in a `;` that is outside
/// every string, quoted name, backtick-quoted key and comment, read by the
/// tokenizer [`parse`] splits with. A shell gathers lines until it is
/// ([`StatementLines`] does so reading each line once).
///
/// ```
/// assert!(s3sql_planner::ends_statement("SELECT 1; -- done"));
/// assert!(!s3sql_planner::ends_statement("SELECT 'a;"));
/// ```
pub fn ends_statement(sql: &str) -> bool {
    match read_tokens(sql) {
        Tail::Closed(last) => last == Some(true),
        Tail::Open => false,
        Tail::Refused => sql.trim_end().ends_with(';'),
    }
}

/// Whether a token is written between quotes.
pub(crate) fn is_quoted(token: &Token) -> bool {
    match token {
        Token::Word(word) => word.quote_style.is_some(),
        Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_) => true,
        _ => false,
    }
}

/// Char offsets of the tokenizer's locations (line and column, from 1,
/// a column one char).
pub(crate) struct CharOffsets {
    /// The char offset at which each line starts.
    lines: Vec<usize>,
    chars: usize,
}

impl CharOffsets {
    pub(crate) fn new(sql: &str) -> Self {
        let mut lines = vec![0];
        let mut chars = 0;
        for c in sql.chars() {
            chars += 1;
            if c == '\n' {
                lines.push(chars);
            }
        }
        Self { lines, chars }
    }

    pub(crate) fn of(&self, location: Location) -> usize {
        let line = usize::try_from(location.line).unwrap_or(usize::MAX);
        let column = usize::try_from(location.column).unwrap_or(usize::MAX);
        match line.checked_sub(1).and_then(|l| self.lines.get(l)) {
            Some(start) => (start + column.saturating_sub(1)).min(self.chars),
            None => self.chars,
        }
    }
}

/// sqlparser says "Unterminated encoded string literal" (at the string's
/// start) both for an `E'...'` string with no closing quote and for a
/// closed one with an escape it refuses (`E'\0'`, `E'\400'`, `E'\uD800'`).
const UNTERMINATED_ESCAPE_STRING: &str = "Unterminated encoded string literal";

/// Where the `E'...'` string starting at char `at` of `sql` closes: the
/// char offset of its closing quote, `None` when it runs to the end.
fn escape_string_end(sql: &[char], at: usize) -> Option<usize> {
    let mut i = at + 2;
    while i < sql.len() {
        match sql[i] {
            '\\' => i += 2,
            '\'' if sql.get(i + 1) == Some(&'\'') => i += 2,
            '\'' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The escape sqlparser refuses in the closed `E'...'` string starting
/// at `location` of `sql` (`\0`, `\400`, `\uD800`), if that is why it
/// refused the string.
fn refused_escape(sql: &str, location: Location) -> Option<String> {
    let chars: Vec<char> = sql.chars().collect();
    let at = CharOffsets::new(sql).of(location);
    let end = escape_string_end(&chars, at)?;
    let body = &chars[at + 2..end];
    let mut i = 0;
    while i < body.len() {
        if body[i] != '\\' {
            i += 1;
            continue;
        }
        let longest = match body.get(i + 1) {
            Some('u') => 6,
            Some('U') => 10,
            Some('x') => 4,
            Some(c) if c.is_digit(8) => 4,
            _ => 2,
        };
        let next = body[i + 1..]
            .iter()
            .position(|&c| c == '\\')
            .map_or(body.len(), |p| i + 1 + p);
        let upto = next.min(i + longest).min(body.len());
        let prefix: String = std::iter::once('E')
            .chain(std::iter::once('\''))
            .chain(body[..next].iter().copied())
            .chain(std::iter::once('\''))
            .collect();
        if Tokenizer::new(&DuckDb, &prefix).tokenize().is_err() {
            return Some(body[i..upto].iter().collect());
        }
        i = next;
    }
    None
}

/// What the tokenizer makes of some text.
enum Tail {
    /// Every token closed; whether the last one that is not whitespace or
    /// a comment is `;` (`None`: there is none).
    Closed(Option<bool>),
    /// A string, name or comment still open: more lines follow.
    Open,
    /// Something else the tokenizer refuses: run it, so parsing reports it.
    Refused,
}

fn read_tokens(sql: &str) -> Tail {
    match Tokenizer::new(&DuckDb, sql).tokenize() {
        Ok(tokens) => Tail::Closed(
            tokens
                .iter()
                .rev()
                .find(|t| !matches!(t, Token::Whitespace(_)))
                .map(|t| t == &Token::SemiColon),
        ),
        Err(e) if e.message == UNTERMINATED_ESCAPE_STRING => {
            let chars: Vec<char> = sql.chars().collect();
            match escape_string_end(&chars, CharOffsets::new(sql).of(e.location)) {
                Some(_) => Tail::Refused,
                None => Tail::Open,
            }
        }
        Err(e) if e.message.contains("Unterminated") || e.message.contains("EOF") => Tail::Open,
        Err(_) => Tail::Refused,
    }
}

/// SQL typed or pasted line by line, until it ends a statement
/// ([`ends_statement`]). Each line is tokenized once: reading resumes
/// after the last line that closed every token, so a pasted 5,000-line
/// statement costs its length, not its square.
///
/// ```
/// let mut lines = s3sql_planner::StatementLines::default();
/// assert!(!lines.push_line("SELECT 'a;"));
/// assert!(lines.push_line("b';"));
/// assert_eq!(lines.take(), "SELECT 'a;\nb';\n");
/// ```
#[derive(Debug, Default)]
pub struct StatementLines {
    text: String,
    /// Where the text read so far ends with every token closed.
    closed: usize,
    /// Whether the last token before `closed` that is not whitespace or a
    /// comment is `;`.
    semicolon: bool,
}

impl StatementLines {
    /// Adds `line` (and a newline); whether the text now ends a statement.
    pub fn push_line(&mut self, line: &str) -> bool {
        self.text.push_str(line);
        self.text.push('\n');
        // The text ends in a newline: a token closed at the end stays
        // closed whatever follows, so reading may resume there.
        match read_tokens(&self.text[self.closed..]) {
            Tail::Closed(last) => {
                self.closed = self.text.len();
                self.semicolon = last.unwrap_or(self.semicolon);
                self.semicolon
            }
            Tail::Open => false,
            Tail::Refused => self.text.trim_end().ends_with(';'),
        }
    }

    /// Whether no line was added since the last [`Self::take`].
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The lines so far, starting afresh.
    pub fn take(&mut self) -> String {
        let text = std::mem::take(&mut self.text);
        *self = Self::default();
        text
    }
}

/// The first five words (upper case, `""` for another token) of the
/// statement an `EXPLAIN [ANALYZE] [VERBOSE]` next at `parser` explains;
/// `None` when the next statement is no EXPLAIN.
fn explained_words(parser: &Parser<'_>) -> Option<Vec<String>> {
    let word = |n: usize| match parser.peek_nth_token(n).token {
        Token::Word(w) => w.value.to_ascii_uppercase(),
        _ => String::new(),
    };
    if word(0) != "EXPLAIN" {
        return None;
    }
    let mut n = 1;
    while matches!(word(n).as_str(), "ANALYZE" | "VERBOSE") {
        n += 1;
    }
    Some((n..n + 5).map(word).collect())
}

/// Whether the next statement is `EXPLAIN [ANALYZE] [VERBOSE]` of a
/// secret or setting statement.
fn explains_our_statement(parser: &Parser<'_>) -> bool {
    let Some(words) = explained_words(parser) else {
        return false;
    };
    match words[0].as_str() {
        "SET" | "RESET" => true,
        // CREATE [OR REPLACE] [PERSISTENT | TEMPORARY] SECRET, DROP [...]
        // SECRET, and CREATE DATABASE (its PARAMETERS hold credentials).
        "CREATE" | "DROP" => words[1..]
            .iter()
            .any(|w| matches!(w.as_str(), "SECRET" | "DATABASE")),
        _ => false,
    }
}

/// Whether the next statement is `EXPLAIN [ANALYZE] [VERBOSE] COPY`:
/// DataFusion would plan (and, with ANALYZE, run) its own COPY, which is
/// not s3sql's: it emptied an existing local file before a failing query,
/// knew no S3 target and none of DuckDB's options (review-9d #2).
fn explains_copy(parser: &Parser<'_>) -> bool {
    explained_words(parser).is_some_and(|words| words[0] == "COPY")
}

/// "Expected: X, found: Y at Line: l, Column: c", as sqlparser words it.
pub(crate) fn unexpected(parser: &Parser<'_>, expected: &str) -> ParserError {
    let found = parser.peek_token();
    // Location's Display reads " at Line: l, Column: c".
    ParserError::ParserError(format!(
        "Expected: {expected}, found: {found}{}",
        found.span.start
    ))
}

/// DataFusion's parser reports syntax errors as `DataFusionError::SQL`;
/// they are syntax errors like ours, with their line and column.
fn syntax(error: DataFusionError) -> PlannerError {
    match error {
        DataFusionError::SQL(parser_error, _) => PlannerError::Syntax(*parser_error),
        other => other.into(),
    }
}

/// A syntax error with a MindsDB user's likely mistake named after it
/// (an object key without backticks, a `;` before `LIMIT`).
fn with_hint(error: PlannerError, sql: &str) -> PlannerError {
    let PlannerError::Syntax(ParserError::ParserError(message)) = &error else {
        return error;
    };
    let Some((line, column)) = error_location(message) else {
        return error;
    };
    match crate::mindsdb::hint(sql, Location { line, column }) {
        Some(hint) => PlannerError::Syntax(ParserError::ParserError(format!("{message}; {hint}"))),
        None => error,
    }
}

/// `(line, column)` from sqlparser's "... at Line: 3, Column: 18".
fn error_location(message: &str) -> Option<(u64, u64)> {
    let rest = &message[message.rfind("Line: ")? + "Line: ".len()..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, column.parse().ok()?))
}

/// A syntax error about a statement that carries a secret, with every
/// quoted literal in its message replaced by `'***'`: sqlparser's messages
/// quote the token they found, which may be the secret.
pub(crate) fn hide_literals(error: PlannerError) -> PlannerError {
    hidden(error, false)
}

/// [`hide_literals`] for an error about `sql`: a bare token found is shown
/// when the masker leaves it shown in `sql` (a keyword or a name, never a
/// value it stars), where `found: ***` starred the `PARAMETERS` or
/// `extra` a user had to fix (review-s24 F15, review-10h #8).
pub(crate) fn hide_literals_in(error: PlannerError, sql: &str) -> PlannerError {
    let shown = match &error {
        PlannerError::Syntax(ParserError::ParserError(message)) => bare_token_shown(message, sql),
        _ => false,
    };
    hidden(error, shown)
}

fn hidden(error: PlannerError, bare_shown: bool) -> PlannerError {
    match error {
        PlannerError::Syntax(ParserError::ParserError(message)) => {
            PlannerError::Syntax(ParserError::ParserError(mask_quoted(&message, bare_shown)))
        }
        PlannerError::Syntax(ParserError::TokenizerError(message)) => PlannerError::Syntax(
            ParserError::TokenizerError(mask_quoted(&message, bare_shown)),
        ),
        other => other,
    }
}

/// Whether the bare token `message` says it found (`found: x at Line: l,
/// Column: c`) stands unstarred in [`crate::mask::masked_statement`] of
/// `sql` at that place.
fn bare_token_shown(message: &str, sql: &str) -> bool {
    let Some(token) = message
        .rfind("found: ")
        .map(|at| &message[at + "found: ".len()..])
        .and_then(|rest| rest.split(" at Line: ").next())
    else {
        return false;
    };
    let Some((line, column)) = error_location(message) else {
        return false;
    };
    if token.is_empty() || token.starts_with(['\'', '"']) {
        return false;
    }
    let at = CharOffsets::new(sql).of(Location { line, column });
    let written: Vec<char> = sql.chars().skip(at).take(token.chars().count()).collect();
    let masked: Vec<char> = crate::mask::masked_statement(sql)
        .chars()
        .skip(at)
        .take(written.len())
        .collect();
    written.iter().copied().eq(token.chars()) && written == masked
}

/// `text` with the inside of each single-quoted span after "found:" (the
/// token the user wrote) replaced by `***`, or the whole token when it is
/// bare (EOF stays); what was expected stays, and
/// so does a line echoed under the message ("LINE n: "), which is starred
/// already with its length kept so that its caret stays in place.
fn mask_quoted(text: &str, bare_shown: bool) -> String {
    let (text, echoed) = match text.find("\nLINE ") {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let (kept, text) = match text.find("found:") {
        Some(at) => text.split_at(at),
        None => ("", text),
    };
    let mut out = String::with_capacity(kept.len() + text.len());
    out.push_str(kept);
    // A bare token (`found: HqTOPSECRET at Line: ...`): a credential pasted
    // without quotes that starts with a digit or holds a space is split
    // into tokens, and the parser stops at one of them.
    if let Some(token) = text.strip_prefix("found: ")
        && !token.starts_with('\'')
    {
        let end = token.find(" at Line: ").unwrap_or(token.len());
        out.push_str("found: ");
        out.push_str(if &token[..end] == "EOF" || bare_shown {
            &token[..end]
        } else {
            "***"
        });
        out.push_str(&token[end..]);
        out.push_str(echoed);
        return out;
    }
    let mut inside = false;
    for c in text.chars() {
        if c == '\'' {
            if !inside {
                out.push_str("'***");
            }
            inside = !inside;
            if !inside {
                out.push('\'');
            }
        } else if !inside {
            out.push(c);
        }
    }
    out.push_str(echoed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sqlparser's message names the token it found: a credential pasted
    /// without quotes that starts with a digit or holds a space is that
    /// token, and must not be in the message (Display or Debug).
    #[test]
    fn a_bare_word_credential_after_found_is_never_in_the_message() {
        for sql in [
            "CREATE SECRET s4 (TYPE s3, KEY_ID 'AK', SECRET 7HqTOPSECRETL)",
            "SET s3_secret_access_key = 7HqTOPSECRETM",
            "CREATE SECRET s2 (TYPE s3, KEY_ID 'AK', SECRET wJalr TOPSECRETB)",
            "SET s3_session_token = FwoGZX TOPSECRETP",
            // A secret holding quotes: the word between them is the token
            // found (review-s26 F6).
            "CREATE SECRET s (TYPE s3, KEY_ID 'AK', SECRET 'wJal'rXTOPSECRET'FEMI')",
            "SET s3_secret_access_key = 'wJal'rXTOPSECRET'FEMI'",
        ] {
            let error = parse(sql).unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("TOPSECRET"), "{sql}: {shown}");
        }
    }

    /// The token found is shown when it is no value the masker stars: a
    /// keyword or a word the user must fix, where `found: ***` hid it
    /// (review-s24 F15, review-10h #8); a bare credential stays starred.
    #[test]
    fn a_found_keyword_is_shown_and_a_found_credential_is_not() {
        let parameters = "{\"aws_access_key_id\": \"AK\", \"aws_secret_access_key\": \"TOPSECRET\", \"bucket\": \"b\"}";
        for (sql, found) in [
            (
                format!("CREATE DATABASE c6 WITH PARAMETERS = {parameters}, ENGINE = 's3'"),
                "found: PARAMETERS at line 1, column 25",
            ),
            (
                format!("CREATE DATABASE c11 WITH ENGINE = 's3', PARAMETERS = {parameters} extra"),
                "found: extra at line 1, column",
            ),
            (
                "CREATE SECRET s1 (TYPE s3, KEY_ID 'k', SECRET 'TOPSECRET'\n REGION 'r')"
                    .to_owned(),
                "found: REGION at Line: 2, Column: 2",
            ),
            (
                "CREATE SECRET s4 (TYPE s3, KEY_ID 'AK', SECRET 7HqTOPSECRETL)".to_owned(),
                "found: *** at Line: 1",
            ),
        ] {
            let error = parse(&sql).unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(shown.contains(found), "{sql}: {shown}");
            assert!(!shown.contains("TOPSECRET"), "{sql}: {shown}");
        }
    }

    /// A PARAMETERS value on the line after its name (unquoted, or a quoted
    /// one broken over two lines) is starred on the echoed line too.
    #[test]
    fn a_database_secret_on_the_line_after_its_name_is_never_echoed() {
        for sql in [
            "CREATE DATABASE d1 WITH ENGINE = 's3', PARAMETERS = {\"bucket\": \"b\", \"aws_secret_access_key\":\n  TOPSECRET1}",
            "CREATE DATABASE d7 WITH ENGINE = 's3', PARAMETERS = {\"bucket\": \"b\", \"aws_secret_access_key\": \"wJalr\nTOPSECRET7\" \"x\": 1}",
        ] {
            let error = parse(sql).unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("TOPSECRET"), "{sql}: {shown}");
            assert!(shown.contains("LINE 2"), "{sql}: {shown}");
        }
    }

    /// A refused escape inside a statement that may hold a secret is not
    /// quoted: it is part of the string (review-8d #11: ten characters of
    /// the SECRET were in the message).
    #[test]
    fn a_refused_escape_of_a_secret_is_not_quoted() {
        for sql in [
            "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET E'wJalr\\UdeadbeefXYZ')",
            "SET s3_secret_access_key = E'wJalr\\UdeadbeefXYZ'",
        ] {
            let error = parse(sql).unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("deadbeef"), "{sql}: {shown}");
            assert!(shown.contains("invalid escape"), "{sql}: {shown}");
        }
    }

    /// DuckDB 1.5.5 nests block comments and reads `E'...'` strings with
    /// backslash escapes: a statement ends only after them.
    #[test]
    fn nested_comments_and_escape_strings_end_where_duckdb_ends_them() {
        let open = "SELECT 1 /* a /* b */ c;";
        assert!(!ends_statement(open));
        assert!(ends_statement(&format!("{open}\n*/;")));
        assert!(ends_statement("SELECT E'it\\'s;' AS s;"));
        let statements = parse("SELECT 1 AS a /* outer /* inner */ still; */; SELECT 2").unwrap();
        assert_eq!(statements.len(), 2);
    }

    /// DuckDB 1.5.5: `SELECT E'it\'s;' AS s, e'a\tb' AS t` -> `it's;`,
    /// `a<tab>b`; sqlparser's DuckDB dialect refused them.
    #[test]
    fn escape_strings_are_strings() {
        let statements = parse("SELECT E'it\\'s;' AS s, e'a\\tb' AS t, e AS u FROM x").unwrap();
        let [statement] = statements.as_slice() else {
            panic!("one statement: {statements:?}");
        };
        let StatementKind::DataFusion(query) = &statement.kind else {
            panic!("a query: {statement:?}");
        };
        assert_eq!(
            query.to_string(),
            "SELECT 'it''s;' AS s, 'a\tb' AS t, e AS u FROM x"
        );
    }
}
