//! The one admission verdict: whether a plugin may run in this runtime at all, whatever a scene
//! grants. `sangam plugin check`, every front end (through the scene loader) and
//! [`crate::LoadedPlugin::load`] ask the same functions here, so they cannot disagree.
//!
//! - [`refused_imports`]: a component importing an interface no capability grants (network:
//!   `wasi:sockets`, `wasi:http`) never runs.
//! - [`admit`]: the above plus the signature policy ([`signing::admit`]) for a packaged plugin.
//!
//! Cost: a scan of the component's top-level sections (no validation, no compilation) and, for
//! [`admit`], one signature check.

use thiserror::Error;

use crate::error::PluginError;
use crate::inspect;
use crate::package::Package;
use crate::signing::{self, Admission, SignatureError, TrustedKeys};

/// Import prefixes no capability grants.
const NEVER_GRANTED: [&str; 2] = ["wasi:sockets/", "wasi:http/"];

/// Why a component may never run here, from its import names; `None` when nothing is refused.
pub fn refused_imports<'a>(imports: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let network: std::collections::BTreeSet<&str> =
        imports.into_iter().filter(|name| NEVER_GRANTED.iter().any(|p| name.starts_with(p))).collect();
    let network: Vec<&str> = network.into_iter().collect();
    if network.is_empty() {
        return None;
    }
    Some(format!(
        "it imports network interfaces ({}), which no scene can grant; build it without networking (data reaches \
         adapters as bytes from the sources the host runs)",
        network.join(", ")
    ))
}

/// Refuses `component` when [`refused_imports`] does. Bytes that cannot be read as a component are
/// left to the compiler, which says why.
pub(crate) fn check_component_imports(plugin: &str, component: &[u8]) -> Result<(), PluginError> {
    let Ok(outline) = inspect::outline(component) else { return Ok(()) };
    match refused_imports(outline.imports.iter().map(String::as_str)) {
        Some(reason) => Err(PluginError::Refused { plugin: plugin.to_owned(), reason }),
        None => Ok(()),
    }
}

/// Why a packaged plugin may not run.
#[derive(Debug, Error)]
pub enum Refusal {
    /// Its imports ([`refused_imports`]).
    #[error("{0}")]
    Imports(String),
    /// The signature policy.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

/// The verdict on a packaged plugin: the imports first, then the signature policy (trusted keys;
/// unsigned plugins only when `allow_unsigned`, the scene's dev mode). Every reason is returned, so
/// a report can list them all.
pub fn admit(package: &Package, trusted: &TrustedKeys, allow_unsigned: bool) -> Result<Admission, Vec<Refusal>> {
    let mut refusals = Vec::new();
    if let Some(reason) = refused_imports(package.inspection.wasi_imports.iter().map(String::as_str)) {
        refusals.push(Refusal::Imports(reason));
    }
    match signing::admit(package, trusted, allow_unsigned) {
        Ok(admission) if refusals.is_empty() => return Ok(admission),
        Ok(_) => {}
        Err(error) => refusals.push(Refusal::Signature(error)),
    }
    Err(refusals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_imports_are_refused_by_name_and_others_pass() {
        let ok = ["wasi:io/poll@0.2.6", "wasi:cli/stdout@0.2.6", "sangam:plugin/log@1.2.0"];
        assert_eq!(refused_imports(ok), None);
        let why = refused_imports(["wasi:io/poll@0.2.6", "wasi:sockets/tcp@0.2.6", "wasi:http/types@0.2.0"]).unwrap();
        assert!(why.contains("(wasi:http/types@0.2.0, wasi:sockets/tcp@0.2.6)"), "named, sorted: {why}");
        assert!(why.contains("which no scene can grant"), "{why}");
    }
}
