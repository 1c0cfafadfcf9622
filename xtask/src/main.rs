//! Developer commands, so that developers and CI run the same steps: `run`,
//! `test` (what CI runs), `dist`, `dev`, `setup`, `bench`, `conformance`
//! and `fuzz`; `cargo xtask --help` says what each does. Set-up installs
//! only what is missing, from crates.io, npm, PyPI and Debian's packages
//! (`tools.rs`).

mod conformance;
mod fuzz;
mod minify;
mod precompress;
mod release;
mod tools;

#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Natter's developer commands")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the client and server in release mode and run the server.
    Run {
        /// Flags for the server, passed as they are, e.g. `--bind 0.0.0.0:8080`
        /// (see `natter --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        server_args: Vec<String>,
    },
    /// Check formatting and lints, build the client, run the conformance
    /// cases (all of them when `CI` is set) and every test.
    Test,
    /// Build the release binary with the client embedded
    /// (`target/release/natter`), and the release: the archive
    /// `target/dist/natter-<version>-x86_64-linux.tar.gz` (a static binary,
    /// docs, licences, SHA256SUMS) and the container image
    /// `natter:<version>`.
    Dist,
    /// Client development: the server (debug) on 127.0.0.1:8080 and
    /// `trunk serve` with live reload on http://127.0.0.1:8081.
    Dev,
    /// Install the missing tools (Chromium and axe-core too, for the
    /// browser tests; musl-gcc and podman, for the release).
    Setup,
    /// Build everything in release mode and run the load generator: a
    /// results table, `target/bench/results.json` and a chart.
    Bench {
        /// Also run the Node.js chats (installed with npm under `target/`).
        #[arg(long)]
        peers: bool,
        /// Fewer clients and shorter steps: a smoke run.
        #[arg(long)]
        quick: bool,
        /// Only these scenarios (fanout, rooms, idle, storm, storm-restart,
        /// history, unread, startup, persist, bundle, floor, sign-ins,
        /// signed-in, cluster), comma-separated.
        #[arg(long)]
        only: Option<String>,
    },
    /// Run the Autobahn|Testsuite cases against the server's `/ws/echo`
    /// (kosoku; compression cases excluded) and check the report.
    Conformance {
        /// Leave out the 9.* cases (large and many messages), the slowest
        /// ones.
        #[arg(long)]
        quick: bool,
    },
    /// Fuzz the protocol's decoders (cargo-fuzz, nightly).
    Fuzz {
        /// How long to run each target, in seconds.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        seconds: u64,
        /// Which targets to run (all by default).
        targets: Vec<fuzz::Target>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = project_root();
    std::env::set_current_dir(&root).context("cannot enter the project root")?;
    match cli.command {
        Task::Run { server_args } => run(&root, &server_args),
        Task::Test => test(&root),
        Task::Dist => {
            dist(&root)?;
            release::release(&root).map(|_| ())
        }
        Task::Dev => dev(&root),
        Task::Setup => {
            tools::ensure_build_tools(&root)?;
            tools::ensure_browser()?;
            tools::ensure_axe(&root)?;
            release::ensure_static_tools()?;
            release::ensure_podman()
        }
        Task::Bench { peers, quick, only } => bench(&root, peers, quick, only.as_deref()),
        Task::Conformance { quick } => conformance::run(
            &root,
            if quick {
                conformance::Suite::Quick
            } else {
                conformance::Suite::Full
            },
        ),
        Task::Fuzz { seconds, targets } => fuzz::run(&root, seconds, &targets),
    }
}

