//! The command-line surface, as clap types the `paylock` CLI can mount: `serve` and `admin …`.
//! Every flag also reads a `PAYLOCK_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use paylock_protocol::Registry;
use tracing_subscriber::filter::LevelFilter;

use crate::apikey::{self, Scopes};
use crate::http::{AppState, router};
use crate::kek::{Kek, Loaded};
use crate::metrics::Metrics;
use crate::mint::Minter;
use crate::store::Store;

/// The embedded default: SQLite in `./paylock-data/`.
pub const DEFAULT_DATABASE: &str = "sqlite:paylock-data/paylock.db";
/// The default KEK file, beside the default database.
pub const DEFAULT_KEK: &str = "paylock-data/kek.hex";

/// `serve`: run the HTTP service.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// `sqlite:PATH` or `postgres://user@host:port/db`.
    #[arg(long, env = "PAYLOCK_DATABASE", default_value = DEFAULT_DATABASE)]
    pub database: String,
    /// Address to listen on.
    #[arg(long, env = "PAYLOCK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The key-encryption key file (64 hex digits); created with mode 0600 if absent.
    #[arg(long, env = "PAYLOCK_KEK_FILE", default_value = DEFAULT_KEK)]
    pub kek_file: PathBuf,
    /// Log filter: `off`, `error`, `warn`, `info`, `debug`, `trace`, or per target
    /// (`warn,paylock_server=debug`); keys and tokens are never logged, and PostgreSQL's
    /// notices follow the level, at most `info`.
    #[arg(long, env = "PAYLOCK_LOG", default_value = "info")]
    pub log: String,
    /// `json` (structured) or `text`.
    #[arg(long, env = "PAYLOCK_LOG_FORMAT", default_value = "json")]
    pub log_format: String,
}

/// `admin`: maintenance on the same database.
#[derive(Args, Debug, Clone)]
pub struct AdminArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Admin commands.
#[derive(Subcommand, Debug, Clone)]
pub enum AdminCommand {
    /// API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Import a device CSV (OpenPAYGO's, or paylock's for every scheme served) in one
    /// transaction.
    Import {
        /// The database.
        #[arg(long, env = "PAYLOCK_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
        /// The KEK file the service uses.
        #[arg(long, env = "PAYLOCK_KEK_FILE", default_value = DEFAULT_KEK)]
        kek_file: PathBuf,
        /// The tenant the devices belong to.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// The CSV file.
        file: PathBuf,
    },
    /// The audit chain.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// `admin api-key …`.
#[derive(Subcommand, Debug, Clone)]
pub enum ApiKeyCommand {
    /// Creates a key; prints it once, as the last line.
    New {
        /// The database.
        #[arg(long, env = "PAYLOCK_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
        /// Comma-separated: `issue`, `provision`, `read`, `audit`.
        #[arg(long)]
        scopes: String,
        /// The tenant (created if new).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// A label to recognize the key by.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revokes a key by id (it stops working at once, on every replica).
    Revoke {
        /// The database.
        #[arg(long, env = "PAYLOCK_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
        /// The key id `new` printed.
        #[arg(long)]
        id: i64,
    },
}

/// `admin audit …`.
#[derive(Subcommand, Debug, Clone)]
pub enum AuditCommand {
    /// Recomputes every chain; exits 1 if an event was edited or deleted.
    Verify {
        /// The database.
        #[arg(long, env = "PAYLOCK_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn init_logs(filter: &str, format: &str) {
    // tokio-postgres logs statement parameters at debug: never let it, whatever the level. Its
    // server notices (info) follow the filter's level: `off` or `warn` silence them.
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "{filter},tokio_postgres={}",
        driver_level(filter)
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tokio_postgres=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "text" {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).try_init()
    };
}

/// The level for `tokio_postgres`: the filter's own level for everything (its last bare
/// level, else its most verbose one), at most `info`.
fn driver_level(filter: &str) -> LevelFilter {
    filter
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter_map(|d| d.parse::<LevelFilter>().ok())
        .next_back()
        .or_else(|| {
            tracing_subscriber::EnvFilter::try_new(filter)
                .ok()
                .and_then(|f| f.max_level_hint())
        })
        .map_or(LevelFilter::INFO, |level| level.min(LevelFilter::INFO))
}

async fn open(database: &str) -> Result<Store, String> {
    Store::open(database)
        .await
        .map_err(|e| format!("database: {e}"))
}

/// Runs the service until SIGINT or SIGTERM, with the built-in schemes.
///
/// # Errors
/// The database, the KEK or the address cannot be used.
pub fn run_serve(args: ServeArgs) -> Result<(), String> {
    Service::new(args).run()
}

/// The service, as a library starts it: [`ServeArgs`] and the scheme registry tokens are
/// computed through.
///
/// ```no_run
/// use paylock_protocol::Registry;
/// use paylock_server::cli::{ServeArgs, Service};
/// # #[derive(Debug)] struct Acme8;
/// # impl paylock_protocol::Scheme for Acme8 {
/// #     fn model(&self, _: paylock_protocol::Input<'_>)
/// #         -> Result<Box<dyn paylock_protocol::Model>, paylock_protocol::Error> { unimplemented!() }
/// # }
/// # fn args() -> ServeArgs { unimplemented!() }
/// let mut registry = Registry::with_builtin_schemes();
/// registry.register_scheme("acme8", Acme8); // devices with "token_scheme": "acme8"
/// Service::new(args()).registry(registry).run()?;
/// # Ok::<(), String>(())
/// ```
#[derive(Debug)]
pub struct Service {
    args: ServeArgs,
    registry: Option<Registry>,
}

impl Service {
    /// The service `args` describe, with the built-in schemes.
    #[must_use]
    pub const fn new(args: ServeArgs) -> Self {
        Self {
            args,
            registry: None,
        }
    }

