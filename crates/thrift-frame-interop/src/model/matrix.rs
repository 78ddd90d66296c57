//! The matrix file: which peers exist and what each can serve, read from
//! interop/matrix.toml, and its expansion into [`Cell`]s (client x server x
//! protocol x transport x server model x case) under a [`Selection`].

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{selected, Case, Cell, ModelScope, Selection, Side, Suite};
use crate::Error;

/// One peer: a `ping-server` and a `ping-client`, and where it has them a
/// `thrifttest-server` and a `thrifttest-client`, that follow interop/SPEC.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    pub name: String,
    /// Relative to the repository root.
    pub server: PathBuf,
    /// Relative to the repository root.
    pub client: PathBuf,
    /// The ThriftTest server, relative to the repository root.
    #[serde(default)]
    pub thrifttest_server: Option<PathBuf>,
    /// The ThriftTest client, relative to the repository root.
    #[serde(default)]
    pub thrifttest_client: Option<PathBuf>,
    /// The command that builds both, shown when a binary is missing.
    pub build: String,
    pub protocols: Vec<String>,
    pub transports: Vec<String>,
    pub default_model: String,
    pub models: Vec<ServerModel>,
    /// Whether its ping server sends a request's `x-request-id` back over
    /// the header transport (then every header client must see it echoed).
    #[serde(default)]
    pub echoes_request_id: bool,
}

/// A server model (`--server`) of one peer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerModel {
    pub name: String,
    /// The transports this model can serve; absent means all of the peer's.
    #[serde(default)]
    pub transports: Option<Vec<String>>,
    /// Whether it serves several clients at the same time.
    #[serde(default)]
    pub concurrent: bool,
    /// Its name for `thrifttest-server --server-type` (upstream's names),
    /// when that differs from `name`.
    #[serde(default)]
    pub server_type: Option<String>,
    /// Whether the failure cases run on it too, not only on the peer's
    /// default model (for a model whose recovery paths are its own).
    #[serde(default)]
    pub failure_cases: bool,
    /// Its name for `ping-server --server`, when that differs from `name`.
    #[serde(default)]
    pub server: Option<String>,
    /// The `--transport` its servers get whatever the cell's (`auto`: one
    /// server for every client transport); absent: the cell's.
    #[serde(default)]
    pub server_transport: Option<String>,
}

impl ServerModel {
    /// The `--server-type` of `thrifttest-server` for this model.
    pub fn server_type(&self) -> &str {
        self.server_type.as_deref().unwrap_or(&self.name)
    }

    /// The `--server` of `ping-server` for this model.
    pub fn server_flag(&self) -> &str {
        self.server.as_deref().unwrap_or(&self.name)
    }

    fn serves_transport(&self, transport: &str) -> bool {
        match &self.transports {
            Some(transports) => transports.iter().any(|t| t == transport),
            None => true,
        }
    }
}

/// Cells that run only on some wires (`protocol/transport`), to keep the
/// run short: the slow failure cases need not cross every wire to prove
/// recovery on each transport, nor a slow peer's slowest protocol.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subset {
    /// The cases it keeps to `wires`; absent: every case.
    #[serde(default)]
    pub cases: Option<Vec<String>>,
    /// Only cells with one of these peers on either side; absent: all.
    #[serde(default)]
    pub peers: Option<Vec<String>>,
    /// `protocol/transport` names, e.g. `json/http`.
    pub wires: Vec<String>,
}

impl Subset {
    fn covers(&self, case: Case, client: &str, server: &str) -> bool {
        let case_listed = self
            .cases
            .as_ref()
            .is_none_or(|cases| cases.iter().any(|c| c == case.name()));
        let peer_listed = self
            .peers
            .as_ref()
            .is_none_or(|peers| peers.iter().any(|p| p == client || p == server));
        case_listed && peer_listed
    }
}

/// Wires no peer can speak: their cells are unsupported without running.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incompatible {
    /// `protocol/transport` names.
    pub wires: Vec<String>,
    /// Why, as the cells' results say.
    pub why: String,
}

