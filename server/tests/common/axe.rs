//! Accessibility, checked by axe-core inside the page as it stands: its
//! script (npm's `axe-core`, which `cargo xtask setup` installs under
//! `target/tools`) is run through WebDriver, then `axe.run()`; a violation
//! of impact `serious` or `critical` fails the test, naming the rule, the
//! nodes and the help. Lesser ones are printed.

use std::path::{Path, PathBuf};

use fantoccini::Client;
use serde_json::Value;

/// Where set-up installs axe-core's script, from the project's root
/// (`xtask/src/tools.rs` checks that this names the same file).
const AXE_SCRIPT: &str = "target/tools/axe-core/node_modules/axe-core/axe.min.js";

/// Impacts that fail a test.
const FAILING: [&str; 2] = ["serious", "critical"];

fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(AXE_SCRIPT)
}

/// axe-core's source, or `None` once the check has said it was skipped
/// (unless `NATTER_REQUIRE_BROWSER` makes that a failure).
fn source() -> Option<String> {
    let path = script_path();
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(err) => {
            assert!(
                std::env::var_os("NATTER_REQUIRE_BROWSER").is_none(),
                "NATTER_REQUIRE_BROWSER is set but axe-core is missing at {} ({err}): \
                 run `cargo xtask setup`",
                path.display()
            );
            eprintln!(
                "SKIPPED accessibility check: no axe-core at {}; `cargo xtask setup` installs it",
                path.display()
            );
            None
        }
    }
}

/// Runs axe-core in `page` and fails on any serious or critical violation;
/// `what` names the page's state in the message.
pub async fn check_accessibility(page: &Client, what: &str) {
    let violations = violations(page).await;
    let Some(violations) = violations else { return };
    let mut failing = Vec::new();
    for violation in &violations {
        let impact = violation["impact"].as_str().unwrap_or("unknown");
        let report = describe(violation);
        if FAILING.contains(&impact) {
            failing.push(report);
        } else {
            eprintln!("accessibility ({what}), not failing: {report}");
        }
    }
    assert!(
        failing.is_empty(),
        "{} serious or critical accessibility violations ({what}):\n{}",
        failing.len(),
        failing.join("\n")
    );
}

/// axe's violations in `page` as it stands, or `None` if axe is missing.
async fn violations(page: &Client) -> Option<Vec<Value>> {
    let source = source()?;
    // The script is the body of WebDriver's function, which the page's
    // Content-Security-Policy does not stop (an `eval` in the page would
    // be): it defines `window.axe`.
    let loaded = page
        .execute(
            &format!("if (!window.axe) {{\n{source}\n}}\nreturn typeof window.axe.run;"),
            vec![],
        )
        .await
        .expect("axe-core's script runs");
    assert_eq!(loaded, Value::from("function"), "axe-core did not load");
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
            .then(result => done(JSON.stringify(result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({
                    target: n.target, html: n.html, summary: n.failureSummary,
                })),
            })))))
            .catch(err => done('axe failed: ' + err));";
    let answer = page
        .execute_async(run, vec![])
        .await
        .expect("axe.run answers");
    let text = answer.as_str().expect("axe's result as JSON text");
    let parsed: Value =
        serde_json::from_str(text).unwrap_or_else(|_| panic!("axe did not run: {text}"));
    Some(parsed.as_array().cloned().unwrap_or_default())
}

/// One violation: its rule, impact, help and each node with why it fails.
fn describe(violation: &Value) -> String {
    let mut out = format!(
        "- {} ({}): {} <{}>",
        violation["id"].as_str().unwrap_or("?"),
        violation["impact"].as_str().unwrap_or("?"),
        violation["help"].as_str().unwrap_or(""),
        violation["helpUrl"].as_str().unwrap_or(""),
    );
    for node in violation["nodes"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n    at {}: {}\n      {}",
            node["target"],
            node["html"].as_str().unwrap_or(""),
            node["summary"]
                .as_str()
                .unwrap_or("")
                .replace('\n', "\n      "),
        ));
    }
    out
}
