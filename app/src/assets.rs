//! The names a release build gives its static files (issue 16). `make release` names each
//! file after its content (`iapd.<hash>.css`, cargo-leptos's `hash-files`) and writes the
//! main files' hashes to `hash.txt` beside the server binary, where Leptos reads the
//! script's and the wasm's. A file named after its content never changes under that name,
//! so browsers may keep it for a year; a new release is new names.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The stylesheet under its unhashed name, as a development build leaves it.
const PLAIN_STYLESHEET: &str = "/pkg/iapd.css";

/// `hash.txt` beside the running binary, when the build hashed the names.
pub fn hash_file() -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
    path.is_file().then_some(path)
}

/// The stylesheet's URL for this build, read once per process.
pub fn stylesheet() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        hash_file()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|hashes| hash_of(&hashes, "css").map(|h| format!("/pkg/iapd.{h}.css")))
            .unwrap_or_else(|| PLAIN_STYLESHEET.to_owned())
    })
}

/// What the page needs to load this build's code: the main script's and wasm's names and
/// the little module that loads them and hydrates. Read once per process, where Leptos's
/// `HydrationScripts` reads `hash.txt` and resolves the executable's path on every page.
///
/// Unlike `HydrationScripts`, this does not provide the split manifest, which is what makes
/// `leptos_axum` add preload links for the page's code chunks. `leptos_integration_utils`
/// (0.8) looks that manifest and the page's meta context up after the render, outside the
/// page's owner: under load it finds another request's, and pages went out with anywhere
/// from none to six pages' worth of preload links (and a warning per mix-up). Without the
/// manifest a page loads its chunks once the main wasm asks for them.
#[cfg(feature = "ssr")]
struct Build {
    script: String,
    wasm: String,
    loader: String,
}

#[cfg(feature = "ssr")]
fn build(options: &leptos::config::LeptosOptions) -> &'static Build {
    static BUILD: OnceLock<Build> = OnceLock::new();
    BUILD.get_or_init(|| {
        let hashes = hash_file()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default();
        let pkg = format!("/{}", options.site_pkg_dir);
        let name = &*options.output_name;
        let named = |kind| hash_of(&hashes, kind).map(|hash| format!("{name}.{hash}"));
        let script = format!("{pkg}/{}.js", named("js").unwrap_or_else(|| name.to_owned()));
        // An unhashed build names the wasm `<name>_bg` unless cargo-leptos named it.
        let wasm = named("wasm").unwrap_or_else(|| match option_env!("LEPTOS_OUTPUT_NAME") {
            Some(_) => name.to_owned(),
            None => format!("{name}_bg"),
        });
        let wasm = format!("{pkg}/{wasm}.wasm");
        let loader = format!(
            "import({script:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => m.hydrate()));"
        );
        Build {
            script,
            wasm,
            loader,
        }
    })
}

/// Loads and hydrates the app: Leptos's `HydrationScripts` with what it reads from disk
/// read once (see [`Build`]).
#[cfg(feature = "ssr")]
#[leptos::component]
pub fn Hydration(options: std::sync::Arc<leptos::config::LeptosOptions>) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let build = build(&options);
    let nonce = leptos::nonce::use_nonce();
    view! {
        <link rel="modulepreload" href=build.script.as_str() crossorigin="anonymous" />
        <link
            rel="preload"
            href=build.wasm.as_str()
            r#as="fetch"
            r#type="application/wasm"
            crossorigin="anonymous"
        />
        <script type="module" nonce=nonce>{build.loader.as_str()}</script>
    }
}

/// The hash of `kind` (`css`, `js`, `wasm`) in a `hash.txt`: lines of `kind: hash`.
fn hash_of<'a>(hashes: &'a str, kind: &str) -> Option<&'a str> {
    hashes.lines().find_map(|line| {
        let (name, hash) = line.split_once(':')?;
        let hash = hash.trim();
        (name.trim() == kind && is_hash(hash)).then_some(hash)
    })
}

/// cargo-leptos's content hash: 22 characters of unpadded base64url (an MD5). Its
/// placeholder, 22 underscores, marks an unhashed build.
fn is_hash(part: &str) -> bool {
    part.len() == 22
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && part.bytes().any(|b| b != b'_')
}

/// Whether a file name carries a content hash (`iapd.<hash>.wasm`, `chunk_7.<hash>.wasm`,
/// `__wasm_split.<hash>.js`, or one of those with `.br` or `.gz`), so that it never
/// changes under that name.
pub fn is_content_named(file_name: &str) -> bool {
    file_name.split('.').any(is_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHES: &str = "js: aW8DQfKTK8yL0qP6TZtX2g\nwasm: 3Kq9_DVpmE-1xC5oA7cLxw\ncss: 0qbn6y6Fmq2YkXyNzWv8aA\nmanifest: Jm0vZr3s9cYQx5n8VfQ2Ew\n";

    #[test]
    fn each_kind_has_its_hash() {
        assert_eq!(hash_of(HASHES, "css"), Some("0qbn6y6Fmq2YkXyNzWv8aA"));
        assert_eq!(hash_of(HASHES, "wasm"), Some("3Kq9_DVpmE-1xC5oA7cLxw"));
        assert_eq!(hash_of(HASHES, "split"), None);
        assert_eq!(hash_of("css: short\n", "css"), None);
        assert_eq!(hash_of("", "css"), None);
    }

    #[test]
    fn only_names_carrying_a_content_hash_are_content_named() {
        for named in [
            "iapd.0qbn6y6Fmq2YkXyNzWv8aA.css",
            "iapd.3Kq9_DVpmE-1xC5oA7cLxw.wasm.br",
            "chunk_12.aW8DQfKTK8yL0qP6TZtX2g.wasm",
            "__wasm_split.Jm0vZr3s9cYQx5n8VfQ2Ew.js.gz",
        ] {
            assert!(is_content_named(named), "{named}");
        }
        for plain in [
            "iapd.css",
            "iapd.wasm.br",
            "chunk_12.wasm",
            "favicon.svg",
            // The loader's name in a build without hashes: a placeholder, not a hash.
            "__wasm_split.______________________.js",
            "iapd.0qbn6y6Fmq2YkXyNzWv8a.css",
        ] {
            assert!(!is_content_named(plain), "{plain}");
        }
    }
}
