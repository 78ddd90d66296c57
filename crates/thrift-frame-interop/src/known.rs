//! Known failures (interop/known-failures.toml): cells that fail because of
//! a bug in another team's peer. A failing cell that matches an entry is
//! reported as `known_failure` and does not fail the run. The Rust peer is
//! the reference: an entry that involves it must be a ThriftTest case and
//! name the methods whose checks the other library gets wrong (`methods`),
//! and covers a failure only when every other method passed; a Rust failure
//! is a bug to fix, not to list.

use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;

use crate::cases::thrift_test::{SECOND_SERVICE_METHOD, THRIFT_TEST_METHODS};
use crate::model::{Case, Cell, Matrix, Suite};
use crate::{CaseError, Error};

/// The peer whose failures may never be listed.
pub const REFERENCE_PEER: &str = "rs";

/// One entry; absent protocol, transport or model match any.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    pub client: String,
    pub server: String,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub transport: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    pub case: String,
    pub why: String,
    /// ThriftTest cases only: the methods whose checks fail. Given, the
    /// entry covers a failure only if it is confined to (some of) them.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
}

impl KnownFailure {
    /// Whether this entry covers `error`: any failure, or with `methods`,
    /// one confined to those methods.
    pub fn covers(&self, error: &CaseError) -> bool {
        match (&self.methods, error) {
            (None, _) => true,
            (Some(listed), CaseError::FailedMethods { methods, .. }) => {
                methods.iter().all(|m| listed.contains(m))
            }
            (Some(_), _) => false,
        }
    }

