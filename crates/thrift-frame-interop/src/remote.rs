//! Remote mode: the client peers against servers the runner did not start
//! and cannot signal (containers, another machine), given as
//! `name=host:port`. Only the cases that need no control over the server
//! process run: the data cases, and `server_restart` through commands the
//! user supplies (`--kill-cmd`, `--restart-cmd`, for example `docker kill` /
//! `docker start`), with readiness judged by a TCP connect.
//!
//! Cells share servers here, so no two cells on one server run at the same
//! time: a restart must not hit another cell's client, and a server started
//! with a one-connection model must not make a waiting client time out.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::cases::{
    self, data_case, expect_all_ok, judge_restart, launch_client, remote_client_command,
    wait_until_restart_is_due, CellLogs, Observed,
};
use crate::known::KnownFailures;
use crate::model::Case;
use crate::model::{Cell, Matrix};
use crate::report::CellResult;
use crate::run::{self, Progress, RunConfig};
use crate::{CaseError, Error};
use thrift_frame_harness::{describe_exit, last_line, run_shell, wait_for_tcp, Deadline};

/// The `server_model` of remote cells: the runner does not know which model
/// a remote server runs.
pub const REMOTE_MODEL: &str = "remote";

/// The cases remote mode can run, in report order.
pub const REMOTE_CASES: [Case; 4] = [
    Case::LargePayloads,
    Case::Echo,
    Case::StudentPut,
    Case::ServerRestart,
];

/// One server to test against: its name in the report (the `server`
/// column, `{name}` in commands) and where it listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteServer {
    pub name: String,
    pub host: String,
    pub port: u16,
}

impl RemoteServer {
    /// Parses `name=host:port` (`host` may be a bracketed IPv6 address).
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Remote(format!("`{spec}`: {why} (expected name=host:port)"));
        let (name, address) = spec.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let (host, port) = address.rsplit_once(':').ok_or_else(|| bad("no `:port`"))?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if !plain_name(name) {
            return Err(bad("the name must be lower-case letters, digits or _"));
        }
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|&port| port != 0)
            .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?;
        Ok(Self {
            name: name.to_owned(),
            host: host.to_owned(),
            port,
        })
    }

    /// `host:port`, as a client's `--endpoints` would take it.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Names end up in cell ids, directory names and HTML, as in the matrix.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// How `server_restart` takes a remote server down and brings it back: each
/// a shell command (`sh -c`) in which `{name}`, `{host}` and `{port}` stand
/// for the server's. With `kill`, the runner runs it, waits out the outage
/// (500 ms, as in local mode) and then runs `restart`; without, `restart`
/// alone must do both (`docker restart -t 0 ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartCommands {
    pub kill: Option<String>,
    pub restart: String,
}

/// `template` with `{name}`, `{host}` and `{port}` replaced by the server's.
pub fn render(template: &str, server: &RemoteServer) -> String {
    template
        .replace("{name}", &server.name)
        .replace("{host}", &server.host)
        .replace("{port}", &server.port.to_string())
}

/// Everything remote mode needs to know about the servers.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    pub servers: Vec<RemoteServer>,
    /// How the servers were started: every client gets the same.
    pub protocol: String,
    pub transport: String,
    /// The servers serve `PingService` and `Serv` multiplexed on one port.
    pub multiplexed: bool,
    pub restart: Option<RestartCommands>,
}

