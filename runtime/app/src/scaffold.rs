//! `sangam plugin new`: writes a new plugin crate that builds with
//! `cargo build --target wasm32-wasip2`.
//!
//! The crate holds `Cargo.toml` (a `cdylib` + `rlib` depending on `sangam-sdk`, marked with
//! `[package.metadata.sangam-plugin]`), `plugin.toml` (the manifest) and `src/lib.rs` (a working
//! example of the role with a host-side unit test), and `.cargo/config.toml` (WebAssembly SIMD on, so
//! numeric kernels vectorise). The templates live in `runtime/app/templates/plugin/`.
//!
//! **Where `sangam-sdk` comes from.** When the destination lies inside a checkout of the Sangam
//! repository (an ancestor folder has `sdk/rust/Cargo.toml` of package `sangam-sdk`), the crate
//! depends on it by a relative path, so it builds against the SDK of that checkout, WIT included. Anywhere
//! else it depends on the released crate by version (`sangam-sdk = "X.Y"`, this runtime's version).
//! The scaffolder writes no `[workspace]` table: a crate under `plugins/` of the repository is a
//! workspace member already; elsewhere inside another Cargo workspace, add it to that workspace's
//! members.

use std::path::{Path, PathBuf};

/// Why a plugin crate could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not a usable crate / plugin name.
    #[error(
        "invalid plugin name {name:?}: {reason}. Use lowercase letters, digits and single hyphens, starting with a letter (e.g. `flood-model`)"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The role is not one of the three.
    #[error("unknown plugin role {role:?}; use one of: adapter, simulation, overlay")]
    UnknownRole {
        /// The role given.
        role: String,
    },
    /// The crate folder exists already.
    #[error("{} already exists; choose another name or destination (nothing was written)", path.display())]
    Exists {
        /// The folder that exists.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("could not write {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The roles a plugin can have, as `plugin.toml` spells them.
pub const ROLES: [&str; 3] = ["adapter", "simulation", "overlay"];

const CARGO_TOML: &str = include_str!("../templates/plugin/Cargo.toml.in");
/// Cargo settings of a new plugin crate: WebAssembly SIMD on, as for the repository's own plugins.
const CARGO_CONFIG: &str = "# Let the compiler use WebAssembly SIMD (128-bit vectors); Sangam's runtime (wasmtime) runs them\n\
# as SSE/NEON. Numeric kernels over the SDK's flat lists vectorise as they would natively.\n\
[target.wasm32-wasip2]\n\
rustflags = [\"-C\", \"target-feature=+simd128\"]\n";
const PLUGIN_TOML: &str = include_str!("../templates/plugin/plugin.toml.in");
const ADAPTER_RS: &str = include_str!("../templates/plugin/adapter.rs");
const SIMULATION_RS: &str = include_str!("../templates/plugin/simulation.rs");
const OVERLAY_RS: &str = include_str!("../templates/plugin/overlay.rs");

/// Names Cargo refuses or that clash with the standard library's crates.
const RESERVED: &[&str] = &["test", "core", "std", "alloc", "proc-macro", "self", "crate", "super", "build", "deps"];

/// Checks a plugin name: 1 to 64 characters of lowercase ASCII letters, digits and single hyphens,
/// starting with a letter and not ending with a hyphen; not a reserved name.
///
/// ```
/// use sangam::scaffold::check_name;
/// assert!(check_name("flood-model").is_ok());
/// assert!(check_name("Flood").is_err());
/// ```
pub fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let invalid = |reason: &str| Err(ScaffoldError::InvalidName { name: name.to_string(), reason: reason.into() });
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > 64 {
        return invalid("it is longer than 64 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return invalid("it must start with a lowercase letter");
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return invalid(&format!("it contains {c:?}"));
    }
    if name.ends_with('-') || name.contains("--") {
        return invalid("hyphens must separate words");
    }
    if RESERVED.contains(&name) {
        return invalid("it is reserved by Cargo or Rust");
    }
    Ok(())
}

/// The folder of the Sangam SDK crate (`sdk/rust`) of the repository containing `dir`, if any.
pub fn find_sdk_crate(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|a| a.join("sdk/rust"))
        .find(|sdk| std::fs::read_to_string(sdk.join("Cargo.toml")).is_ok_and(|t| t.contains("name = \"sangam-sdk\"")))
}