    /// Computes tokens through `registry`: its schemes besides the built-in ones become
    /// `token_scheme`s devices can be provisioned with (`openpaygo`, `nexus` and `access`
    /// serve the built-in `token_scheme`s, so start from [`Registry::with_builtin_schemes`]).
    #[must_use]
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Runs until SIGINT or SIGTERM, on a runtime of its own.
    ///
    /// # Errors
    /// The database, the KEK or the address cannot be used.
    pub fn run(self) -> Result<(), String> {
        runtime()?.block_on(self.serve_until(shutdown()))
    }

    /// Runs on the caller's runtime until `stop` completes, then finishes the requests in
    /// flight.
    ///
    /// # Errors
    /// The database, the KEK or the address cannot be used.
    pub async fn serve_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        let minter = match self.registry {
            Some(registry) => Minter::new(Arc::new(registry)),
            None => Minter::default(),
        };
        serve(self.args, minter, stop).await
    }
}

async fn serve(
    args: ServeArgs,
    minter: Minter,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    init_logs(&args.log, &args.log_format);
    let store = open(&args.database).await?;
    let (kek, loaded) = Kek::load_or_create(&args.kek_file).map_err(|e| e.to_string())?;
    if loaded == Loaded::Created {
        if store.has_api_keys().await.map_err(|e| e.to_string())? {
            let _ = std::fs::remove_file(&args.kek_file);
            return Err(format!(
                "no KEK at {} but the database is in use: give --kek-file the KEK its devices were sealed with",
                args.kek_file.display()
            ));
        }
        tracing::warn!(
            path = %args.kek_file.display(),
            "created a new key-encryption key (mode 0600); move it to a secret store and pass --kek-file"
        );
        eprintln!(
            "warning: created a new key-encryption key in {} (mode 0600): move it to a secret store",
            args.kek_file.display()
        );
    }
    if !store.has_api_keys().await.map_err(|e| e.to_string())? {
        let key = apikey::generate().map_err(|e| e.to_string())?;
        let scopes = Scopes::parse("issue,provision,read,audit")?;
        store
            .create_api_key(
                "default".into(),
                apikey::hash(&key),
                scopes,
                "first key".into(),
            )
            .await
            .map_err(|e| e.to_string())?;
        println!("first API key (shown once; scopes issue,provision,read,audit):\n{key}");
    }
    let state = AppState {
        store,
        kek: Arc::new(kek),
        metrics: Arc::new(Metrics::default()),
        minter: Arc::new(minter),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(address = %local, "listening");
    println!("listening on http://{local}");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(stop)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// Runs an admin command with the built-in schemes; prints its result on stdout.
///
/// # Errors
/// A message for stderr; `audit verify` fails when it finds a problem.
pub fn run_admin(args: AdminArgs) -> Result<(), String> {
    Admin::new(args).run()
}

/// An admin command, as a library runs it: [`AdminArgs`] and the scheme registry `import`
/// checks rows with. A program that serves its own scheme ([`Service::registry`]) gives its
/// admin commands the same registry, so a CSV of its devices imports as `POST /v1/imports`
/// takes it; `paylock admin` keeps the built-in schemes.
///
/// ```no_run
/// use paylock_protocol::Registry;
/// use paylock_server::cli::{Admin, AdminArgs};
/// # #[derive(Debug)] struct Acme8;
/// # impl paylock_protocol::Scheme for Acme8 {
/// #     fn model(&self, _: paylock_protocol::Input<'_>)
/// #         -> Result<Box<dyn paylock_protocol::Model>, paylock_protocol::Error> { unimplemented!() }
/// # }
/// # fn args() -> AdminArgs { unimplemented!() }
/// let mut registry = Registry::with_builtin_schemes();
/// registry.register_scheme("acme8", Acme8); // rows with "Token Scheme" acme8
/// Admin::new(args()).registry(registry).run()?;
/// # Ok::<(), String>(())
/// ```
#[derive(Debug)]
pub struct Admin {
    args: AdminArgs,
    registry: Option<Registry>,
}

impl Admin {
    /// The command `args` describe, with the built-in schemes.
    #[must_use]
    pub const fn new(args: AdminArgs) -> Self {
        Self {
            args,
            registry: None,
        }
    }

    /// Checks imported rows through `registry` (start from
    /// [`Registry::with_builtin_schemes`], as for [`Service::registry`]).
    #[must_use]
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Runs the command on a runtime of its own; prints its result on stdout.
    ///
    /// # Errors
    /// A message for stderr; `audit verify` fails when it finds a problem.
    pub fn run(self) -> Result<(), String> {
        let minter = match self.registry {
            Some(registry) => Minter::new(Arc::new(registry)),
            None => Minter::default(),
        };
        runtime()?.block_on(admin(self.args, &minter))
    }
}

async fn admin(args: AdminArgs, minter: &Minter) -> Result<(), String> {
    match args.command {
        AdminCommand::ApiKey(ApiKeyCommand::New {
            database,
            scopes,
            tenant,
            label,
        }) => {
            let scopes = Scopes::parse(&scopes)?;
            let store = open(&database).await?;
            let key = apikey::generate().map_err(|e| e.to_string())?;
            let (tenant_id, key_id) = store
                .create_api_key(tenant.clone(), apikey::hash(&key), scopes, label)
                .await
                .map_err(|e| e.to_string())?;
            println!("tenant: {tenant} (id {tenant_id})");
            println!("key id: {key_id}");
            println!("scopes: {}", scopes.to_list());
            println!("{key}");
            Ok(())
        }
        AdminCommand::ApiKey(ApiKeyCommand::Revoke { database, id }) => {
            let store = open(&database).await?;
            store.revoke_api_key(id).await.map_err(|e| e.to_string())?;
            println!("revoked key {id}");
            Ok(())
        }
        AdminCommand::Import {
            database,
            kek_file,
            tenant,
            file,
        } => {
            let kek = Arc::new(Kek::load(&kek_file).map_err(|e| e.to_string())?);
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let store = open(&database).await?;
            let tenant_id = store
                .tenant(tenant.clone())
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!("no tenant named {tenant:?}: create an API key for it first")
                })?;
            let source = format!("admin import {}", file.display());
            match crate::import::import_csv(&store, &kek, minter, tenant_id, &bytes, &source).await
            {
                Ok(report) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
                    );
                    if report.conflicts.is_empty() {
                        Ok(())
                    } else {
                        Err(format!(
                            "{} conflicting rows were not imported",
                            report.conflicts.len()
                        ))
                    }
                }
                Err(crate::import::ImportError::Rows(problems)) => {
                    Err(format!("nothing imported:\n{}", problems.join("\n")))
                }
                Err(crate::import::ImportError::Store(e)) => Err(e.to_string()),
            }
        }
        AdminCommand::Audit(AuditCommand::Verify { database }) => {
            let store = open(&database).await?;
            let (events, heads) = store.audit_dump().await.map_err(|e| e.to_string())?;
            let report = crate::audit::verify(events, &heads);
            println!(
                "{} streams, {} events checked",
                report.streams, report.events
            );
            if report.problems.is_empty() {
                println!("audit chain intact");
                Ok(())
            } else {
                for p in &report.problems {
                    println!("{p}");
                }
                Err(format!(
                    "audit chain broken: {} problems",
                    report.problems.len()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_level_follows_the_filter_up_to_info() {
        for (filter, level) in [
            ("off", LevelFilter::OFF),
            ("warn", LevelFilter::WARN),
            ("info", LevelFilter::INFO),
            ("trace", LevelFilter::INFO),
            ("paylock_server=debug,error", LevelFilter::ERROR),
            ("paylock_server=warn", LevelFilter::WARN),
        ] {
            assert_eq!(driver_level(filter), level, "{filter}");
        }
    }
}