impl RemoteConfig {
    /// Parses a `--remote` list (`name=host:port`, ...).
    pub fn parse_servers(specs: &[String]) -> Result<Vec<RemoteServer>, Error> {
        let servers = specs
            .iter()
            .map(|spec| RemoteServer::parse(spec.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names = HashSet::new();
        for server in &servers {
            if !names.insert(server.name.as_str()) {
                return Err(Error::Remote(format!(
                    "server `{}` is listed twice",
                    server.name
                )));
            }
        }
        Ok(servers)
    }

    pub fn server(&self, name: &str) -> Option<&RemoteServer> {
        self.servers.iter().find(|server| server.name == name)
    }

    /// The flags every client gets besides the wire flags.
    fn client_extra(&self) -> Vec<String> {
        if self.multiplexed {
            vec!["--multiplexed".to_owned()]
        } else {
            Vec::new()
        }
    }

    /// One line for the report: where the servers are and how they speak.
    pub fn describe(&self) -> String {
        let servers: Vec<String> = self
            .servers
            .iter()
            .map(|s| format!("{}={}", s.name, s.address()))
            .collect();
        let mut text = format!(
            "Remote servers {} ({}/{}{}).",
            servers.join(", "),
            self.protocol,
            self.transport,
            if self.multiplexed {
                ", multiplexed"
            } else {
                ""
            }
        );
        if let Some(restart) = &self.restart {
            match &restart.kill {
                Some(kill) => text.push_str(&format!(
                    " server_restart: `{kill}`, 500 ms, `{}`.",
                    restart.restart
                )),
                None => text.push_str(&format!(" server_restart: `{}`.", restart.restart)),
            }
        }
        text
    }

    /// Every selected client peer of `matrix` against every server, once
    /// per case. No cases selected means all of [`REMOTE_CASES`], less
    /// `server_restart` when there is no restart command.
    pub fn cells(
        &self,
        matrix: &Matrix,
        clients: &[String],
        cases: &[String],
    ) -> Result<Vec<Cell>, Error> {
        if self.servers.is_empty() {
            return Err(Error::Remote("no servers given".into()));
        }
        for (flag, value, known) in [
            ("protocol", &self.protocol, &matrix.protocols),
            ("transport", &self.transport, &matrix.transports),
        ] {
            if !known.contains(value) {
                return Err(Error::UnknownSelection {
                    flag,
                    what: flag,
                    name: value.clone(),
                    known: known.join(", "),
                });
            }
        }
        let peer_names: Vec<&str> = matrix.peers.iter().map(|p| p.name.as_str()).collect();
        if let Some(name) = clients.iter().find(|c| !peer_names.contains(&c.as_str())) {
            return Err(Error::UnknownSelection {
                flag: "client",
                what: "peer",
                name: name.clone(),
                known: peer_names.join(", "),
            });
        }
        let cases = self.selected_cases(cases)?;
        let mut cells = Vec::new();
        let chosen = matrix
            .peers
            .iter()
            .filter(|peer| clients.is_empty() || clients.contains(&peer.name));
        for client in chosen {
            let unsupported = if !client.protocols.contains(&self.protocol) {
                Some(format!(
                    "the {} client has no {} protocol",
                    client.name, self.protocol
                ))
            } else if !client.transports.contains(&self.transport) {
                Some(format!(
                    "the {} client has no {} transport",
                    client.name, self.transport
                ))
            } else {
                None
            };
            for server in &self.servers {
                for &case in &cases {
                    cells.push(Cell {
                        client: client.name.clone(),
                        server: server.name.clone(),
                        protocol: self.protocol.clone(),
                        transport: self.transport.clone(),
                        server_model: REMOTE_MODEL.to_owned(),
                        case,
                        unsupported: unsupported.clone(),
                    });
                }
            }
        }
        Ok(cells)
    }

    fn selected_cases(&self, names: &[String]) -> Result<Vec<Case>, Error> {
        if names.is_empty() {
            return Ok(REMOTE_CASES
                .into_iter()
                .filter(|&case| case != Case::ServerRestart || self.restart.is_some())
                .collect());
        }
        let supported: Vec<&str> = REMOTE_CASES.iter().map(|case| case.name()).collect();
        let mut cases = Vec::new();
        for name in names {
            let case = Case::from_name(name)
                .filter(|case| REMOTE_CASES.contains(case))
                .ok_or_else(|| {
                    Error::Remote(format!(
                        "case `{name}` cannot run against remote servers (it needs to start, \
                         stop or signal the server process); remote mode runs {}",
                        supported.join(", ")
                    ))
                })?;
            if case == Case::ServerRestart && self.restart.is_none() {
                return Err(Error::Remote(
                    "server_restart needs --restart-cmd (and usually --kill-cmd)".into(),
                ));
            }
            if !cases.contains(&case) {
                cases.push(case);
            }
        }
        // Report order, whatever order they were asked in.
        cases.sort_by_key(|case| REMOTE_CASES.iter().position(|c| c == case));
        Ok(cases)
    }
}

/// Runs `cells` (from [`RemoteConfig::cells`]) on `config.jobs` threads,
/// never two on the same server at once; see [`run::run_scheduled`].
pub fn run_remote_cells(
    matrix: &Matrix,
    known: &KnownFailures,
    remote: &RemoteConfig,
    cells: &[Cell],
    config: &RunConfig,
    on_result: impl FnMut(&CellResult, Progress),
) -> Vec<CellResult> {
    run::run_scheduled(
        cells,
        config.jobs,
        &config.interrupted,
        |cell| Some(cell.server.clone()),
        |cell| run_remote_cell(matrix, known, remote, cell, config),
        on_result,
    )
}

/// Runs one remote cell and judges it; `None` if the run was interrupted.
/// There is no server log: the runner did not start the server.
pub fn run_remote_cell(
    matrix: &Matrix,
    known: &KnownFailures,
    remote: &RemoteConfig,
    cell: &Cell,
    config: &RunConfig,
) -> Option<CellResult> {
    run::judge_cell(cell, known, config, None, "client.log", |dir| {
        plan(matrix, remote, cell, config, dir).and_then(|plan| {
            let outcome = run_case(&plan);
            run::note_outcome(&plan.logs, &outcome);
            outcome
        })
    })
}

/// What a remote case needs.
struct RemotePlan<'a> {
    cell: &'a Cell,
    server: &'a RemoteServer,
    client_program: PathBuf,
    client_extra: Vec<String>,
    restart: Option<&'a RestartCommands>,
    logs: CellLogs,
    deadline: Deadline,
}

fn plan<'a>(
    matrix: &Matrix,
    remote: &'a RemoteConfig,
    cell: &'a Cell,
    config: &RunConfig,
    dir: PathBuf,
) -> Result<RemotePlan<'a>, CaseError> {
    let mixed_up = |what: String| CaseError::Runner(Error::Remote(what));
    let client = matrix
        .peer(&cell.client)
        .ok_or_else(|| mixed_up(format!("no client peer `{}`", cell.client)))?;
    let server = remote
        .server(&cell.server)
        .ok_or_else(|| mixed_up(format!("no remote server `{}`", cell.server)))?;
    Ok(RemotePlan {
        cell,
        server,
        client_program: config.root.join(&client.client),
        client_extra: remote.client_extra(),
        restart: remote.restart.as_ref(),
        logs: CellLogs::create(dir)?,
        deadline: Deadline::after(config.case_timeout, Arc::clone(&config.interrupted)),
    })
}