/// A relative path from folder `from` to `to` (both absolute), with `/` separators.
fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(to[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    parts.join("/")
}

/// The dependency line for `sangam-sdk` of a crate in `crate_dir` (absolute).
fn sdk_dependency(crate_dir: &Path) -> String {
    match crate_dir.parent().and_then(find_sdk_crate) {
        Some(sdk) => format!("sangam-sdk = {{ path = \"{}\" }}", relative_path(crate_dir, &sdk)),
        None => {
            let version = env!("CARGO_PKG_VERSION");
            let major_minor: Vec<&str> = version.split('.').take(2).collect();
            format!("sangam-sdk = \"{}\"", major_minor.join("."))
        }
    }
}

/// The `[[parameter]]` tables matching the role's example code.
fn parameters(role: &str) -> &'static str {
    match role {
        "adapter" => {
            "[[parameter]]\nname = \"unit\"\ntype = \"text\"\ndefault = \"\"\ndescription = \"Unit symbol of the values.\"\n"
        }
        "simulation" => {
            "[[parameter]]\nname = \"rate\"\ntype = \"number\"\ndefault = 0.1\nunit = \"1/s\"\nmin = 0.0\nmax = 100.0\ndescription = \"Decay rate.\"\n"
        }
        _ => {
            "[[parameter]]\nname = \"limit\"\ntype = \"number\"\ndefault = 100.0\ndescription = \"Values at or above this are shown red with an alert.\"\n"
        }
    }
}

/// Writes a new plugin crate `name` with an example implementation of `role` into `dest/name` and
/// returns that folder. `dest` is created if missing; `dest/name` must not exist.
///
/// ```no_run
/// let dir = sangam::scaffold::scaffold("flood-model", "simulation", std::path::Path::new("plugins")).unwrap();
/// assert!(dir.join("src/lib.rs").exists());
/// ```
pub fn scaffold(name: &str, role: &str, dest: &Path) -> Result<PathBuf, ScaffoldError> {
    check_name(name)?;
    let lib_rs = match role {
        "adapter" => ADAPTER_RS,
        "simulation" => SIMULATION_RS,
        "overlay" => OVERLAY_RS,
        _ => return Err(ScaffoldError::UnknownRole { role: role.to_string() }),
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let dest = dest.canonicalize().map_err(io(dest))?;
    let dir = dest.join(name);
    if dir.exists() {
        return Err(ScaffoldError::Exists { path: dir });
    }
    // create_dir (not _all) fails if another process made the folder meanwhile: never overwrite.
    std::fs::create_dir(&dir).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => ScaffoldError::Exists { path: dir.clone() },
        _ => ScaffoldError::Io { path: dir.clone(), source },
    })?;
    let src = dir.join("src");
    std::fs::create_dir(&src).map_err(io(&src))?;

    let description = match role {
        "adapter" => "Reads lines `ENTITY-ID,VALUE` into property `value`.",
        "simulation" => "Every entity's `value` decays toward zero at `rate`.",
        _ => "Labels every entity's `value`, red with an alert at or above `limit`.",
    };
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{role}}", role)
            .replace("{{description}}", description)
            .replace("{{sdk_dependency}}", &sdk_dependency(&dir))
            .replace("{{parameters}}", parameters(role))
    };
    for (path, text) in [
        (dir.join("Cargo.toml"), fill(CARGO_TOML)),
        (dir.join("plugin.toml"), fill(PLUGIN_TOML)),
        (src.join("lib.rs"), fill(lib_rs)),
        (dir.join(".gitignore"), "/target\n".to_string()),
        (dir.join(".cargo/config.toml"), CARGO_CONFIG.to_string()),
    ] {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_with_reasons() {
        for good in ["a", "flood-model", "csv2-adapter", &"a".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("Flood", "start with a lowercase letter"),
            ("2d-model", "start with a lowercase letter"),
            ("flood_model", "contains '_'"),
            ("flood model", "contains ' '"),
            ("../evil", "start with a lowercase letter"),
            ("a/b", "contains '/'"),
            ("flood-", "hyphens"),
            ("a--b", "hyphens"),
            ("test", "reserved"),
            (&"a".repeat(65), "longer than 64"),
        ] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(relative_path(Path::new("/r/plugins/x"), Path::new("/r/sdk/rust")), "../../sdk/rust");
        assert_eq!(relative_path(Path::new("/r/target/t/a/x"), Path::new("/r/sdk/rust")), "../../../../sdk/rust");
    }

    #[test]
    fn outside_the_repository_the_sdk_comes_by_version() {
        let dep = sdk_dependency(Path::new("/nonexistent-sangam-test/x"));
        assert!(dep.starts_with("sangam-sdk = \"0."), "{dep}");
    }
}
