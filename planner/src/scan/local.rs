//! Local files (`data/x.csv`, `/abs/x.parquet`, `file:///abs/x.json`) are
//! globbed by the same expander as S3: the file system answers glob-list's
//! [`ListObjects`] with keys that are absolute paths without the leading
//! `/`, so one matcher serves both, and DataFusion reads them through its
//! own local object store.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use s3sql_glob_list::{ListObjects, ListPage, ListRequest, StoreError};
use s3sql_s3_client::ObjectMeta;

/// The bucket name local paths are expanded under (never sent anywhere).
pub(crate) const LOCAL_BUCKET: &str = "local";

/// Whether `url` names a local file rather than an object.
pub(crate) fn is_local(url: &str) -> bool {
    url.starts_with("file://") || !url.contains("://")
}

/// Local `url` with a leading `~` read as the `home` directory, as DuckDB
/// does (`~/data/*.parquet`); any other path as it is.
pub(crate) fn expand_home<'a>(url: &'a str, home: Option<&Path>) -> Cow<'a, str> {
    let rest = match url.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => return Cow::Borrowed(url),
    };
    match home {
        Some(home) => {
            let home = home.to_string_lossy();
            Cow::Owned(format!("{}{rest}", home.trim_end_matches('/')))
        }
        None => Cow::Borrowed(url),
    }
}

/// `url` as an absolute path pattern, as a key (no leading `/`): the
/// working directory of a relative path escaped (its `[`, `*`, `?`, `\`
/// are its own text), the written part a pattern.
pub(crate) fn local_key(url: &str) -> std::io::Result<String> {
    absolute_key(url, s3sql_glob_list::escape)
}

/// `path` (no wildcards) as an absolute key, the working directory as is.
fn local_path_key(path: &str) -> std::io::Result<String> {
    absolute_key(path, str::to_owned)
}

/// `url` joined to the working directory (each of its names passed
/// through `cwd_name`) unless absolute, as a key.
fn absolute_key(url: &str, cwd_name: impl Fn(&str) -> String) -> std::io::Result<String> {
    let path = url.strip_prefix("file://").unwrap_or(url);
    let mut parts: Vec<String> = Vec::new();
    if !Path::new(path).is_absolute() {
        for part in std::env::current_dir()?.components() {
            if let Component::Normal(p) = part {
                parts.push(cwd_name(&p.to_string_lossy()));
            }
        }
    }
    // `..` and `.` are resolved by the path's text, as a shell would for a
    // path that exists; keys have no such segments.
    for part in Path::new(path).components() {
        match part {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok(parts.join("/"))
}

/// A local pattern's directory as the user wrote it (`data/`, `./x/`,
/// `../y/`, `/abs/`; up to the last `/` before the first wildcard) and as
/// a key, so a matched file is named as DuckDB names it: that directory as
/// written, then the rest of the file's path.
#[derive(Debug)]
pub(crate) struct LocalBase {
    written: String,
    key: String,
}

impl LocalBase {
    /// The base of local pattern `url`.
    pub(crate) fn of(url: &str) -> std::io::Result<Self> {
        let path = url.strip_prefix("file://").unwrap_or(url);
        let literal = path.find(['*', '?', '[', '\\']).unwrap_or(path.len());
        let globbed = literal < path.len();
        let written = match path[..literal].rfind('/') {
            Some(at) => &path[..=at],
            // A wildcard in the first segment: DuckDB names matches `./x`.
            None if globbed => "./",
            None => "",
        };
        let key = local_path_key(written)?;
        // DuckDB names a globbed file without the doubled slashes written.
        let mut written = written.to_owned();
        while globbed && written.contains("//") {
            written = written.replace("//", "/");
        }
        Ok(Self { written, key })
    }

    /// File `key` (an absolute path without its `/`) as the user would
    /// write it.
    pub(crate) fn name(&self, key: &str) -> String {
        let rest = if self.key.is_empty() {
            Some(key)
        } else {
            key.strip_prefix(self.key.as_str())
                .and_then(|r| r.strip_prefix('/'))
        };
        match rest {
            Some(rest) => format!("{}{rest}", self.written),
            None => format!("/{key}"),
        }
    }
}

/// The local file system as a listable store.
#[derive(Debug, Default)]
pub(crate) struct LocalFiles;

fn info(key: String, meta: &std::fs::Metadata) -> ObjectMeta {
    let object = ObjectMeta::new(key, meta.len());
    match meta.modified() {
        Ok(modified) => object.with_last_modified(DateTime::<Utc>::from(modified)),
        Err(_) => object,
    }
}

/// Every entry under `dir` whose key starts with `prefix`: files as
/// objects; directories as common prefixes (`delimited`) or walked into.
fn walk(dir: &Path, key_dir: &str, prefix: &str, delimited: bool, page: &mut ListPage) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = format!("{key_dir}{name}");
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.is_dir() {
            let sub = format!("{key}/");
            if !(sub.starts_with(prefix) || prefix.starts_with(&sub)) {
                continue;
            }
            if delimited && sub.starts_with(prefix) {
                page.common_prefixes.push(sub);
            } else {
                walk(&entry.path(), &sub, prefix, delimited, page);
            }
        } else if key.starts_with(prefix) {
            page.objects.push(info(key, &meta));
        }
    }
}