fn start_client(
    plan: &RemotePlan,
    case_flags: &[&str],
) -> Result<thrift_frame_harness::ClientProcess, CaseError> {
    let command = remote_client_command(
        &plan.client_program,
        plan.cell,
        &plan.server.host,
        plan.server.port,
        &plan.client_extra,
        case_flags,
    );
    launch_client(&plan.logs, &command, "client")
}

fn run_case(plan: &RemotePlan) -> Result<Observed, CaseError> {
    if let Some(data) = data_case(plan.cell.case) {
        let run = start_client(plan, data.client_flags)?.finish(&plan.deadline)?;
        expect_all_ok(&run, data.calls)?;
        return Ok(Observed {
            reconnects: run.last_reconnects(),
            recovery_ms: None,
            summary: format!("{} calls ok", data.calls),
        });
    }
    match plan.cell.case {
        Case::ServerRestart => server_restart(plan),
        other => Err(CaseError::Unsupported(format!(
            "{} cannot run against a remote server",
            other.name()
        ))),
    }
}

/// Runs one of the user's commands for this server, journalled, its output
/// in `restart.log`; fails the cell (as the runner's fault) unless it exits 0.
fn run_command(plan: &RemotePlan, what: &str, template: &str) -> Result<(), CaseError> {
    let command = render(template, plan.server);
    plan.logs.note(&format!("{what}: {command}"));
    let log = plan.logs.path("restart.log");
    let status = run_shell(what, &command, &log, &plan.deadline)?;
    plan.logs
        .note(&format!("{what}: {}", describe_exit(status)));
    if status.success() {
        Ok(())
    } else {
        Err(CaseError::Runner(Error::CommandFailed {
            command,
            outcome: describe_exit(status),
            why: last_line(&log),
        }))
    }
}

