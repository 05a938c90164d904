#!/usr/bin/env bash
# Build the compiled interop peers into tests/peers/.build/ (gitignored).
#   bash tests/peers/build.sh [go|rust|all]
# Go: standard library only, so no module download. Rust: crates from crates.io at the
# versions Cargo.lock pins (--locked). Both toolchains keep their own caches, so a second
# run with nothing changed takes well under a second.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/.build"
export PATH="/usr/local/go/bin:$HOME/.cargo/bin:$PATH"
mkdir -p "$out"

build_go() {
    (cd "$here/go" && go build -trimpath -o "$out/goserver" .)
}

build_rust() {
    cargo build --quiet --release --locked \
        --manifest-path "$here/rust/Cargo.toml" --target-dir "$out/rust-target"
    cp "$out/rust-target/release/rustls-server" "$out/rustls-server.tmp"
    mv "$out/rustls-server.tmp" "$out/rustls-server"
}

case "${1:-all}" in
    go) build_go ;;
    rust) build_rust ;;
    all) build_go && build_rust ;;
    *) echo "usage: $0 [go|rust|all]" >&2; exit 2 ;;
esac
