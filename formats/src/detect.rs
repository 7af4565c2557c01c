//! Which format and compression a file has: first from its name (what DuckDB's
//! replacement scans look at), then from its first bytes when the name says
//! nothing.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use datafusion::common::parsers::CompressionTypeVariant;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;

use crate::FormatError;

/// A file format s3sql reads; also names the DuckDB reader function for it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// Apache Parquet (`read_parquet`).
    Parquet,
    /// Delimited text, CSV and TSV alike (`read_csv`).
    Csv,
    /// JSON: newline-delimited objects or one array of objects (`read_json`).
    Json,
}

impl FileFormat {
    /// DuckDB's reader function for the format, as users type it.
    pub fn reader_name(self) -> &'static str {
        match self {
            FileFormat::Parquet => "read_parquet",
            FileFormat::Csv => "read_csv",
            FileFormat::Json => "read_json",
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileFormat::Parquet => "parquet",
            FileFormat::Csv => "csv",
            FileFormat::Json => "json",
        })
    }
}

/// Whole-file compression of a CSV or JSON object (Parquet compresses inside).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Plain bytes.
    #[default]
    Uncompressed,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

impl Compression {
    /// DataFusion's name for the same compression, for its file sources.
    pub fn file_compression_type(self) -> FileCompressionType {
        FileCompressionType::from(self.variant())
    }

    /// DataFusion's config-level name for the same compression (`CsvOptions::compression`).
    pub fn variant(self) -> CompressionTypeVariant {
        match self {
            Compression::Uncompressed => CompressionTypeVariant::UNCOMPRESSED,
            Compression::Gzip => CompressionTypeVariant::GZIP,
            Compression::Zstd => CompressionTypeVariant::ZSTD,
        }
    }

    /// DuckDB's name for the compression (`compression = 'gzip'`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Uncompressed => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A detected format, with what the detection learnt on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The file format.
    pub format: FileFormat,
    /// The whole-file compression.
    pub compression: Compression,
    /// A delimiter the name implies (`.tsv` means tab); the sniffer tries it first
    /// ([`crate::sniff_csv_with_hint`]).
    pub delimiter_hint: Option<u8>,
}

impl Detected {
    fn new(format: FileFormat, compression: Compression) -> Self {
        Detected {
            format,
            compression,
            delimiter_hint: None,
        }
    }
}

/// Format and compression from a path or key's extension, case-insensitively:
/// `.parquet`, `.csv`, `.tsv`, `.json`, `.jsonl`, `.ndjson`, each optionally
/// followed by `.gz` or `.zst`. `None` when the name says nothing.
pub fn detect_from_path(path: &str) -> Option<Detected> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let (stem, compression) = split_compression(&name);
    let extension = stem.rsplit_once('.')?.1;
    let mut detected = match extension {
        "parquet" | "parq" => Detected::new(FileFormat::Parquet, compression),
        "csv" => Detected::new(FileFormat::Csv, compression),
        "tsv" | "tab" => Detected::new(FileFormat::Csv, compression),
        "json" | "jsonl" | "ndjson" => Detected::new(FileFormat::Json, compression),
        _ => return None,
    };
    if matches!(extension, "tsv" | "tab") {
        detected.delimiter_hint = Some(b'\t');
    }
    // Parquet compresses its pages itself; `x.parquet.gz` is not something a reader can seek in.
    if detected.format == FileFormat::Parquet && compression != Compression::Uncompressed {
        return None;
    }
    Some(detected)
}

/// Compression from the name's last suffix alone (`.gz`, `.gzip`, `.zst`,
/// `.zstd`, case-insensitively), so `read_csv('log.txt.gz')` is decompressed
/// although `.txt` names no format.
pub fn compression_from_path(path: &str) -> Compression {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    split_compression(&name).1
}

/// The lower-cased file name without its compression suffix, and that
/// compression; a name that is only the suffix (`gz`) has none.
fn split_compression(name: &str) -> (&str, Compression) {
    let strip = |suffixes: &[&str]| {
        suffixes
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|stem| !stem.is_empty())
    };
    if let Some(stem) = strip(&[".gz", ".gzip"]) {
        (stem, Compression::Gzip)
    } else if let Some(stem) = strip(&[".zst", ".zstd"]) {
        (stem, Compression::Zstd)
    } else {
        (name, Compression::Uncompressed)
    }
}

