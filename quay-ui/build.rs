//! Re-embeds the web UI when its build changes: `rust-embed` reads `web/dist` when this crate
//! compiles, and Cargo only recompiles it when told the folder changed.

fn main() {
    let dist = std::path::Path::new("../web/dist");
    // A missing folder would make Cargo rerun this on every build (and relink the server);
    // watching its parent instead notices the first UI build without that cost.
    let watched = if dist.exists() {
        "../web/dist"
    } else {
        "../web"
    };
    println!("cargo::rerun-if-changed={watched}");
}