/// The server (a debug build, on 127.0.0.1:8080, letting trunk's pages
/// open sockets) and `trunk serve` (127.0.0.1:8081, which proxies the
/// sockets to it), until either stops; Ctrl-C stops both.
fn dev(root: &Path) -> Result<()> {
    let env = tools::ensure_build_tools(root)?;
    step("starting the server on 127.0.0.1:8080 and trunk serve on http://127.0.0.1:8081");
    let mut server = cargo(&[
        "run",
        "-p",
        "natter-server",
        "--",
        "--allowed-origin",
        "http://127.0.0.1:8081",
    ])
    .spawn()
    .context("cannot start the server")?;
    let trunk = Command::new(&env.trunk)
        .arg("serve")
        .env("PATH", &env.path)
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .spawn();
    let trunk = match trunk {
        Ok(trunk) => trunk,
        Err(err) => {
            let _ = server.kill();
            return Err(err).context("cannot start trunk serve");
        }
    };
    // Whichever stops first stops the other.
    let mut children = [(server, "the server"), (trunk, "trunk serve")];
    loop {
        for at in 0..children.len() {
            let Some(status) = children[at].0.try_wait()? else {
                continue;
            };
            let other = &mut children[1 - at].0;
            let _ = other.kill();
            let _ = other.wait();
            if status.success() {
                return Ok(());
            }
            bail!("{} stopped ({status})", children[at].1);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn run(root: &Path, server_args: &[String]) -> Result<()> {
    let binary = dist(root)?;
    step("starting Natter (Ctrl-C stops it)");
    let mut server = Command::new(&binary);
    server.args(server_args);
    exec(server)
}

fn test(root: &Path) -> Result<()> {
    let env = tools::ensure_build_tools(root)?;
    tools::ensure_browser()?;
    tools::ensure_axe(root)?;
    step("formatting");
    cargo(&["fmt", "--all", "--", "--check"])
        .run()
        .context("run `cargo fmt --all` to fix the formatting")?;
    step("lints (native)");
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
    .run()?;
    step("lints (wasm client)");
    cargo(&[
        "clippy",
        "-p",
        "natter-client",
        "--target",
        tools::WASM_TARGET,
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
    .run()?;
    step("docs (broken links and doc warnings fail)");
    cargo(&["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()?;
    cargo(&[
        "doc",
        "-p",
        "natter-client",
        "--target",
        tools::WASM_TARGET,
        "--no-deps",
    ])
    .env("RUSTDOCFLAGS", "-D warnings")
    .run()?;
    step("client tests in headless Chromium (wasm-bindgen-test)");
    cargo(&[
        "test",
        "-p",
        "natter-client",
        "--target",
        tools::WASM_TARGET,
    ])
    .env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        &env.wasm_test_runner,
    )
    .env("CHROMEDRIVER", tools::chromedriver())
    .env("PATH", &env.path)
    .run()?;
    build_client(&env)?;
    // The release archive and image, which `xtask/tests/release.rs` unpacks
    // and inspects.
    release::release(root)?;
    conformance::run(root, conformance::Suite::for_tests())?;
    step("tests: unit, integration and browser");
    cargo(&["test", "--workspace"])
        .env("NATTER_REQUIRE_BROWSER", "1")
        .env("NATTER_REQUIRE_BUNDLE", "1")
        .env("NATTER_REQUIRE_RELEASE", "1")
        .run()?;
    postgres_suite()?;
    step("all checks passed");
    Ok(())
}

/// The PostgreSQL server the storage suite runs against a second time.
const TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server's integration suites again, each test on a fresh PostgreSQL
/// database instead of a SQLite file (`NATTER_TEST_POSTGRES`), when
/// PostgreSQL answers; otherwise says why they are skipped.
fn postgres_suite() -> Result<()> {
    let url = std::env::var("NATTER_TEST_POSTGRES").unwrap_or_else(|_| TEST_POSTGRES.into());
    let authority = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?']).next())
        .map(|a| a.rsplit('@').next().unwrap_or(a).to_owned())
        .unwrap_or_default();
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&authority)
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok()
        });
    if !reachable {
        step(&format!(
            "SKIPPED the storage suite on PostgreSQL: nothing answers at {authority} \
             (set NATTER_TEST_POSTGRES to a server's URL)"
        ));
        return Ok(());
    }
    step(&format!(
        "the same integration suites on PostgreSQL ({url})"
    ));
    let mut args = vec!["test", "-p", "natter-server"];
    for suite in POSTGRES_SUITES {
        args.extend(["--test", suite]);
    }
    cargo(&args).env("NATTER_TEST_POSTGRES", &url).run()
}

/// Every integration suite that stores history, run once per engine.
const POSTGRES_SUITES: &[&str] = &[
    "accounts",
    "changes",
    "read_state",
    "private_rooms",
    "passkeys",
    "invites",
    "chat",
    "cli",
    "rooms",
    "names",
    "reliability",
    "durability",
    "security",
    "http",
    "process",
    "echo",
    "storage_faults",
    "limits",
    "frames",
    "memory",
];

/// Builds the release server (with the client) and the load generator,
/// installs the Node.js peers when asked, and runs the generator.
fn bench(root: &Path, peers: bool, quick: bool, only: Option<&str>) -> Result<()> {
    let natter = dist(root)?;
    tools::ensure_browser()?;
    step("building the load generator (release)");
    cargo(&["build", "--release", "-p", "natter-bench"]).run()?;
    let mut generator = Command::new(root.join("target/release/natter-bench"));
    generator
        .arg("--natter")
        .arg(&natter)
        .arg("--out")
        .arg(root.join("target/bench"))
        .arg("--bundle")
        .arg(root.join("dist"))
        .arg("--chromedriver")
        .arg(tools::chromedriver());
    if peers {
        generator
            .arg("--peers")
            .arg(tools::ensure_bench_peers(root)?);
    }
    if quick {
        generator.arg("--quick");
    }
    if let Some(only) = only {
        generator.arg("--only").arg(only);
    }
    step("running the load generator");
    generator.run()
}

/// Builds the client bundle, then the server that embeds it.
fn dist(root: &Path) -> Result<PathBuf> {
    let env = tools::ensure_build_tools(root)?;
    build_client(&env)?;
    step("building the server (release)");
    let binary = build_server(root, None)?;
    eprintln!("    {}", binary.display());
    Ok(binary)
}

/// Builds `natter` in release mode (the client must be built first), for
/// this machine or for `cross`: a target and the C compiler for its C
/// parts. Returns the binary's path.
fn build_server(root: &Path, cross: Option<(&str, &str)>) -> Result<PathBuf> {
    let mut build = cargo(&[
        "build",
        "--release",
        "-p",
        "natter-server",
        "--bin",
        "natter",
    ]);
    let binary = match cross {
        Some((target, cc)) => {
            build
                .args(["--target", target])
                .env(format!("CC_{}", target.replace('-', "_")), cc);
            root.join(format!("target/{target}/release/natter"))
        }
        None => root.join("target/release/natter"),
    };
    build.run()?;
    if !binary.exists() {
        bail!("the build did not produce {}", binary.display());
    }
    Ok(binary)
}

fn build_client(env: &tools::BuildEnv) -> Result<()> {
    step("building the client (trunk, release)");
    let mut trunk = Command::new(&env.trunk);
    trunk
        .args(["build", "--release", "--cargo-profile", "wasm-release"])
        .args(["--dist", "dist"])
        .env("PATH", &env.path)
        .env("TRUNK_SKIP_VERSION_CHECK", "true");
    trunk.run()?;
    let dist = Path::new("dist");
    minify::minify(dist, &env.minifiers)?;
    precompress::precompress(dist)
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the project root")
        .to_path_buf()
}

fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(args);
    cmd
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

/// Runs a command to completion, failing unless it succeeds.
trait Run {
    fn run(&mut self) -> Result<()>;
}

impl Run for Command {
    fn run(&mut self) -> Result<()> {
        let status = self
            .status()
            .with_context(|| format!("cannot start {:?}", self.get_program()))?;
        if !status.success() {
            bail!("{:?} failed ({status})", self.get_program());
        }
        Ok(())
    }
}

/// Replaces this process with `cmd` where the platform allows, so signals
/// (Ctrl-C, SIGTERM) reach the server directly.
fn exec(mut cmd: Command) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(err).with_context(|| format!("cannot start {:?}", cmd.get_program()))
    }
    #[cfg(not(unix))]
    {
        cmd.run()
    }
}

#[cfg(test)]
mod postgres_tests {
    /// A new integration suite runs on both engines unless it has no
    /// storage of its own to vary (the browser suites and the cluster
    /// suites, which always use PostgreSQL).
    #[test]
    fn every_suite_but_browser_and_cluster_runs_on_postgres() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests");
        let mut suites: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .to_str()?
                    .strip_suffix(".rs")
                    .map(str::to_owned)
            })
            .filter(|s| !s.starts_with("browser") && !s.starts_with("cluster"))
            .collect();
        suites.sort();
        let mut listed: Vec<&str> = super::POSTGRES_SUITES.to_vec();
        listed.sort_unstable();
        assert_eq!(suites, listed);
    }
}
