//! The build's static files (`/pkg/…`, the favicon). Leptos's file handler serves them, and
//! sends `FILE.br` or `FILE.gz` instead when the browser accepts that encoding and the build
//! wrote one (`make release` does, with `.tools/assets.mjs`), so the largest responses are
//! compressed once, at build time, at the highest level, rather than on every request.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};
use std::path::Path;

/// The precompressed copies a file may have next to it.
const ENCODED: [&str; 2] = ["br", "gz"];

/// Removes every precompressed copy under `root` that is older than its file, or whose file
/// is gone. A build without the compression step (`cargo leptos build` or `watch`) leaves
/// the previous release's copies behind; served as they are, they would run the old code
/// against the new server. Returns how many were removed.
pub fn drop_stale_precompressed(root: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(0);
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            removed += drop_stale_precompressed(&path)?;
            continue;
        }
        let encoded = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ENCODED.contains(&e));
        if !encoded {
            continue;
        }
        let original = path.with_extension("");
        let stale = match std::fs::metadata(&original) {
            Ok(source) => source.modified()? > entry.metadata()?.modified()?,
            Err(_) => true,
        };
        if stale {
            std::fs::remove_file(&path)?;
            tracing::warn!(file = %path.display(), "removed a precompressed file older than its source");
            removed += 1;
        }
    }
    Ok(removed)
}

/// How long browsers keep a static file. A file named after its content (`app::assets`)
/// never changes under that name: a year, without asking again. Any other (the favicon, a
/// development build's `iapd.wasm`) keeps its name from one release to the next, so
/// browsers ask again each time (a cheap 304 when nothing changed) and a new release is
/// picked up at once, never mixed with a cached copy of the previous one.
pub async fn cache_policy(req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path();
    let policy = super::access::is_static(path).then(|| {
        let name = path.rsplit('/').next().unwrap_or_default();
        if path.starts_with("/pkg/") && app::assets::is_content_named(name) {
            IMMUTABLE
        } else {
            "no-cache"
        }
    });
    let mut response = next.run(req).await;
    if let Some(policy) = policy
        && response.status().is_success()
    {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{File, FileTimes};
    use std::time::{Duration, SystemTime};

    fn write_at(path: &Path, bytes: &[u8], at: SystemTime) {
        std::fs::write(path, bytes).expect("write");
        let file = File::options().write(true).open(path).expect("open");
        file.set_times(FileTimes::new().set_modified(at))
            .expect("mtime");
    }

    #[test]
    fn only_copies_older_than_their_file_or_orphaned_are_removed() {
        let root = std::env::temp_dir().join(format!("iapd-assets-{}", std::process::id()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).expect("dir");
        let then = SystemTime::now() - Duration::from_secs(3_600);
        let now = SystemTime::now();
        write_at(&pkg.join("app.wasm"), b"new build", now);
        write_at(&pkg.join("app.wasm.br"), b"old build", then);
        write_at(&pkg.join("app.wasm.gz"), b"this build", now);
        write_at(&pkg.join("gone.js.br"), b"orphan", now);
        write_at(&pkg.join("app.css"), b"css", then);

        assert_eq!(drop_stale_precompressed(&root).expect("scan"), 2);
        assert!(!pkg.join("app.wasm.br").exists());
        assert!(!pkg.join("gone.js.br").exists());
        assert!(pkg.join("app.wasm.gz").exists());
        assert!(
            pkg.join("app.css").exists(),
            "source files are never touched"
        );
        assert_eq!(drop_stale_precompressed(&root).expect("again"), 0);
        std::fs::remove_dir_all(&root).expect("clean");
        assert_eq!(drop_stale_precompressed(&root).expect("no folder"), 0);
    }
}