const PARQUET_MAGIC: &[u8] = b"PAR1";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Format and compression from a file's first bytes: the Parquet magic, the
/// gzip or zstd magic (then the decompressed start decides the format), a JSON
/// opening (`{`, or `[` followed by `{` or `]`), or else CSV when the sample
/// looks like text. `None` when nothing fits.
pub fn detect_from_bytes(sample: &[u8]) -> Option<Detected> {
    if sample.starts_with(PARQUET_MAGIC) {
        return Some(Detected::new(
            FileFormat::Parquet,
            Compression::Uncompressed,
        ));
    }
    for (magic, compression) in [
        (GZIP_MAGIC, Compression::Gzip),
        (ZSTD_MAGIC, Compression::Zstd),
    ] {
        if sample.starts_with(magic) {
            let inner = decompress_sample(sample, compression).ok()?;
            let detected = detect_text(&inner)?;
            return Some(Detected {
                compression,
                ..detected
            });
        }
    }
    detect_text(sample)
}

fn detect_text(sample: &[u8]) -> Option<Detected> {
    let text = strip_bom(sample);
    let mut bytes = text.iter().copied().filter(|b| !b.is_ascii_whitespace());
    match bytes.next() {
        Some(b'{') => return Some(Detected::new(FileFormat::Json, Compression::Uncompressed)),
        Some(b'[') if matches!(bytes.next(), Some(b'{' | b']')) => {
            return Some(Detected::new(FileFormat::Json, Compression::Uncompressed));
        }
        None => return None,
        _ => {}
    }
    looks_like_text(text)
        .ok()
        .map(|()| Detected::new(FileFormat::Csv, Compression::Uncompressed))
}

/// The sample without a leading UTF-8 byte order mark.
pub fn strip_bom(sample: &[u8]) -> &[u8] {
    sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample)
}

/// `Ok` when the sample is UTF-8 without NUL bytes (a character cut by the
/// end of the sample is fine); otherwise why not.
pub(crate) fn looks_like_text(sample: &[u8]) -> Result<(), FormatError> {
    if let Some(at) = sample.iter().position(|&b| b == 0) {
        return Err(FormatError::NotText {
            reason: format!("a NUL byte at offset {at}"),
        });
    }
    match std::str::from_utf8(sample) {
        Ok(_) => Ok(()),
        // `error_len() == None`: the sample ends inside a character, which a range read does.
        Err(e) if e.error_len().is_none() => Ok(()),
        Err(e) => Err(FormatError::NotText {
            reason: format!("invalid UTF-8 at offset {}", e.valid_up_to()),
        }),
    }
}

/// Decompresses as much of a (possibly cut) compressed sample as it holds, so
/// the sniffer can look at the start of a `.csv.gz` read by range. At most
/// [`CSV_SAMPLE_BYTES`](crate::CSV_SAMPLE_BYTES) come out however well the
/// sample compresses; a stream that is corrupt, not merely cut, is an error.
pub fn decompress_sample(
    sample: &[u8],
    compression: Compression,
) -> Result<Cow<'_, [u8]>, FormatError> {
    decompress_prefix(sample, compression, crate::CSV_SAMPLE_BYTES)
}

