//! Images on object storage: `--ckpt-file s3://bucket/prefix/app.ckpt` (and `gs://`,
//! `az://`; `file:///path` is the local path).
//!
//! An image whose path is a URL is written as a local image first, into a cache directory
//! that mirrors the store (`CKPT_CACHE_DIR`, else `$XDG_CACHE_HOME/ckpt`, else
//! `~/.cache/ckpt`; then `<scheme>/<bucket>/<key>`), with everything a local image has: its
//! lock, its file journal, kept generations, and its chunk packs (a remote image is always
//! incremental, so that a save uploads only the chunks the store lacks). Once the local
//! image is durable, its writer uploads it:
//!
//! 1. the packs it refers to that the store lacks (one listing of the store's packs tells),
//!    several at a time, each in a multipart upload whose parts go in parallel;
//! 2. the image object, the same way. Object stores make an object visible only when its
//!    upload is complete, so the image at the URL changes from the previous one to the new
//!    one at once: an upload cut short (a network failure, the writer killed) leaves the
//!    previous image current, and its packs are still there;
//! 3. the store's packs no kept image refers to any more are deleted.
//!
//! The save is durable (for [`wait_durable`](crate::wait_durable) and `--ckpt-sync`) when
//! the upload is done. A failed upload is a save that failed ([`Error::Remote`]); the next
//! save uploads what is missing, its own image's packs included.
//!
//! `--restore URL` downloads the image, then the packs it refers to that the cache does not
//! have (several at a time), and restores from the cache: on another machine, or in
//! another cache directory, the run continues where it saved and goes on saving to the
//! URL. `--ckpt-resume` with a URL uses the cached image, and downloads it when the cache
//! has none. Chunk hashes are checked as the restore reads them, as for local images.
//!
//! Credentials and endpoints come from each store's usual environment variables (read by
//! `object_store`): `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP` for S3 and S3-compatible servers;
//! `GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_SERVICE_ACCOUNT_KEY` for GCS;
//! `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY` for Azure. One program saves
//! to one URL at a time (two writers of one URL would delete each other's packs).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The cache directory of images on object storage.
pub const ENV_CACHE: &str = "CKPT_CACHE_DIR";

/// The schemes of object stores.
const SCHEMES: &[&str] = &["s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl"];

/// The cached images of this process and their URLs.
static REMOTES: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// `scheme` if `s` reads `scheme://…`.
fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    let ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then_some(scheme)
}

/// Whether `p` is a URL of an object store (not a local path).
pub fn is_url(p: &Path) -> bool {
    p.to_str()
        .and_then(scheme_of)
        .is_some_and(|s| SCHEMES.contains(&s))
}

/// The root of the cache of images on object storage.
fn cache_root() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env(ENV_CACHE)
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("ckpt")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("ckpt")))
        .unwrap_or_else(|| std::env::temp_dir().join("ckpt-cache"))
}

/// The local path of an image given as `path`: itself (made absolute) for a local path or
/// a `file://` URL; for an object store's URL, its place in the cache, remembered so that
/// saves to it are uploaded. Unknown schemes and URLs that name no object are usage
/// errors.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    resolve_in(path, cache_root)
}

/// [`resolve`], with the cache's root from `root`.
fn resolve_in(path: &Path, root: impl FnOnce() -> PathBuf) -> Result<PathBuf> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let Some(s) = path.to_str() else {
        return Ok(absolute(path));
    };
    let Some(scheme) = scheme_of(s) else {
        return Ok(absolute(path));
    };
    let rest = &s[scheme.len() + 3..];
    if scheme == "file" {
        if !rest.starts_with('/') {
            return Err(Error::Usage(format!(
                "{s}: a file:// URL names an absolute path (file:///dir/app.ckpt)"
            )));
        }
        return Ok(PathBuf::from(rest));
    }
    if !SCHEMES.contains(&scheme) {
        return Err(Error::Usage(format!(
            "{s}: images are saved to a local path, file://, s3://, gs:// or az:// URLs, \
             not {scheme}://"
        )));
    }
    let bad = |why: &str| {
        Error::Usage(format!(
            "{s}: {why}; an image on object storage is named SCHEME://BUCKET/KEY, as \
             s3://bucket/runs/app.ckpt"
        ))
    };
    let (bucket, key) = rest.split_once('/').ok_or_else(|| bad("no object key"))?;
    if bucket.is_empty() || bucket.starts_with('.') || bucket.contains(['\\', '?', '#']) {
        return Err(bad("no valid bucket"));
    }
    let parts: Vec<&str> = key.split('/').collect();
    if key.is_empty() || key.ends_with('/') {
        return Err(bad("the key names no object"));
    }
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains(['?', '#']))
    {
        return Err(bad("the key has an empty, `.` or `..` part"));
    }
    if !cfg!(feature = "remote") {
        return Err(Error::Usage(format!(
            "{s}: this program was built without ckpt's `remote` feature, which saves to \
             object storage: enable it (features = [\"remote\"] on the ckpt dependency) or \
             save to a local path"
        )));
    }
    let mut local = root().join(scheme).join(bucket);
    local.extend(parts);
    if let Some(dir) = local.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::Unwritable {
            path: local.clone(),
            source: e,
            hint: format!(
                "images on object storage are written to a local cache first: set {ENV_CACHE} \
                 to a writable directory"
            ),
        })?;
    }
    let mut remotes = REMOTES.lock().unwrap_or_else(|e| e.into_inner());
    if !remotes.iter().any(|(p, _)| *p == local) {
        remotes.push((local.clone(), s.to_string()));
    }
    Ok(local)
}