/// `server_restart` against a remote server: the client as in local mode;
/// after its 5th ok call the kill command, the outage, the restart command,
/// then TCP connects until the server accepts again.
fn server_restart(plan: &RemotePlan) -> Result<Observed, CaseError> {
    let restart = plan.restart.ok_or_else(|| {
        CaseError::Unsupported("server_restart needs --restart-cmd in remote mode".into())
    })?;
    let client = start_client(plan, &cases::RESTART_CLIENT_FLAGS)?;
    let client = wait_until_restart_is_due(&plan.deadline, client)?;
    let down_at = Instant::now();
    if let Some(kill) = &restart.kill {
        run_command(plan, "kill", kill)?;
        plan.deadline.pause(cases::OUTAGE, "the outage to end")?;
    }
    run_command(plan, "restart", &restart.restart)?;
    let address = plan.server.address();
    let ready_at = wait_for_tcp(
        &plan.server.host,
        plan.server.port,
        &plan.deadline,
        &format!("{address} to accept connections after the restart"),
    )?;
    let down_ms = ready_at.duration_since(down_at).as_millis();
    plan.logs.note(&format!(
        "{address} accepts connections again, {down_ms} ms after the kill"
    ));
    let run = client.finish(&plan.deadline)?;
    let (reconnects, recovery_ms) = judge_restart(&run, ready_at)?;
    let rounds = cases::RESTART_ROUNDS;
    let summary = match recovery_ms {
        Some(ms) => format!(
            "{rounds} calls ok; server down {down_ms} ms; first ok call {ms} ms after it \
             accepted connections again"
        ),
        None => format!("{rounds} calls ok; server down {down_ms} ms; no call was left after"),
    };
    Ok(Observed {
        reconnects: Some(reconnects),
        recovery_ms,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use std::path::Path;

    fn matrix() -> Matrix {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/matrix.toml");
        Matrix::load(&path).unwrap()
    }

    fn config(restart: bool) -> RemoteConfig {
        let specs: Vec<String> = ["rs=rs:9091", "cpp=cpp:9090"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        RemoteConfig {
            servers: RemoteConfig::parse_servers(&specs).unwrap(),
            protocol: "compact".into(),
            transport: "buffered".into(),
            multiplexed: true,
            restart: restart.then(|| RestartCommands {
                kill: Some("docker kill tf-{name}".into()),
                restart: "docker start tf-{name}".into(),
            }),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn server_specs_parse_and_bad_ones_say_why() {
        let server = RemoteServer::parse("cpp=cpp:9090").unwrap();
        assert_eq!(
            server,
            RemoteServer {
                name: "cpp".into(),
                host: "cpp".into(),
                port: 9090
            }
        );
        assert_eq!(server.address(), "cpp:9090");
        let v6 = RemoteServer::parse("rs=[::1]:9091").unwrap();
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.address(), "[::1]:9091");
        for (spec, why) in [
            ("cpp:9090", "no `=`"),
            ("cpp=cpp", "no `:port`"),
            ("cpp=cpp:0", "port"),
            ("cpp=cpp:99999", "port"),
            ("Cpp=cpp:9090", "lower-case"),
            ("=cpp:9090", "lower-case"),
            ("cpp=:9090", "empty host"),
        ] {
            let error = RemoteServer::parse(spec).unwrap_err().to_string();
            assert!(error.contains(why), "{spec}: {error}");
        }
        let twice = RemoteConfig::parse_servers(&names(&["a=h:1", "a=h:2"])).unwrap_err();
        assert!(twice.to_string().contains("listed twice"), "{twice}");
    }

    #[test]
    fn commands_get_the_servers_name_host_and_port() {
        let server = RemoteServer::parse("go=go.local:9092").unwrap();
        assert_eq!(
            render(
                "docker kill thrift-frame-{name} # {host} {port} {name}",
                &server
            ),
            "docker kill thrift-frame-go # go.local 9092 go"
        );
        assert_eq!(render("no placeholders", &server), "no placeholders");
    }

    #[test]
    fn cells_are_every_client_against_every_server_per_case() {
        let cells = config(true).cells(&matrix(), &[], &[]).unwrap();
        // 4 clients x 2 servers x 4 cases.
        assert_eq!(cells.len(), 4 * 2 * 4);
        let ids: HashSet<String> = cells.iter().map(Cell::id).collect();
        assert_eq!(ids.len(), cells.len());
        assert!(ids.contains("server_restart.go-cpp.compact-buffered.remote"));
        assert!(cells.iter().all(|c| c.unsupported.is_none()));

        // Without a restart command server_restart is left out...
        let cells = config(false).cells(&matrix(), &[], &[]).unwrap();
        assert!(cells.iter().all(|c| c.case != Case::ServerRestart));
        assert_eq!(cells.len(), 4 * 2 * 3);
        // ... and refused when asked for.
        let error = config(false)
            .cells(&matrix(), &[], &names(&["server_restart"]))
            .unwrap_err();
        assert!(error.to_string().contains("--restart-cmd"), "{error}");
    }

    #[test]
    fn selections_narrow_and_process_control_cases_are_refused() {
        let cells = config(true)
            .cells(
                &matrix(),
                &names(&["py"]),
                &names(&["echo", "large_payloads"]),
            )
            .unwrap();
        let ids: Vec<String> = cells.iter().map(Cell::id).collect();
        assert_eq!(
            ids,
            [
                "large_payloads.py-rs.compact-buffered.remote",
                "echo.py-rs.compact-buffered.remote",
                "large_payloads.py-cpp.compact-buffered.remote",
                "echo.py-cpp.compact-buffered.remote",
            ]
        );
        for case in ["server_hang", "server_late_start", "concurrent_clients"] {
            let error = config(true)
                .cells(&matrix(), &[], &names(&[case]))
                .unwrap_err();
            assert!(
                error.to_string().contains("cannot run against remote"),
                "{error}"
            );
        }
        let error = config(true)
            .cells(&matrix(), &names(&["java"]), &[])
            .unwrap_err();
        assert!(error.to_string().contains("--client"), "{error}");
        let mut unknown = config(true);
        unknown.transport = "sctp".into();
        assert!(unknown.cells(&matrix(), &[], &[]).is_err());
    }

    #[test]
    fn clients_get_the_servers_address_and_multiplexing() {
        let remote = config(true);
        let cells = remote
            .cells(&matrix(), &names(&["go"]), &names(&["student_put"]))
            .unwrap();
        let cell = &cells[1];
        let server = remote.server(&cell.server).unwrap();
        let data = data_case(cell.case).unwrap();
        let command = remote_client_command(
            Path::new("/c"),
            cell,
            &server.host,
            server.port,
            &remote.client_extra(),
            data.client_flags,
        );
        assert_eq!(
            command.to_string(),
            "/c --host cpp --port 9090 --protocol compact --transport buffered --multiplexed \
             --json --service student --rounds 100"
        );
        assert!(remote
            .describe()
            .contains("rs=rs:9091, cpp=cpp:9090 (compact/buffered, multiplexed)"));
        assert!(remote
            .describe()
            .contains("`docker kill tf-{name}`, 500 ms"));
    }

    /// A client stand-in that prints `calls` ok JSON lines, 50 ms apart (as
    /// `--interval-ms 50` would), so a restart happens while it runs.
    fn fake_client(dir: &Path, calls: usize) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("fake-client");
        let script = format!(
            "#!/bin/sh\ni=0\nwhile [ $i -lt {calls} ]; do i=$((i+1)); \
             echo '{{\"endpoint\":\"x\",\"round\":'$i',\"call\":\"ping\",\"size\":1024,\
             \"latency_ns\":1000,\"ok\":true,\"error\":null,\"reconnects\":1}}'; \
             sleep 0.05; done\n"
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn a_remote_restart_runs_the_commands_and_measures_recovery() {
        use std::sync::atomic::AtomicBool;
        let dir = std::env::temp_dir().join(format!("interop-remote-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let client = fake_client(&dir, 40);
        let matrix = Matrix::parse(
            &format!(
                r#"
                protocols = ["compact"]
                transports = ["buffered"]
                [[peer]]
                name = "fake"
                server = "/nonexistent"
                client = "{}"
                build = "none"
                protocols = ["compact"]
                transports = ["buffered"]
                default_model = "simple"
                models = [{{ name = "simple" }}]
                "#,
                client.display()
            ),
            Path::new("fake.toml"),
        )
        .unwrap();
        // The "server": a listener that always accepts, so readiness is immediate.
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let marker = dir.join("killed");
        let mut remote = RemoteConfig {
            servers: vec![RemoteServer {
                name: "srv".into(),
                host: "127.0.0.1".into(),
                port,
            }],
            protocol: "compact".into(),
            transport: "buffered".into(),
            multiplexed: false,
            restart: Some(RestartCommands {
                kill: Some(format!("echo {{name}} {{port}} > {}", marker.display())),
                restart: "echo started {name}".into(),
            }),
        };
        let run_config = RunConfig {
            root: dir.clone(),
            logs_dir: dir.join("logs"),
            jobs: 2,
            case_timeout: std::time::Duration::from_secs(20),
            interrupted: Arc::new(AtomicBool::new(false)),
        };
        let known = KnownFailures::default();
        let cells = remote
            .cells(&matrix, &[], &names(&["server_restart", "echo"]))
            .unwrap();
        let results = run_remote_cells(&matrix, &known, &remote, &cells, &run_config, |_, _| {});
        assert_eq!(results.len(), 2);
        let echo = &results[0];
        assert_eq!(echo.status, Status::Fail, "{echo:?}");
        assert!(
            echo.message.contains("40 call lines, expected 4"),
            "{}",
            echo.message
        );
        let restart = &results[1];
        assert_eq!(restart.status, Status::Pass, "{restart:?}");
        assert_eq!(restart.reconnects, Some(1));
        assert!(restart.recovery_ms.is_some(), "{restart:?}");
        assert!(
            restart.message.contains("server down"),
            "{}",
            restart.message
        );
        assert_eq!(
            std::fs::read_to_string(&marker).unwrap().trim(),
            format!("srv {port}")
        );
        let journal =
            std::fs::read_to_string(dir.join("logs").join(&restart.id).join("commands.txt"))
                .unwrap();
        assert!(journal.contains("restart: echo started srv"), "{journal}");
        assert!(journal.contains("accepts connections again"), "{journal}");

        // A restart command that fails fails the cell, saying which and why.
        remote.restart = Some(RestartCommands {
            kill: None,
            restart: "echo 'no such container' >&2; exit 1".into(),
        });
        let restart_cell: Vec<Cell> = cells
            .iter()
            .filter(|c| c.case == Case::ServerRestart)
            .cloned()
            .collect();
        let results = run_remote_cells(
            &matrix,
            &known,
            &remote,
            &restart_cell,
            &run_config,
            |_, _| {},
        );
        assert_eq!(results[0].status, Status::Fail);
        assert!(
            results[0].message.contains("exit 1: no such container"),
            "{}",
            results[0].message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