/// The whole matrix file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub protocols: Vec<String>,
    pub transports: Vec<String>,
    #[serde(rename = "peer")]
    pub peers: Vec<Peer>,
    #[serde(default, rename = "subset")]
    pub subsets: Vec<Subset>,
    #[serde(default, rename = "incompatible")]
    pub incompatible: Vec<Incompatible>,
}

impl Matrix {
    /// The program that plays `side` of `case` for `peer`, relative to the
    /// repository root: its ping or its ThriftTest binary.
    pub fn program(&self, peer: &str, side: Side, suite: Suite) -> Option<&Path> {
        let peer = self.peer(peer)?;
        let program = match (suite, side) {
            (Suite::Ping, Side::Server) => Some(&peer.server),
            (Suite::Ping, Side::Client) => Some(&peer.client),
            (Suite::ThriftTest, Side::Server) => peer.thrifttest_server.as_ref(),
            (Suite::ThriftTest, Side::Client) => peer.thrifttest_client.as_ref(),
        };
        program.map(PathBuf::as_path)
    }

    /// The server model `model` of `peer`.
    pub fn model(&self, peer: &str, model: &str) -> Option<&ServerModel> {
        self.peer(peer)?.models.iter().find(|m| m.name == model)
    }

    /// Reads and checks the matrix file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = fs::read_to_string(path).map_err(|source| Error::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks matrix text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let matrix: Matrix = toml::from_str(text).map_err(|source| Error::ParseToml {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        matrix.check().map_err(|message| Error::InvalidMatrix {
            path: path.to_owned(),
            message,
        })?;
        Ok(matrix)
    }

    /// Why no peer speaks `protocol` over `transport`, if none does.
    fn why_incompatible(&self, protocol: &str, transport: &str) -> Option<String> {
        let wire = format!("{protocol}/{transport}");
        self.incompatible
            .iter()
            .find(|i| i.wires.contains(&wire))
            .map(|i| i.why.clone())
    }

    /// Whether the cell runs: on every wire, unless a subset covers it.
    fn runs_on(&self, case: Case, client: &str, server: &str, wire: (&str, &str)) -> bool {
        let wire = format!("{}/{}", wire.0, wire.1);
        self.subsets
            .iter()
            .filter(|s| s.covers(case, client, server))
            .all(|s| s.wires.contains(&wire))
    }

    /// The consistency rules the expansion relies on.
    fn check(&self) -> Result<(), String> {
        if self.peers.is_empty() {
            return Err("no [[peer]] entries".into());
        }
        for subset in &self.subsets {
            let cases = subset.cases.iter().flatten();
            if let Some(case) = cases.clone().find(|c| Case::from_name(c).is_none()) {
                return Err(format!("[[subset]]: unknown case `{case}`"));
            }
            if let Some(peer) = subset
                .peers
                .iter()
                .flatten()
                .find(|p| self.peer(p).is_none())
            {
                return Err(format!("[[subset]]: unknown peer `{peer}`"));
            }
        }
        let subsets = self.subsets.iter().map(|s| ("subset", &s.wires));
        let incompatible = self.incompatible.iter().map(|i| ("incompatible", &i.wires));
        for (table, wires) in subsets.chain(incompatible) {
            for wire in wires {
                let known = wire.split_once('/').is_some_and(|(p, t)| {
                    self.protocols.iter().any(|x| x == p) && self.transports.iter().any(|x| x == t)
                });
                if !known {
                    return Err(format!(
                        "[[{table}]]: `{wire}` is not a protocol/transport of the matrix"
                    ));
                }
            }
        }
        // Names end up in cell ids, directory names and HTML.
        let plain = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        for name in self.protocols.iter().chain(&self.transports) {
            if !plain(name) {
                return Err(format!("`{name}` is not a plain lower-case name"));
            }
        }
        let mut peer_names = HashSet::new();
        for peer in &self.peers {
            let name = &peer.name;
            if !plain(name) {
                return Err(format!("peer `{name}` is not a plain lower-case name"));
            }
            if !peer_names.insert(name.as_str()) {
                return Err(format!("peer `{name}` is listed twice"));
            }
            for protocol in &peer.protocols {
                if !self.protocols.contains(protocol) {
                    return Err(format!("peer `{name}`: unknown protocol `{protocol}`"));
                }
            }
            for transport in &peer.transports {
                if !self.transports.contains(transport) {
                    return Err(format!("peer `{name}`: unknown transport `{transport}`"));
                }
            }
            let mut model_names = HashSet::new();
            for model in &peer.models {
                if !plain(&model.name) {
                    return Err(format!(
                        "peer `{name}`: model `{}` is not a plain lower-case name",
                        model.name
                    ));
                }
                if !model_names.insert(model.name.as_str()) {
                    return Err(format!("peer `{name}`: model `{}` twice", model.name));
                }
                for transport in model.transports.iter().flatten() {
                    if !peer.transports.contains(transport) {
                        return Err(format!(
                            "peer `{name}`: model `{}` restricted to `{transport}`, which the peer lacks",
                            model.name
                        ));
                    }
                }
            }
            if !model_names.contains(peer.default_model.as_str()) {
                return Err(format!(
                    "peer `{name}`: default model `{}` is not among its models",
                    peer.default_model
                ));
            }
        }
        Ok(())
    }

    pub fn peer(&self, name: &str) -> Option<&Peer> {
        self.peers.iter().find(|peer| peer.name == name)
    }

    /// Every model name some peer has, in matrix order.
    pub fn model_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for model in self.peers.iter().flat_map(|peer| &peer.models) {
            if !names.contains(&model.name.as_str()) {
                names.push(&model.name);
            }
        }
        names
    }

    /// Rejects names in a selection that the matrix does not know, so a typo
    /// does not silently select nothing.
    pub fn check_selection(&self, selection: &Selection) -> Result<(), Error> {
        let peers: Vec<&str> = self.peers.iter().map(|p| p.name.as_str()).collect();
        let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        let transports: Vec<&str> = self.transports.iter().map(String::as_str).collect();
        let cases: Vec<&str> = Case::ALL.iter().map(|case| case.name()).collect();
        let axes: [(&'static str, &'static str, &[String], &[&str]); 6] = [
            ("client", "peer", &selection.clients, &peers),
            ("server", "peer", &selection.servers, &peers),
            ("protocol", "protocol", &selection.protocols, &protocols),
            ("transport", "transport", &selection.transports, &transports),
            (
                "model",
                "server model",
                &selection.models,
                &self.model_names(),
            ),
            ("case", "case", &selection.cases, &cases),
        ];
        for (flag, what, wanted, known) in axes {
            if let Some(name) = wanted.iter().find(|name| !known.contains(&name.as_str())) {
                return Err(Error::UnknownSelection {
                    flag,
                    what,
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
        }
        Ok(())
    }

    /// The selected cells, in a fixed order: client, server, protocol,
    /// transport, model, case. Failure cases run only on each server's
    /// default model (and models marked `failure_cases`) and
    /// `concurrent_clients` only on concurrent models, to
    /// keep the run short; cells a side cannot serve are kept and marked.
    pub fn cells(&self, selection: &Selection) -> Result<Vec<Cell>, Error> {
        self.check_selection(selection)?;
        let mut cells = Vec::new();
        let clients = self
            .peers
            .iter()
            .filter(|p| selected(&selection.clients, &p.name));
        for client in clients {
            let servers = self
                .peers
                .iter()
                .filter(|p| selected(&selection.servers, &p.name));
            for server in servers {
                let protocols = self
                    .protocols
                    .iter()
                    .filter(|p| selected(&selection.protocols, p));
                for protocol in protocols {
                    let transports =
                        (self.transports.iter()).filter(|t| selected(&selection.transports, t));
                    for transport in transports {
                        let models =
                            (server.models.iter()).filter(|m| selected(&selection.models, &m.name));
                        for model in models {
                            let cases = Case::ALL
                                .into_iter()
                                .filter(|case| selected(&selection.cases, case.name()))
                                .filter(|case| {
                                    let wire = (protocol.as_str(), transport.as_str());
                                    self.runs_on(*case, &client.name, &server.name, wire)
                                })
                                .filter(|case| match case.scope() {
                                    ModelScope::EveryModel => true,
                                    ModelScope::DefaultModel => {
                                        model.name == server.default_model || model.failure_cases
                                    }
                                    ModelScope::ConcurrentModels => model.concurrent,
                                });
                            for case in cases {
                                cells.push(Cell {
                                    client: client.name.clone(),
                                    server: server.name.clone(),
                                    protocol: protocol.clone(),
                                    transport: transport.clone(),
                                    server_model: model.name.clone(),
                                    case,
                                    unsupported: self
                                        .why_incompatible(protocol, transport)
                                        .or_else(|| {
                                            why_unsupported(
                                                client, server, model, protocol, transport, case,
                                            )
                                        }),
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(cells)
    }
}

fn why_unsupported(
    client: &Peer,
    server: &Peer,
    model: &ServerModel,
    protocol: &str,
    transport: &str,
    case: Case,
) -> Option<String> {
    for (side, peer) in [("client", client), ("server", server)] {
        if case.suite() == Suite::ThriftTest {
            let program = match side {
                "client" => &peer.thrifttest_client,
                _ => &peer.thrifttest_server,
            };
            if program.is_none() {
                return Some(format!("the {} peer has no thrifttest-{side}", peer.name));
            }
        }
        if !peer.protocols.iter().any(|p| p == protocol) {
            return Some(format!(
                "the {} {side} has no {protocol} protocol",
                peer.name
            ));
        }
        if !peer.transports.iter().any(|t| t == transport) {
            return Some(format!(
                "the {} {side} has no {transport} transport",
                peer.name
            ));
        }
    }
    if !model.serves_transport(transport) {
        return Some(format!(
            "the {} server's {} model does not serve {transport} transport",
            server.name, model.name
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATRIX: &str = r#"
        protocols = ["binary", "compact"]
        transports = ["buffered", "framed"]

        [[peer]]
        name = "rs"
        server = "target/release/ping-server"
        client = "target/release/ping-client"
        thrifttest_server = "target/release/thrifttest-server"
        thrifttest_client = "target/release/thrifttest-client"
        build = "cargo build --release --bins"
        protocols = ["binary", "compact"]
        transports = ["buffered", "framed"]
        default_model = "threaded"
        models = [
          { name = "simple" },
          { name = "threaded", concurrent = true },
        ]

        [[peer]]
        name = "cpp"
        server = "interop/cpp/bin/ping-server"
        client = "interop/cpp/bin/ping-client"
        build = "make -C interop/cpp"
        protocols = ["binary", "compact"]
        transports = ["buffered", "framed"]
        default_model = "threaded"
        models = [
          { name = "threaded", concurrent = true },
          { name = "nonblocking", transports = ["framed"], concurrent = true },
        ]
    "#;

    fn matrix() -> Matrix {
        match Matrix::parse(MATRIX, Path::new("test.toml")) {
            Ok(matrix) => matrix,
            Err(error) => panic!("test matrix rejected: {error}"),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn full_expansion_has_the_expected_size() {
        let cells = matrix().cells(&Selection::default()).unwrap();
        // Per client, protocol and transport: rs server = 5 every-model
        // cases (3 data, 2 ThriftTest) x 2 models + 4 failure (threaded)
        // + 1 concurrent (threaded) = 15; cpp server = 5 x 2 + 4 + 2
        // concurrent = 16. So 2 clients x 2 x 2 x 31.
        assert_eq!(cells.len(), 2 * 2 * 2 * 31);
        let ids: HashSet<String> = cells.iter().map(Cell::id).collect();
        assert_eq!(ids.len(), cells.len(), "cell ids must be unique");
    }

    #[test]
    fn failure_cases_only_on_the_default_model_and_concurrency_only_where_marked() {
        let cells = matrix().cells(&Selection::default()).unwrap();
        for cell in &cells {
            match cell.case.scope() {
                ModelScope::DefaultModel => assert_eq!(cell.server_model, "threaded", "{cell:?}"),
                ModelScope::ConcurrentModels => assert_ne!(cell.server_model, "simple"),
                ModelScope::EveryModel => {}
            }
        }
        assert!(cells
            .iter()
            .any(|c| c.server_model == "simple" && c.case == Case::Echo));
    }

    #[test]
    fn a_model_marked_failure_cases_gets_the_failure_cases() {
        let marked = MATRIX.replace(
            r#"{ name = "nonblocking", transports = ["framed"], concurrent = true }"#,
            r#"{ name = "nonblocking", transports = ["framed"], concurrent = true, failure_cases = true }"#,
        );
        assert_ne!(marked, MATRIX);
        let before = matrix().cells(&Selection::default()).unwrap();
        let after = Matrix::parse(&marked, Path::new("m.toml"))
            .unwrap()
            .cells(&Selection::default())
            .unwrap();
        let failures_on_nonblocking = |cells: &[Cell]| {
            cells
                .iter()
                .filter(|c| c.server_model == "nonblocking")
                .filter(|c| c.case.scope() == ModelScope::DefaultModel)
                .count()
        };
        assert_eq!(failures_on_nonblocking(&before), 0);
        // 2 clients x 2 protocols x 2 transports x 4 failure cases.
        assert_eq!(failures_on_nonblocking(&after), 2 * 2 * 2 * 4);
    }

    #[test]
    fn incompatible_wires_are_unsupported_whoever_the_peers() {
        // Top-level tables must come before the peers' array of tables.
        let text = MATRIX.replacen(
            "[[peer]]",
            "[[incompatible]]\nwires = [\"compact/framed\"]\nwhy = \"no such wire\"\n\n[[peer]]",
            1,
        );
        let matrix = Matrix::parse(&text, Path::new("m.toml")).unwrap();
        let cells = matrix.cells(&Selection::default()).unwrap();
        for cell in &cells {
            let incompatible =
                (cell.protocol.as_str(), cell.transport.as_str()) == ("compact", "framed");
            if incompatible {
                assert_eq!(
                    cell.unsupported.as_deref(),
                    Some("no such wire"),
                    "{}",
                    cell.id()
                );
            } else {
                assert_ne!(
                    cell.unsupported.as_deref(),
                    Some("no such wire"),
                    "{}",
                    cell.id()
                );
            }
        }
        assert!(cells
            .iter()
            .any(|c| c.unsupported.as_deref() == Some("no such wire")));
    }

    #[test]
    fn a_model_may_name_its_own_server_flag_and_transport() {
        let text = MATRIX.replace(
            r#"{ name = "simple" },"#,
            r#"{ name = "simple" },
          { name = "auto", server = "threaded", server_transport = "auto" },"#,
        );
        let matrix = Matrix::parse(&text, Path::new("m.toml")).unwrap();
        let auto = matrix.model("rs", "auto").unwrap();
        assert_eq!(auto.server_flag(), "threaded");
        assert_eq!(auto.server_transport.as_deref(), Some("auto"));
        let simple = matrix.model("rs", "simple").unwrap();
        assert_eq!(
            (simple.server_flag(), simple.server_transport.as_deref()),
            ("simple", None)
        );
    }

    #[test]
    fn model_transport_restriction_marks_cells_unsupported() {
        let selection = Selection {
            servers: names(&["cpp"]),
            models: names(&["nonblocking"]),
            ..Selection::default()
        };
        let cells = matrix().cells(&selection).unwrap();
        assert!(!cells.is_empty());
        for cell in cells.iter().filter(|c| c.case.suite() == Suite::Ping) {
            assert_eq!(
                cell.unsupported.is_some(),
                cell.transport == "buffered",
                "{cell:?}"
            );
        }
    }

    #[test]
    fn a_peer_without_thrifttest_binaries_makes_those_cells_unsupported() {
        let cells = matrix().cells(&Selection::default()).unwrap();
        for cell in cells.iter().filter(|c| c.case.suite() == Suite::ThriftTest) {
            let lacking = cell.client == "cpp" || cell.server == "cpp";
            assert_eq!(cell.unsupported.is_some(), lacking, "{cell:?}");
        }
        let m = matrix();
        assert_eq!(
            m.program("rs", Side::Client, Suite::ThriftTest),
            Some(Path::new("target/release/thrifttest-client"))
        );
        assert_eq!(m.program("cpp", Side::Server, Suite::ThriftTest), None);
        assert_eq!(
            m.program("cpp", Side::Server, Suite::Ping),
            Some(Path::new("interop/cpp/bin/ping-server"))
        );
    }

    #[test]
    fn selection_narrows_every_axis() {
        let selection = Selection {
            clients: names(&["cpp"]),
            servers: names(&["rs"]),
            protocols: names(&["compact"]),
            transports: names(&["framed"]),
            models: names(&["simple"]),
            cases: names(&["echo", "server_hang"]),
        };
        let cells = matrix().cells(&selection).unwrap();
        // server_hang runs on the default model only, so simple drops it.
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].id(), "echo.cpp-rs.compact-framed.simple");
        assert_eq!(cells[0].unsupported, None);
    }

    #[test]
    fn unknown_selection_names_are_rejected() {
        let selection = Selection {
            cases: names(&["echoo"]),
            ..Selection::default()
        };
        let error = matrix().cells(&selection).unwrap_err().to_string();
        assert!(
            error.contains("--case") && error.contains("echoo"),
            "{error}"
        );
        let selection = Selection {
            models: names(&["pool"]),
            ..Selection::default()
        };
        assert!(matrix().cells(&selection).is_err());
    }

    #[test]
    fn inconsistent_matrices_are_rejected() {
        let bad_default = MATRIX.replacen(
            "default_model = \"threaded\"",
            "default_model = \"pool\"",
            1,
        );
        let error = Matrix::parse(&bad_default, Path::new("m.toml")).unwrap_err();
        assert!(
            error.to_string().contains("default model `pool`"),
            "{error}"
        );

        let bad_transport = MATRIX.replace("transports = [\"framed\"]", "transports = [\"http\"]");
        assert!(Matrix::parse(&bad_transport, Path::new("m.toml")).is_err());

        let twice = format!("{MATRIX}\n{}", &MATRIX[MATRIX.find("[[peer]]").unwrap()..]);
        let error = Matrix::parse(&twice, Path::new("m.toml")).unwrap_err();
        assert!(error.to_string().contains("listed twice"), "{error}");
    }

    #[test]
    fn the_shipped_matrix_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/matrix.toml");
        let matrix = Matrix::load(&path).unwrap();
        let names: Vec<&str> = matrix.peers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["rs", "cpp", "go", "py"]);
    }

    #[test]
    fn a_subset_keeps_its_cases_to_its_wires() {
        let text = format!(
            "{}\n[[subset]]\ncases = [\"server_hang\"]\nwires = [\"binary/framed\"]\n",
            MATRIX
        );
        let matrix = Matrix::parse(&text, Path::new("m.toml")).unwrap();
        let cells = matrix.cells(&Selection::default()).unwrap();
        let hangs: Vec<&Cell> = cells
            .iter()
            .filter(|c| c.case == Case::ServerHang)
            .collect();
        assert!(!hangs.is_empty());
        assert!(hangs
            .iter()
            .all(|c| c.protocol == "binary" && c.transport == "framed"));
        assert!(cells
            .iter()
            .any(|c| c.case == Case::Echo && c.transport == "buffered"));
        let peers =
            format!("{MATRIX}\n[[subset]]\npeers = [\"cpp\"]\nwires = [\"compact/buffered\"]\n");
        let cells = Matrix::parse(&peers, Path::new("m.toml"))
            .unwrap()
            .cells(&Selection::default())
            .unwrap();
        assert!(cells
            .iter()
            .filter(|c| c.client == "cpp" || c.server == "cpp")
            .all(|c| (c.protocol.as_str(), c.transport.as_str()) == ("compact", "buffered")));
        assert!(cells
            .iter()
            .any(|c| c.client == "rs" && c.server == "rs" && c.protocol == "binary"));
        let bad = format!("{MATRIX}\n[[subset]]\ncases = [\"echo\"]\nwires = [\"binary/http\"]\n");
        let e = Matrix::parse(&bad, Path::new("m.toml")).unwrap_err();
        assert!(e.to_string().contains("binary/http"), "{e}");
    }
}
