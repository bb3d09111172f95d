#!/usr/bin/env bash
# ocslog's two entry points (see README.md, Quick start):
#   ./ocslog.sh demo   install what is missing, build in release mode, scan the bundled corpus/
#   ./ocslog.sh test   install what is missing, build, lint and run every test
# Other verbs: deps (install only), build, install [PREFIX] (binary, man page, shell completions;
# PREFIX defaults to /usr/local), bench [--megabytes N] [--runs N] [--jobs] [--scaling]
# (ocslog against rg and grep: bench/scan.py; peak memory of many logs and one large log: bench/memory.py).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PACKAGES=(libpcre2-dev pkg-config)
TEST_PACKAGES=(nftables iptables iproute2 socat netcat-openbsd ripgrep chromium python3)

# Installs the Debian packages that are missing (apt-get as root, or through sudo).
install_packages() {
    local missing=()
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    echo "ocslog.sh: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

case "${1:-}" in
    deps)
        install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
        ;;
    build)
        install_packages "${BUILD_PACKAGES[@]}"
        swift build -c release --product ocslog
        ;;
    demo)
        install_packages "${BUILD_PACKAGES[@]}"
        swift build -c release --product ocslog
        echo "\$ ocslog scan corpus/logs/" >&2
        status=0
        .build/release/ocslog scan corpus/logs/ || status=$?
        # 1 means findings were reported, which is the point of the demo.
        [ "$status" -le 1 ] || exit "$status"
        ;;
    test)
        install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
        swift format lint --strict -r Sources Tests bench/Sources
        swift build --build-tests
        swift test
        # A 10 MB smoke run of the benchmark (the full one is `./ocslog.sh bench`, too slow for CI).
        python3 bench/scan.py --megabytes 10 --runs 1 --binary .build/debug/ocslog --smoke
        ;;
    install)
        install_packages "${BUILD_PACKAGES[@]}"
        prefix="${2:-/usr/local}"
        swift build -c release --product ocslog
        binary=.build/release/ocslog
        manual=.build/manual
        rm -rf "$manual" && mkdir -p "$manual"
        # The man page and completions come from the command definitions (swift-argument-parser).
        swift package plugin --allow-writing-to-package-directory generate-manual \
            --output-directory "$manual" >/dev/null
        install -D -m 755 "$binary" "$prefix/bin/ocslog"
        install -D -m 644 "$manual/ocslog.1" "$prefix/share/man/man1/ocslog.1"
        "$binary" --generate-completion-script bash >"$manual/ocslog.bash"
        "$binary" --generate-completion-script zsh >"$manual/_ocslog"
        "$binary" --generate-completion-script fish >"$manual/ocslog.fish"
        install -D -m 644 "$manual/ocslog.bash" "$prefix/share/bash-completion/completions/ocslog"
        install -D -m 644 "$manual/_ocslog" "$prefix/share/zsh/site-functions/_ocslog"
        install -D -m 644 "$manual/ocslog.fish" "$prefix/share/fish/vendor_completions.d/ocslog.fish"
        echo "ocslog.sh: installed ocslog, its man page and bash/zsh/fish completions under $prefix" >&2
        ;;
    bench)
        install_packages "${BUILD_PACKAGES[@]}" ripgrep
        shift
        python3 bench/scan.py "$@"
        python3 bench/memory.py
        ;;
    *)
        echo "usage: ./ocslog.sh demo|test|deps|build|install [PREFIX]|bench" >&2
        exit 2
        ;;
esac