/// [`decompress_sample`], its text cut at `limit` bytes.
pub fn decompress_prefix(
    sample: &[u8],
    compression: Compression,
    limit: usize,
) -> Result<Cow<'_, [u8]>, FormatError> {
    if compression == Compression::Uncompressed {
        return Ok(Cow::Borrowed(&sample[..sample.len().min(limit)]));
    }
    let error = |reason: String| FormatError::Decompress {
        compression: compression.name(),
        reason,
    };
    let reader = compression
        .file_compression_type()
        .convert_read(std::io::Cursor::new(sample.to_vec()))
        .map_err(|e| error(e.to_string()))?;
    let mut out = Vec::new();
    match reader.take(limit as u64).read_to_end(&mut out) {
        Ok(_) => Ok(Cow::Owned(out)),
        // A sample read by range is cut: the decoder then runs out of input
        // once the bytes it held are out.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {
            Ok(Cow::Owned(out))
        }
        Err(e) => Err(error(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// What a detection test expects: format, compression and delimiter hint, or nothing.
    type Expected = Option<(FileFormat, Compression, Option<u8>)>;

    #[test]
    fn detection_by_name() {
        use Compression::*;
        use FileFormat::*;
        let cases: &[(&str, Expected)] = &[
            ("s3://b/k/data.parquet", Some((Parquet, Uncompressed, None))),
            ("s3://b/k/DATA.PARQUET", Some((Parquet, Uncompressed, None))),
            ("a.csv", Some((Csv, Uncompressed, None))),
            ("a.CSV.GZ", Some((Csv, Gzip, None))),
            ("dir.v2/a.csv.zst", Some((Csv, Zstd, None))),
            ("a.tsv", Some((Csv, Uncompressed, Some(b'\t')))),
            ("a.tsv.gz", Some((Csv, Gzip, Some(b'\t')))),
            ("a.json", Some((Json, Uncompressed, None))),
            ("a.jsonl", Some((Json, Uncompressed, None))),
            ("a.ndjson.gz", Some((Json, Gzip, None))),
            ("a.NDJSON.ZST", Some((Json, Zstd, None))),
            ("a.parquet.gz", None),
            ("a.txt", None),
            ("noextension", None),
            ("s3://b/dir.csv/file", None),
            ("a.gz", None),
            ("", None),
        ];
        for (path, expected) in cases {
            let got = detect_from_path(path).map(|d| (d.format, d.compression, d.delimiter_hint));
            assert_eq!(got, *expected, "{path}");
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        zstd::encode_all(data, 1).unwrap()
    }

    #[test]
    fn detection_by_content() {
        use Compression::*;
        use FileFormat::*;
        let csv_gz = gzip(b"a,b\n1,2\n");
        let json_gz = gzip(b"{\"a\": 1}\n");
        let csv_zst = zstd(b"x|y\n1|2\n");
        let cases: &[(&[u8], Expected)] = &[
            (b"PAR1\x15\x04", Some((Parquet, Uncompressed, None))),
            (b"{\"a\":1}\n{\"a\":2}\n", Some((Json, Uncompressed, None))),
            (b"\xEF\xBB\xBF  {\"a\":1}", Some((Json, Uncompressed, None))),
            (b"\n [ {\"a\":1} ]", Some((Json, Uncompressed, None))),
            (b"[]", Some((Json, Uncompressed, None))),
            (b"[1,2]\n", Some((Csv, Uncompressed, None))),
            (b"id,name\n1,Ann\n", Some((Csv, Uncompressed, None))),
            (b"caf\xC3", Some((Csv, Uncompressed, None))),
            (b"a\0b", None),
            (b"\xFF\xFEa,b", None),
            (b"", None),
            (b"   \n", None),
            (&csv_gz, Some((Csv, Gzip, None))),
            (&json_gz, Some((Json, Gzip, None))),
            (&csv_gz[..csv_gz.len() - 8], Some((Csv, Gzip, None))),
            (&csv_zst, Some((Csv, Zstd, None))),
            (b"\x1f\x8bnot gzip at all", None),
            (b"\x28\xb5\x2f\xfdnot zstd", None),
        ];
        for (sample, expected) in cases {
            let got =
                detect_from_bytes(sample).map(|d| (d.format, d.compression, d.delimiter_hint));
            assert_eq!(got, *expected, "{:?}", String::from_utf8_lossy(sample));
        }
    }

    #[test]
    fn decompress_sample_is_capped() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![b'a'; 1 << 20];
        for _ in 0..256 {
            encoder.write_all(&block).unwrap();
        }
        let compressed = encoder.finish().unwrap();
        let start = decompress_sample(&compressed, Compression::Gzip).unwrap();
        assert!(
            !start.is_empty() && start.len() <= crate::CSV_SAMPLE_BYTES,
            "{} bytes",
            start.len()
        );
        let compressed = zstd(&block);
        let start = decompress_sample(&compressed, Compression::Zstd).unwrap();
        assert!(
            start.len() <= crate::CSV_SAMPLE_BYTES,
            "{} bytes",
            start.len()
        );
    }

    #[test]
    fn corrupt_samples_are_errors_not_cut_ones() {
        let text = b"id,name\n1,Ann\n2,Bob\n";
        let mut bad_crc = gzip(text);
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 0xFF;
        let err = decompress_sample(&bad_crc, Compression::Gzip)
            .unwrap_err()
            .to_string();
        assert!(err.contains("gzip"), "{err}");
        // A cut zstd frame still gives its start (its first 128 KiB blocks).
        let long: Vec<u8> = (0..50_000)
            .flat_map(|i| format!("{i},row {i}\n").into_bytes())
            .collect();
        let compressed = zstd(&long);
        let start =
            decompress_sample(&compressed[..compressed.len() / 2], Compression::Zstd).unwrap();
        assert!(!start.is_empty() && long.starts_with(&start));
    }

    #[test]
    fn compression_from_suffix_alone() {
        use Compression::*;
        for (path, expected) in [
            ("log.txt.gz", Gzip),
            ("a.gz", Gzip),
            ("s3://b/export.zst", Zstd),
            ("X.CSV.GZIP", Gzip),
            ("a.csv", Uncompressed),
            ("noextension", Uncompressed),
            ("gz", Uncompressed),
        ] {
            assert_eq!(compression_from_path(path), expected, "{path}");
        }
    }

    #[test]
    fn a_cut_gzip_sample_decompresses_to_its_start() {
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("{i},row {i}\n").into_bytes())
            .collect();
        let compressed = gzip(&text);
        let cut = &compressed[..compressed.len() / 2];
        let start = decompress_sample(cut, Compression::Gzip).unwrap();
        assert!(
            !start.is_empty() && text.starts_with(&start),
            "{} bytes",
            start.len()
        );
        let err = decompress_sample(b"nope", Compression::Gzip)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("gzip") && err.contains("compression option"),
            "{err}"
        );
    }
}