    pub fn matches(&self, cell: &Cell) -> bool {
        let optional = |wanted: &Option<String>, actual: &str| {
            wanted.as_deref().is_none() || wanted.as_deref() == Some(actual)
        };
        self.client == cell.client
            && self.server == cell.server
            && self.case == cell.case.name()
            && optional(&self.protocol, &cell.protocol)
            && optional(&self.transport, &cell.transport)
            && optional(&self.model, &cell.server_model)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFailuresFile {
    #[serde(default, rename = "known_failure")]
    entries: Vec<KnownFailure>,
}

/// All entries of the file, checked against the matrix.
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    entries: Vec<KnownFailure>,
}

impl KnownFailures {
    /// Reads the file; a missing file means no known failures.
    pub fn load(path: &Path, matrix: &Matrix) -> Result<Self, Error> {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path, matrix),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(Error::ReadFile {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses and checks the text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path, matrix: &Matrix) -> Result<Self, Error> {
        let file: KnownFailuresFile = toml::from_str(text).map_err(|source| Error::ParseToml {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        for (index, entry) in file.entries.iter().enumerate() {
            check_entry(entry, matrix).map_err(|message| Error::InvalidKnownFailure {
                path: path.to_owned(),
                number: index + 1,
                entry: format!("{} -> {} {}", entry.client, entry.server, entry.case),
                message,
            })?;
        }
        Ok(Self {
            entries: file.entries,
        })
    }

    pub fn entries(&self) -> &[KnownFailure] {
        &self.entries
    }

    /// The first entry that covers this cell's failure.
    pub fn matching(&self, cell: &Cell, error: &CaseError) -> Option<&KnownFailure> {
        self.entries
            .iter()
            .find(|entry| entry.matches(cell) && entry.covers(error))
    }
}

fn check_entry(entry: &KnownFailure, matrix: &Matrix) -> Result<(), String> {
    let case = Case::from_name(&entry.case);
    if let Some(methods) = &entry.methods {
        if !case.is_some_and(|c| c.suite() == Suite::ThriftTest) {
            return Err("`methods` are for the thrift_test cases only".into());
        }
        let known: Vec<&str> = THRIFT_TEST_METHODS
            .iter()
            .copied()
            .chain([SECOND_SERVICE_METHOD])
            .collect();
        if let Some(unknown) = methods.iter().find(|m| !known.contains(&m.as_str())) {
            return Err(format!("unknown ThriftTest method `{unknown}`"));
        }
        if methods.is_empty() {
            return Err("`methods` is empty".into());
        }
    }
    let involves_reference = entry.client == REFERENCE_PEER || entry.server == REFERENCE_PEER;
    if involves_reference && entry.methods.is_none() {
        return Err(format!(
            "entries involving `{REFERENCE_PEER}` must name the ThriftTest `methods` the other \
             library gets wrong: the Rust peer is the reference, its failures are bugs to fix"
        ));
    }
    for peer in [&entry.client, &entry.server] {
        if matrix.peer(peer).is_none() {
            return Err(format!("unknown peer `{peer}`"));
        }
    }
    if case.is_none() {
        return Err(format!("unknown case `{}`", entry.case));
    }
    if let Some(protocol) = &entry.protocol {
        if !matrix.protocols.contains(protocol) {
            return Err(format!("unknown protocol `{protocol}`"));
        }
    }
    if let Some(transport) = &entry.transport {
        if !matrix.transports.contains(transport) {
            return Err(format!("unknown transport `{transport}`"));
        }
    }
    if let Some(model) = &entry.model {
        let server_models = matrix.peer(&entry.server).map(|peer| &peer.models);
        if !server_models.is_some_and(|models| models.iter().any(|m| &m.name == model)) {
            return Err(format!(
                "the {} server has no model `{model}`",
                entry.server
            ));
        }
    }
    if entry.why.trim().is_empty() {
        return Err("`why` is empty: say what the peer does wrong".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> CaseError {
        CaseError::Failed("it failed".into())
    }

    fn matrix() -> Matrix {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/matrix.toml");
        Matrix::load(&path).unwrap()
    }

    fn cell(client: &str, server: &str, protocol: &str, model: &str, case: Case) -> Cell {
        Cell {
            client: client.into(),
            server: server.into(),
            protocol: protocol.into(),
            transport: "framed".into(),
            server_model: model.into(),
            case,
            unsupported: None,
        }
    }

    #[test]
    fn optional_fields_narrow_the_match() {
        let text = r#"
            [[known_failure]]
            client = "py"
            server = "cpp"
            protocol = "binary"
            case = "server_hang"
            why = "the Python client waits forever on a stopped server"

            [[known_failure]]
            client = "go"
            server = "py"
            model = "pool"
            case = "echo"
            why = "example"
        "#;
        let known = KnownFailures::parse(text, Path::new("k.toml"), &matrix()).unwrap();
        assert_eq!(known.entries().len(), 2);

        let hang = |protocol| cell("py", "cpp", protocol, "threaded", Case::ServerHang);
        assert!(known.matching(&hang("binary"), &failed()).is_some());
        assert!(known.matching(&hang("compact"), &failed()).is_none());
        assert!(known
            .matching(
                &cell("py", "cpp", "binary", "threaded", Case::Echo),
                &failed()
            )
            .is_none());
        assert!(known
            .matching(
                &cell("cpp", "py", "binary", "threaded", Case::ServerHang),
                &failed()
            )
            .is_none());

        assert!(known
            .matching(&cell("go", "py", "compact", "pool", Case::Echo), &failed())
            .is_some());
        assert!(known
            .matching(
                &cell("go", "py", "compact", "simple", Case::Echo),
                &failed()
            )
            .is_none());
    }

    #[test]
    fn entries_involving_rust_without_methods_are_rejected() {
        for (client, server) in [("rs", "cpp"), ("go", "rs")] {
            let text = format!(
                "[[known_failure]]\nclient = \"{client}\"\nserver = \"{server}\"\ncase = \"echo\"\nwhy = \"x\"\n"
            );
            let error = KnownFailures::parse(&text, Path::new("k.toml"), &matrix()).unwrap_err();
            assert!(
                error.to_string().contains("must name the ThriftTest"),
                "{error}"
            );
        }
    }

    #[test]
    fn unknown_names_and_empty_reasons_are_rejected() {
        let entry = |field: &str| {
            let mut fields = vec![
                ("client", "cpp"),
                ("server", "go"),
                ("case", "echo"),
                ("why", "a reason"),
            ];
            match field {
                "model" => fields.push(("model", "pool")), // go has only simple
                "case" => fields[2].1 = "ping",
                "why" => fields[3].1 = " ",
                _ => fields[0].1 = "java",
            }
            let body: String = fields
                .iter()
                .map(|(key, value)| format!("{key} = \"{value}\"\n"))
                .collect();
            format!("[[known_failure]]\n{body}")
        };
        for field in ["model", "case", "why", "client"] {
            let result = KnownFailures::parse(&entry(field), Path::new("k.toml"), &matrix());
            assert!(result.is_err(), "{field} should be rejected");
        }
    }

    #[test]
    fn a_missing_file_means_none_and_the_shipped_file_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let none = KnownFailures::load(&dir.join("no-such-file.toml"), &matrix()).unwrap();
        assert!(none.entries().is_empty());
        KnownFailures::load(&dir.join("../../interop/known-failures.toml"), &matrix()).unwrap();
    }

    #[test]
    fn an_entry_with_rust_must_name_methods_and_covers_only_failures_in_them() {
        let without = r#"
            [[known_failure]]
            client = "rs"
            server = "cpp"
            case = "thrift_test"
            why = "C++ TJSONProtocol drops NUL"
        "#;
        let e = KnownFailures::parse(without, Path::new("k.toml"), &matrix()).unwrap_err();
        assert!(
            e.to_string().contains("must name the ThriftTest `methods`"),
            "{e}"
        );
        let not_thrift_test =
            format!("{without}methods = [\"testString\"]").replace("thrift_test", "echo");
        let e = KnownFailures::parse(&not_thrift_test, Path::new("k.toml"), &matrix()).unwrap_err();
        assert!(e.to_string().contains("thrift_test cases only"), "{e}");
        let with = format!("{without}methods = [\"testString\", \"testStringMap\"]");
        let known = KnownFailures::parse(&with, Path::new("k.toml"), &matrix()).unwrap();
        let cell = cell("rs", "cpp", "json", "threaded", Case::ThriftTest);
        let confined = |methods: &[&str]| CaseError::FailedMethods {
            message: "exit 5".into(),
            methods: methods.iter().map(|m| m.to_string()).collect(),
        };
        assert!(known.matching(&cell, &confined(&["testString"])).is_some());
        assert!(known
            .matching(&cell, &confined(&["testString", "testStringMap"]))
            .is_some());
        assert!(known
            .matching(&cell, &confined(&["testString", "testI64"]))
            .is_none());
        // A failure not known to be confined to methods is never covered.
        assert!(known.matching(&cell, &failed()).is_none());
    }
}
