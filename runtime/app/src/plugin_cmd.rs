//! `sangam plugin ...`: check, pack, sign and scaffold plugins.
//!
//! - `check FILE` prints what a plugin is and whether this runtime can run it (exit 0 yes, 1 no). The
//!   verdict is [`sangam_plugins::admission::admit`], the one `sangam run` asks; everything printed
//!   from the plugin (its manifest, its imports, error texts) is cleaned of control characters.
//! - `pack COMPONENT.wasm --manifest plugin.toml -o OUT.wasm [--sign KEYFILE]` builds the artifact.
//! - `keygen --out NAME` writes a signing key pair, `NAME.key` and `NAME.pub`.
//! - `new NAME --role ROLE [--dir D]` scaffolds a plugin crate.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use sangam_plugins::inspect::{self, Inspection};
use sangam_plugins::manifest::Manifest;
use sangam_plugins::package::{self, Package, PackageError};
use sangam_plugins::signing::{self, SignatureError, TrustedKeys, Verification};
use sangam_plugins::text::clean;
use sangam_plugins::{Role, admission};

/// The `plugin` subcommands.
#[derive(Subcommand)]
pub enum PluginCommand {
    /// Show a plugin's id, version, role, SDK version, capabilities, size and signature, and whether
    /// this runtime can run it (exit status 0: yes, 1: no, with the reason).
    Check {
        /// A packed plugin (`.wasm` with an embedded manifest), or a bare component with `--manifest`.
        file: PathBuf,
        /// The manifest to use for a bare component (as produced by `cargo build`).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// A trusted public key file, or a folder of `*.pub` files; may be repeated.
        #[arg(long = "trusted", value_name = "KEY.pub|DIR")]
        trusted: Vec<PathBuf>,
        /// Answer as a scene that allows unsigned plugins (dev mode) would.
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// Build a distributable plugin: the component with its manifest embedded, optionally signed.
    Pack {
        /// The component the plugin build produced (`target/wasm32-wasip2/release/NAME.wasm`).
        component: PathBuf,
        /// The plugin's manifest.
        #[arg(long)]
        manifest: PathBuf,
        /// Where to write the artifact.
        #[arg(short, long)]
        output: PathBuf,
        /// Sign with this secret key file (`NAME.key` from `sangam plugin keygen`).
        #[arg(long, value_name = "KEYFILE")]
        sign: Option<PathBuf>,
    },
    /// Make an ed25519 key pair for signing plugins: NAME.key (secret) and NAME.pub (give this out).
    Keygen {
        /// Path and base name of the key files.
        #[arg(long, value_name = "NAME")]
        out: PathBuf,
    },
    /// Scaffold a plugin crate that builds with `cargo build --target wasm32-wasip2`.
    New {
        /// The plugin's name (the crate and folder name).
        name: String,
        /// What the plugin does.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The folder to create the plugin crate in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("unknown role `{text}`; use adapter, simulation or overlay"))
}

/// Runs a `plugin` subcommand; `Ok(ExitCode::FAILURE)` for a `check` that says no.
pub fn run(command: PluginCommand) -> Result<ExitCode> {
    match command {
        PluginCommand::Check { file, manifest, trusted, allow_unsigned } => {
            check(&file, manifest.as_deref(), &trusted, allow_unsigned)
        }
        PluginCommand::Pack { component, manifest, output, sign } => {
            pack(&component, &manifest, &output, sign.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Keygen { out } => {
            let key = signing::generate_key();
            let (secret, public, id) = signing::write_key_pair(&out, &key)?;
            println!("key id {id}");
            println!("secret key: {} (keep it private)", secret.display());
            println!(
                "public key: {} (add it to the trusted keys of runtimes that should run your plugins)",
                public.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::New { name, role, dir } => {
            let created = sangam::scaffold::scaffold(&name, role.as_str(), &dir)?;
            println!("created {}", created.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn pack(component: &Path, manifest: &Path, output: &Path, sign: Option<&Path>) -> Result<()> {
    let bytes = package::read_bounded(component)?;
    let text = std::fs::read_to_string(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    // Parse from the file first so that errors name it.
    Manifest::parse(&text, manifest)?;
    let mut artifact = package::pack(&bytes, &text).map_err(|e| in_file(component, e))?;
    let mut signed_by = None;
    if let Some(key_file) = sign {
        let key = signing::read_signing_key(key_file)?;
        artifact = signing::sign(&artifact, &key)?;
        signed_by = Some(signing::KeyId::of(&key.verifying_key()));
    }
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("could not create {}", parent.display()))?;
    }
    std::fs::write(output, &artifact).with_context(|| format!("could not write {}", output.display()))?;
    let pkg = package::unpack(artifact)?;
    let signature = signed_by.map_or("unsigned".to_string(), |id| format!("signed by key {id}"));
    println!(
        "{}: {} {} ({} plugin, SDK {}), {} bytes, {signature}",
        output.display(),
        pkg.manifest.id,
        pkg.manifest.version,
        pkg.manifest.role,
        pkg.manifest.sdk,
        pkg.bytes.len()
    );
    Ok(())
}

fn in_file(path: &Path, e: PackageError) -> PackageError {
    match e {
        PackageError::File { .. } | PackageError::Io { .. } | PackageError::Manifest(_) => e,
        other => PackageError::File { path: path.to_path_buf(), error: Box::new(other) },
    }
}

/// The `check` report: what could be read, then the verdict.
fn check(file: &Path, manifest: Option<&Path>, trusted_paths: &[PathBuf], allow_unsigned: bool) -> Result<ExitCode> {
    let mut trusted = TrustedKeys::new();
    for path in trusted_paths {
        trusted.load(path)?;
    }
    let loaded = match manifest {
        None => Package::load(file),
        Some(manifest_path) => Package::load_with_manifest(file, manifest_path),
    };
    let pkg = match loaded {
        Ok(pkg) => pkg,
        Err(e) => {
            // Say what the component is, as far as that can be read, then why it cannot run.
            if let Ok(bytes) = package::read_bounded(file) {
                if let Ok(found) = inspect::inspect(&bytes) {
                    print!("{}", describe_component(file, &found));
                } else {
                    println!("file          {}", shown(&file.display().to_string()));
                    println!("size          {} bytes", bytes.len());
                }
            }
            println!("can run       no: {}", shown(&e.to_string()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let m = &pkg.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "file          {}", shown(&file.display().to_string()));
    let _ = writeln!(out, "plugin        {} {}", shown(&m.id), shown(&m.version));
    let _ = writeln!(out, "description   {}", shown(&m.description));
    let _ = writeln!(out, "role          {}", m.role);
    let _ =
        writeln!(out, "sdk           {} (this runtime supports {})", pkg.inspection.sdk, inspect::supported_range());
    let _ = writeln!(out, "capabilities  {}", capability_list(&m.requested_capabilities()));
    let limits = m.limits();
    let _ = writeln!(
        out,
        "limits        memory {} MiB, {} ms per call, fuel {}, output {} MiB, {} host calls per call",
        limits.memory_bytes >> 20,
        limits.call_time.as_millis(),
        limits.fuel_per_call.map_or("unlimited".to_string(), |f| f.to_string()),
        limits.output_bytes >> 20,
        limits.host_calls_per_call
    );
    for p in &m.parameters {
        let unit = if p.unit.is_empty() { String::new() } else { format!(" {}", p.unit) };
        let line = format!("{} ({}, default {:?}{unit})", p.name, p.ty, p.default);
        let _ = writeln!(out, "parameter     {}", shown(&line));
    }
    let _ = writeln!(out, "wasi imports  {}", list_or_none(&pkg.inspection.wasi_imports));
    if !pkg.inspection.other_imports.is_empty() {
        let _ = writeln!(out, "other imports {}", shown(&pkg.inspection.other_imports.join(", ")));
    }
    let _ = writeln!(out, "size          {} bytes (sha256 {})", pkg.bytes.len(), pkg.digest_hex());
    let verification = signing::verify(&pkg, &trusted);
    let status = match &verification {
        Ok(Verification::Verified { key_id, key_name }) => format!("signed by trusted key {key_id} ({key_name})"),
        Ok(Verification::Unsigned) => "unsigned".to_string(),
        Err(SignatureError::UnknownKey { key_id, .. }) => format!("signed by key {key_id}, not trusted"),
        Err(SignatureError::BadSignature { key_id, .. }) => format!("INVALID signature claiming key {key_id}"),
        Err(e) => e.to_string(),
    };
    let _ = writeln!(out, "signature     {}", shown(&status));
    print!("{out}");

    // The same verdict `sangam run` gives, from the same function.
    let reasons: Vec<String> = match admission::admit(&pkg, &trusted, allow_unsigned) {
        Ok(_) => Vec::new(),
        Err(refusals) => refusals.iter().map(|r| shown(&r.to_string()).into_owned()).collect(),
    };
    if reasons.is_empty() {
        let note = if allow_unsigned && !matches!(verification, Ok(Verification::Verified { .. })) {
            " (dev mode only: the scene must allow unsigned plugins)"
        } else {
            ""
        };
        println!("can run       yes{note}");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("can run       no: {}", reasons.join("; "));
        Ok(ExitCode::FAILURE)
    }
}

/// What inspection alone says, for a component without a usable manifest.
fn describe_component(file: &Path, found: &Inspection) -> String {
    format!(
        "file          {}\nrole          {}\nsdk           {} (this runtime supports {})\nwasi imports  {}\nsize          \
         {} bytes\n",
        shown(&file.display().to_string()),
        found.role,
        found.sdk,
        inspect::supported_range(),
        list_or_none(&found.wasi_imports),
        found.size
    )
}

/// Plugin text as `check` prints it: control characters escaped, long text cut.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    clean(text, 4096)
}

fn capability_list(c: &sangam_plugins::Capabilities) -> String {
    let mut names = Vec::new();
    if c.read_data {
        names.push("read-data");
    }
    if c.wall_clock {
        names.push("wall-clock");
    }
    if c.random {
        names.push("random");
    }
    if c.create_entities {
        names.push("create-entities");
    }
    if c.site_geometry {
        names.push("site-geometry");
    }
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".to_string() } else { shown(&items.join(", ")).into_owned() }
}
