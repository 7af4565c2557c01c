//! A GetObject body read from its file in large pieces.
//!
//! s3s-fs streams a body through tokio's `File` in 4 KiB reads, each one a
//! trip to tokio's blocking pool and a write to the socket: a 220 KiB
//! ranged GET cost some 55 of each, and the server's futex and syscall
//! time came to about twice the CPU of the client it served (`xtask bench
//! query`, sum of one column: 0.14 CPU-s of server per query against 0.06
//! of s3sql). The bytes and headers are s3s-fs's; only the reads are
//! larger.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use bytes::Bytes;
use s3s::dto::StreamingBlob;

/// Bytes read from the file at a time.
const PIECE: u64 = 1024 * 1024;

/// The body of `length` bytes of `file` from `start`, read [`PIECE`] at a
/// time on the blocking pool.
pub(crate) fn file_body(file: File, start: u64, length: u64) -> StreamingBlob {
    let pieces =
        futures::stream::try_unfold((file, start, length), |(mut file, at, left)| async move {
            if left == 0 {
                return Ok(None);
            }
            let n = left.min(PIECE);
            let (file, bytes) = tokio::task::spawn_blocking(move || -> io::Result<_> {
                let mut buf = vec![0; usize::try_from(n).map_err(io::Error::other)?];
                file.seek(SeekFrom::Start(at))?;
                file.read_exact(&mut buf)?;
                Ok((file, Bytes::from(buf)))
            })
            .await
            .map_err(io::Error::other)??;
            Ok::<_, io::Error>(Some((bytes, (file, at + n, left - n))))
        });
    StreamingBlob::wrap(pieces)
}

/// The first byte of a body whose `Content-Range` is `range` (`bytes
/// first-last/size`, as s3s-fs writes it); 0 for a whole object.
pub(crate) fn first_byte(range: Option<&str>) -> Option<u64> {
    let Some(range) = range else {
        return Some(0);
    };
    let (first, _) = range.strip_prefix("bytes ")?.split_once('-')?;
    first.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::io::Write;

    #[test]
    fn the_first_byte_is_read_from_the_content_range() {
        assert_eq!(first_byte(None), Some(0));
        assert_eq!(first_byte(Some("bytes 100-199/1000")), Some(100));
        assert_eq!(first_byte(Some("bytes */1000")), None);
    }

    /// A body longer than one piece comes whole and in order, from its
    /// first byte to its last.
    #[tokio::test]
    async fn a_body_of_several_pieces_is_the_files_range() {
        let bytes: Vec<u8> = (0..(2 * PIECE + 10)).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let (start, length) = (5, 2 * PIECE + 3);
        let body = file_body(file, start, length);
        let read: Vec<Bytes> = body.try_collect().await.unwrap();
        assert_eq!(read.len(), 3);
        let read: Vec<u8> = read.concat();
        assert_eq!(read, &bytes[5..5 + usize::try_from(length).unwrap()]);
    }
}
