//! Rebuilds the server when the client bundle in `dist/` changes, so a
//! release binary always embeds the bundle it was built after.

fn main() {
    println!("cargo::rerun-if-changed=../dist");
}
