//! The README's first section is this example, word for word, and it runs:
//! the store answers, the declared exception comes back as itself.

use std::process::Command;

use anyhow::{ensure, Context, Result};

fn read(path: &str) -> Result<String> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).with_context(|| format!("reading {full}"))
}

#[test]
fn the_readme_shows_this_example_as_it_is() -> Result<()> {
    let readme = read("../../README.md")?;
    for file in ["kv.thrift", "src/main.rs"] {
        let text = read(file)?;
        ensure!(
            readme.contains(text.trim_end()),
            "README.md does not show examples/kv/{file} as it is; copy it over"
        );
    }
    Ok(())
}

#[test]
fn the_example_runs() -> Result<()> {
    let out = Command::new(env!("CARGO_BIN_EXE_kv")).output()?;
    ensure!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout)?;
    ensure!(stdout.contains("lang = rust"), "{stdout}");
    ensure!(
        stdout.contains(r#"nope: Some(KeyNotFound { key: Some("nope") })"#),
        "{stdout}"
    );
    Ok(())
}