/// The URL of the cached image `local`, if it is one.
pub fn url_of(local: &Path) -> Option<String> {
    let remotes = REMOTES.lock().unwrap_or_else(|e| e.into_inner());
    remotes
        .iter()
        .find(|(p, _)| p == local)
        .map(|(_, u)| u.clone())
}

/// The name an image written to `local` records as the run's image: its URL when it is
/// on object storage.
pub fn name_of(local: &Path) -> String {
    url_of(local).unwrap_or_else(|| local.to_string_lossy().into_owned())
}

#[cfg(feature = "remote")]
pub use store::{fetch, push, remove};

/// Without the `remote` feature no path resolves to a remote image: nothing to do.
#[cfg(not(feature = "remote"))]
pub fn push(_local: &Path) -> Result<()> {
    Ok(())
}

/// See [`push`].
#[cfg(not(feature = "remote"))]
pub fn remove(_local: &Path) -> Result<()> {
    Ok(())
}

/// See [`push`].
#[cfg(not(feature = "remote"))]
pub fn fetch(url: &Path) -> Result<PathBuf> {
    resolve(url)
}

#[cfg(feature = "remote")]
mod store {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fs::File;
    use std::os::unix::fs::FileExt;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use futures::{StreamExt, TryStreamExt};
    use object_store::path::Path as Key;
    use object_store::{ObjectStore, ObjectStoreExt, ObjectStoreScheme, PutPayload};

    use super::{resolve, url_of};
    use crate::error::{Error, Result};
    use crate::image::chunks;

    /// The size of a multipart upload's parts.
    const PART: usize = 8 << 20;
    /// Parts of one upload moving at once.
    const PARTS_AT_ONCE: usize = 8;
    /// Objects moving at once.
    const OBJECTS_AT_ONCE: usize = 4;
    /// Retries of a request that failed (a network error, a 5xx), `CKPT_REMOTE_RETRIES`.
    const ENV_RETRIES: &str = "CKPT_REMOTE_RETRIES";
    /// See [`gc_grace`].
    const ENV_GC_GRACE: &str = "CKPT_REMOTE_GC_GRACE";
    /// See [`deadline`].
    const ENV_TIMEOUT: &str = "CKPT_REMOTE_TIMEOUT";
    /// A time by the store's clock, in milliseconds since 1970.
    type Stamp = i64;

    /// An object store and the key of the image in it.
    struct Remote {
        url: String,
        store: Arc<dyn ObjectStore>,
        key: Key,
    }

    impl Remote {
        fn open(url: &str) -> Result<Remote> {
            let err = |detail: String| Error::Remote {
                url: url.to_string(),
                detail,
            };
            let parsed = url::Url::parse(url).map_err(|e| err(format!("not a URL: {e}")))?;
            let (scheme, key) = ObjectStoreScheme::parse(&parsed)
                .map_err(|e| err(format!("not an object store's URL: {e}")))?;
            let retries = std::env::var(ENV_RETRIES)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(3);
            let retry = object_store::RetryConfig {
                max_retries: retries,
                retry_timeout: Duration::from_secs(60),
                ..Default::default()
            };
            let built = match scheme {
                ObjectStoreScheme::AmazonS3 => object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .with_retry(retry)
                    .build()
                    .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
                ObjectStoreScheme::GoogleCloudStorage => {
                    object_store::gcp::GoogleCloudStorageBuilder::from_env()
                        .with_url(url)
                        .with_retry(retry)
                        .build()
                        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                }
                ObjectStoreScheme::MicrosoftAzure => {
                    object_store::azure::MicrosoftAzureBuilder::from_env()
                        .with_url(url)
                        .with_retry(retry)
                        .build()
                        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
                }
                other => return Err(err(format!("{other:?} is not an object store"))),
            };
            let store = built.map_err(|e| {
                err(format!(
                    "cannot use the store: {e}; set its credentials and endpoint in the \
                     environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, \
                     AWS_ENDPOINT_URL for S3)"
                ))
            })?;
            Ok(Remote {
                url: url.to_string(),
                store,
                key,
            })
        }