impl ListObjects for LocalFiles {
    fn list_page<'a>(
        &'a self,
        _bucket: &'a str,
        request: &'a ListRequest,
        _continuation: Option<String>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        async move {
            let mut page = ListPage::default();
            let dir_key = match request.prefix.rfind('/') {
                Some(at) => &request.prefix[..=at],
                None => "",
            };
            let dir = PathBuf::from(format!("/{dir_key}"));
            walk(&dir, dir_key, &request.prefix, request.delimited, &mut page);
            page.objects.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(page)
        }
        .boxed()
    }

    fn head<'a>(
        &'a self,
        _bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<ObjectMeta>, StoreError>> {
        async move {
            match std::fs::metadata(format!("/{key}")) {
                Ok(meta) if meta.is_file() => Ok(Some(info(key.to_owned(), &meta))),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Box::new(e) as StoreError),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `~` is the home directory, as in DuckDB 1.5.5.
    #[test]
    fn a_tilde_is_the_home_directory() {
        let home = Some(Path::new("/home/u"));
        assert_eq!(expand_home("~/h.csv", home), "/home/u/h.csv");
        assert_eq!(expand_home("~/d/*.csv", home), "/home/u/d/*.csv");
        assert_eq!(expand_home("~", home), "/home/u");
        assert_eq!(expand_home("~x/h.csv", home), "~x/h.csv");
        assert_eq!(expand_home("a/~/h.csv", home), "a/~/h.csv");
        assert_eq!(expand_home("~/h.csv", None), "~/h.csv");
        let root = Some(Path::new("/"));
        assert_eq!(expand_home("~/h.csv", root), "/h.csv");
    }

    /// A file is named with its directory as written, the rest as found.
    #[test]
    fn local_names_keep_the_directory_as_written() {
        let cwd = local_path_key(".").unwrap();
        let under = |rest: &str| format!("{cwd}/{rest}");
        let cases = [
            (
                "data/*/*.csv",
                under("data/year=2024/x.csv"),
                "data/year=2024/x.csv",
            ),
            (
                "./data/*/x.csv",
                under("data/year=2024/x.csv"),
                "./data/year=2024/x.csv",
            ),
            // DuckDB 1.5.5: a wildcard in the first segment names `./`.
            ("*.csv", under("a.csv"), "./a.csv"),
            ("a*.csv", under("a.csv"), "./a.csv"),
            ("a.csv", under("a.csv"), "a.csv"),
            ("a.csv", under("a.csv"), "a.csv"),
            (
                "data/../data/x.csv",
                under("data/x.csv"),
                "data/../data/x.csv",
            ),
            (
                "/tmp/k=v/*.csv",
                "tmp/k=v/a.csv".to_owned(),
                "/tmp/k=v/a.csv",
            ),
            ("file:///tmp/a.csv", "tmp/a.csv".to_owned(), "/tmp/a.csv"),
            ("/*.csv", "a.csv".to_owned(), "/a.csv"),
            // DuckDB 1.5.5: a globbed directory loses its doubled slashes,
            // a literal path keeps them.
            (
                ".//data/*/x.csv",
                under("data/year=2024/x.csv"),
                "./data/year=2024/x.csv",
            ),
            (
                "data//*/x.csv",
                under("data/year=2024/x.csv"),
                "data/year=2024/x.csv",
            ),
            (
                "./data/year=2024//x.csv",
                under("data/year=2024/x.csv"),
                "./data/year=2024//x.csv",
            ),
        ];
        for (pattern, key, name) in cases {
            assert_eq!(
                LocalBase::of(pattern).unwrap().name(&key),
                name,
                "{pattern}"
            );
        }
    }
}
