//! The examples in `docs/PROTOCOL.md`. Each is a fenced block opened with
//! ```` ```json client ```` or ```` ```json server ````; the protocol's own
//! tests, the web client's codec tests and the fuzzer's seed corpus all
//! read them through [`doc_examples`], so the document is their one source.

/// Every fenced `json` block of `doc`, in order, as its tag (the word after
/// `json`, normally `client` or `server`) and its text.
pub fn doc_examples(doc: &str) -> Vec<(&str, String)> {
    let mut examples = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(tag) = line.trim().strip_prefix("```json") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        examples.push((tag.trim(), body.join("\n")));
    }
    examples
}

#[cfg(test)]
mod tests {
    use super::doc_examples;

    #[test]
    fn blocks_are_found_with_their_tags_and_other_fences_are_skipped() {
        let doc = "intro\n```json client\n{\"type\":\"ping\"}\n```\n```text\nnot json\n```\n\
                   ```json server\n{\n  \"type\": \"pong\"\n}\n```\n";
        assert_eq!(
            doc_examples(doc),
            [
                ("client", "{\"type\":\"ping\"}".to_owned()),
                ("server", "{\n  \"type\": \"pong\"\n}".to_owned()),
            ]
        );
    }
}