        fn err(&self, doing: &str, e: impl std::fmt::Display) -> Error {
            Error::Remote {
                url: self.url.clone(),
                detail: format!("{doing}: {e}"),
            }
        }

        /// The key of `name` (relative to the image's directory, as images name packs).
        fn key_of(&self, name: &str) -> Key {
            let mut parts: Vec<String> = self.key.parts().map(|p| p.as_ref().to_string()).collect();
            parts.pop();
            parts.extend(name.split('/').map(str::to_string));
            Key::from_iter(parts)
        }

        /// The packs of `local`'s store on the object store: name → (size, last change).
        async fn packs(&self, local: &Path) -> Result<BTreeMap<String, (u64, Stamp)>> {
            let prefix = self.key_of(&chunks::store_name(local));
            let dir = self.key_of("");
            let listed: Vec<_> = self
                .store
                .list(Some(&prefix))
                .try_collect()
                .await
                .map_err(|e| self.err("listing the chunk packs", e))?;
            let dir = dir.as_ref();
            Ok(listed
                .into_iter()
                .filter_map(|m| {
                    let k = m.location.as_ref();
                    let name = if dir.is_empty() {
                        k
                    } else {
                        k.strip_prefix(dir)?.strip_prefix('/')?
                    };
                    chunks::is_pack_of(local, name).then(|| {
                        (
                            name.to_string(),
                            (m.size, m.last_modified.timestamp_millis()),
                        )
                    })
                })
                .collect())
        }

        /// Uploads the file `from` as `to`: one request for a small file, else a multipart
        /// upload whose parts go in parallel (aborted when a part fails: nothing of it
        /// becomes visible).
        async fn upload(&self, from: &Path, to: &Key) -> Result<()> {
            let what = || format!("uploading {}", from.display());
            let f = File::open(from).map_err(|e| self.err(&what(), e))?;
            let len = f.metadata().map_err(|e| self.err(&what(), e))?.len();
            if len <= PART as u64 {
                let data = std::fs::read(from).map_err(|e| self.err(&what(), e))?;
                self.store
                    .put(to, PutPayload::from(data))
                    .await
                    .map_err(|e| self.err(&what(), e))?;
                return Ok(());
            }
            let upload = self
                .store
                .put_multipart(to)
                .await
                .map_err(|e| self.err(&what(), e))?;
            let mut w = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
            let mut at = 0u64;
            let mut buf = vec![0u8; PART];
            let r: Result<()> = async {
                while at < len {
                    let n = (len - at).min(PART as u64) as usize;
                    f.read_exact_at(&mut buf[..n], at)
                        .map_err(|e| self.err(&what(), e))?;
                    w.wait_for_capacity(PARTS_AT_ONCE)
                        .await
                        .map_err(|e| self.err(&what(), e))?;
                    w.write(&buf[..n]);
                    at += n as u64;
                }
                Ok(())
            }
            .await;
            match r {
                Ok(()) => w.finish().await.map(drop).map_err(|e| self.err(&what(), e)),
                Err(e) => {
                    let _ = w.abort().await;
                    Err(e)
                }
            }
        }

        /// Downloads `from` (of `len` bytes) to the file `to` in one streamed request,
        /// through a temporary file renamed into place once synced. (Objects go in
        /// parallel; ranges of one object in parallel were 4x slower against the S3 server
        /// the tests use: see BENCHMARKS.md.)
        async fn download(&self, from: &Key, len: u64, to: &Path) -> Result<()> {
            use std::io::Write;
            let what = || format!("downloading to {}", to.display());
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir).map_err(|e| self.err(&what(), e))?;
            }
            let name = to.file_name().unwrap_or_default().to_string_lossy();
            let tmp = to.with_file_name(format!(".{name}.dl.{}", std::process::id()));
            let mut f = File::create(&tmp).map_err(|e| self.err(&what(), e))?;
            let r: Result<()> = async {
                let got = self
                    .store
                    .get(from)
                    .await
                    .map_err(|e| self.err(&what(), e))?;
                let mut stream = got.into_stream();
                let mut n = 0u64;
                while let Some(bytes) = stream.try_next().await.map_err(|e| self.err(&what(), e))? {
                    n += bytes.len() as u64;
                    f.write_all(&bytes).map_err(|e| self.err(&what(), e))?;
                }
                if n != len {
                    return Err(self.err(&what(), "the object changed while read"));
                }
                f.sync_all().map_err(|e| self.err(&what(), e))?;
                std::fs::rename(&tmp, to).map_err(|e| self.err(&what(), e))
            }
            .await;
            if r.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            r
        }

        async fn push(&self, local: &Path) -> Result<()> {
            let dir = local.parent().unwrap_or(Path::new("."));
            let refs = chunks::refs_of(local)?;
            let needed: BTreeSet<String> = refs.into_iter().map(|r| r.pack).collect();
            let present = self.packs(local).await?;
            let missing = needed.iter().filter(|p| {
                let size = std::fs::metadata(dir.join(p)).map(|m| m.len()).ok();
                present.get(*p).map(|(s, _)| *s) != size
            });
            futures::stream::iter(missing)
                .map(|p| async move { self.upload(&dir.join(p), &self.key_of(p)).await })
                .buffer_unordered(OBJECTS_AT_ONCE)
                .try_collect::<()>()
                .await?;
            // The switch from the previous image to this one.
            self.upload(local, &self.key).await?;
            // Packs no kept image refers to, uploaded long enough before this image (by
            // the store's clock) that no other writer of the URL (a writer of a killed run
            // still uploading) is between uploading them and its image. Best effort: the
            // next save tries again.
            let Some(live) = chunks::live_packs(local) else {
                return Ok(());
            };
            let Ok(now) = self.store.head(&self.key).await else {
                return Ok(());
            };
            let now = now.last_modified.timestamp_millis();
            let grace = i64::try_from(gc_grace().as_millis()).unwrap_or(i64::MAX);
            for (p, (_, at)) in &present {
                if !live.contains(p) && !needed.contains(p) && at.saturating_add(grace) <= now {
                    let _ = self.store.delete(&self.key_of(p)).await;
                }
            }
            Ok(())
        }

        async fn fetch(&self, local: &Path) -> Result<()> {
            let meta = self.store.head(&self.key).await.map_err(|e| match e {
                object_store::Error::NotFound { .. } => Error::Remote {
                    url: self.url.clone(),
                    detail: "no image there: check the URL (a run saves to it with \
                             --ckpt-file URL)"
                        .into(),
                },
                e => self.err("reading the image", e),
            })?;
            self.download(&self.key, meta.size, local).await?;
            let dir = local.parent().unwrap_or(Path::new("."));
            let refs = chunks::refs_of(local)?;
            let mut sizes = BTreeMap::new();
            for r in refs {
                let end = r.offset + r.stored;
                let e = sizes.entry(r.pack).or_insert(0u64);
                *e = (*e).max(end);
            }
            // A pack in the cache is the same pack (its name is drawn at random once, and
            // packs never change); hashes are checked as chunks are read anyway.
            let wanted = sizes
                .into_iter()
                .filter(|(p, end)| std::fs::metadata(dir.join(p)).map_or(true, |m| m.len() < *end));
            futures::stream::iter(wanted)
                .map(|(p, _)| async move {
                    let key = self.key_of(&p);
                    let meta = self
                        .store
                        .head(&key)
                        .await
                        .map_err(|e| self.err(&format!("reading the chunk pack {p}"), e))?;
                    self.download(&key, meta.size, &dir.join(&p)).await
                })
                .buffer_unordered(OBJECTS_AT_ONCE)
                .try_collect::<()>()
                .await
        }

        async fn remove(&self, local: &Path) -> Result<()> {
            let packs = self.packs(local).await?;
            self.store.delete(&self.key).await.or_else(|e| match e {
                object_store::Error::NotFound { .. } => Ok(()),
                e => Err(self.err("removing the image", e)),
            })?;
            for p in packs.keys() {
                let _ = self.store.delete(&self.key_of(p)).await;
            }
            Ok(())
        }
    }

    /// How long before an image a pack no image refers to must have been uploaded to be
    /// deleted (`CKPT_REMOTE_GC_GRACE`, a duration; 15 minutes by default).
    fn gc_grace() -> Duration {
        std::env::var(ENV_GC_GRACE)
            .ok()
            .and_then(|v| crate::agent::triggers::parse_duration(&v).ok())
            .unwrap_or(Duration::from_secs(15 * 60))
    }

    /// How long one upload or download may take in all (`CKPT_REMOTE_TIMEOUT`, a
    /// duration; 10 minutes by default): a writer never hangs on a store that stopped
    /// answering (it holds the image's lock).
    fn deadline() -> Duration {
        std::env::var(ENV_TIMEOUT)
            .ok()
            .and_then(|v| crate::agent::triggers::parse_duration(&v).ok())
            .unwrap_or(Duration::from_secs(600))
    }

    /// Runs `f` on a runtime of its own, on this thread (saves run on the program's
    /// thread, a writer thread or a forked writer: none has one; a forked writer has no
    /// other thread to hand work to), for at most [`deadline`].
    fn block_on<T>(url: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the object store client", "(runtime)", e))?;
        let limit = deadline();
        rt.block_on(async { tokio::time::timeout(limit, f).await })
            .unwrap_or_else(|_| {
                Err(Error::Remote {
                    url: url.to_string(),
                    detail: format!(
                        "the store did not finish within {limit:?} ({ENV_TIMEOUT} sets the limit)"
                    ),
                })
            })
    }

    /// Uploads the durable local image `local` to its URL (nothing if it has none).
    pub fn push(local: &Path) -> Result<()> {
        let Some(url) = url_of(local) else {
            return Ok(());
        };
        let r = Remote::open(&url).and_then(|remote| block_on(&url, remote.push(local)));
        r.map_err(|e| {
            let detail = match e {
                Error::Remote { detail, .. } => detail,
                e => e.to_string(),
            };
            Error::Remote {
                url,
                detail: format!(
                    "{detail}; the image there is still the previous one (this save is \
                     complete in the cache, {}, and the next save uploads what is missing)",
                    local.display()
                ),
            }
        })
    }

    /// Removes the image at `local`'s URL and its packs (a run that finished with
    /// `--ckpt-finished=remove`); nothing if it has none.
    pub fn remove(local: &Path) -> Result<()> {
        let Some(url) = url_of(local) else {
            return Ok(());
        };
        let remote = Remote::open(&url)?;
        block_on(&url, remote.remove(local))
    }

    /// Downloads the image at `url` (with the packs the cache lacks) into the cache;
    /// returns its local path. A local path or `file://` URL is returned as is.
    pub fn fetch(url: &Path) -> Result<PathBuf> {
        let local = resolve(url)?;
        let Some(u) = url_of(&local) else {
            return Ok(local);
        };
        let remote = Remote::open(&u)?;
        block_on(&u, remote.fetch(&local))?;
        Ok(local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_resolve_to_the_cache_or_to_clear_errors() {
        let dir = std::env::temp_dir().join(format!("ckpt-remote-resolve-{}", std::process::id()));
        let resolve = |p: &Path| resolve_in(p, || dir.clone());
        assert_eq!(
            resolve(Path::new("file:///srv/app.ckpt")).unwrap(),
            PathBuf::from("/srv/app.ckpt")
        );
        assert!(!is_url(Path::new("file:///srv/app.ckpt")));
        assert!(is_url(Path::new("s3://b/k.ckpt")));
        assert!(!is_url(Path::new("app.ckpt")));
        if cfg!(feature = "remote") {
            let local = resolve(Path::new("s3://bucket/runs/app.ckpt")).unwrap();
            assert_eq!(local, dir.join("s3/bucket/runs/app.ckpt"));
            assert_eq!(url_of(&local).as_deref(), Some("s3://bucket/runs/app.ckpt"));
            assert_eq!(name_of(&local), "s3://bucket/runs/app.ckpt");
        }
        for (url, says) in [
            ("ftp://host/app.ckpt", "not ftp://"),
            ("s3://bucket", "no object key"),
            ("s3://bucket/", "names no object"),
            ("s3://bucket/runs/", "names no object"),
            ("s3://bucket/../app.ckpt", "`..`"),
            ("s3:///app.ckpt", "no valid bucket"),
            ("file://relative/app.ckpt", "absolute path"),
        ] {
            let e = resolve(Path::new(url)).unwrap_err().to_string();
            assert!(e.contains(says), "{url}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
