#!/usr/bin/env bash
# Install the recover binary for the action's run step, and print its path to $GITHUB_OUTPUT.
#
# Modes (input `install`, env INPUT_INSTALL):
#   auto      the release asset when a release fits the action: its ref is a release tag
#             (vX.Y.Z, or a moving tag listed in dist/versions.txt), or its source is the source
#             of a release (dist/sources.txt, for refs pinned by commit SHA); otherwise, or when
#             the asset cannot be fetched, a build from the action's source with cargo
#   download  the release asset only
#   build     always build from the action's source
#
# A downloaded archive is checked against the sha256 committed in dist/checksums/<tag>.sha256
# before it is unpacked; a mismatch is an error and nothing from the archive is ever run.
# Binaries live in $RUNNER_TOOL_CACHE/recover/<version>/<arch>/ next to a <arch>.complete marker
# (the layout of actions/tool-cache) that holds the binary's sha256; a release's archive stays
# beside its binary. Every use checks the binary against the marker and, for a release, the
# archive against the pinned sha256 and the binary against the archive (about 20 ms). Parallel jobs on one runner share that cache: installs
# take a lock, and a binary is moved into place whole before its marker is written.
#
# `install.sh --source-hash` prints the content hash of the source in the repository holding this
# script; the release workflow records it in dist/sources.txt.
set -euo pipefail

if [[ "${1:-}" == --source-hash ]]; then
  GITHUB_ACTION_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  INPUT_INSTALL=build
fi
action_path="${GITHUB_ACTION_PATH:?}"
mode="${INPUT_INSTALL:-auto}"
# Trim white space as the binary does with every input.
mode="${mode#"${mode%%[![:space:]]*}"}"
mode="${mode%"${mode##*[![:space:]]}"}"
mode="${mode:-auto}"
ref="${RECOVER_ACTION_REF:-${GITHUB_ACTION_REF:-}}"
repository="${RECOVER_ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
server_url="${GITHUB_SERVER_URL:-https://github.com}"
tool_cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tool-cache}"
# How long to wait for another job's install (a build can take minutes), in seconds.
lock_timeout="${RECOVER_INSTALL_LOCK_TIMEOUT:-1800}"

# Workflow command data must not carry raw newlines or percent signs. (Patterns and
# replacements come from variables: quoting inside ${x//p/r} differs in macOS's bash 3.2.)
escape_data() {
  local pct='%' pct_encoded='%25' newline=$'\n' newline_encoded='%0A' text="$1"
  text="${text//${pct}/${pct_encoded}}"
  printf '%s' "${text//${newline}/${newline_encoded}}"
}

error() {
  printf '::error title=recover install::%s\n' "$(escape_data "$1")"
}

warning() {
  printf '::warning title=recover install::%s\n' "$(escape_data "$1")"
}

info() {
  printf 'recover install: %s\n' "$1"
}

case "${mode}" in
  auto | download | build) ;;
  *)
    error "input install: expected auto, download or build, got \"${mode}\""
    exit 2
    ;;
esac

# --- The platform -------------------------------------------------------------------------------

runner_os="${RUNNER_OS:-}"
if [[ -z "${runner_os}" ]]; then
  case "$(uname -s)" in
    Linux) runner_os=Linux ;;
    Darwin) runner_os=macOS ;;
    MINGW* | MSYS* | CYGWIN*) runner_os=Windows ;;
    *) runner_os="$(uname -s)" ;;
  esac
fi
runner_arch="${RUNNER_ARCH:-}"
if [[ -z "${runner_arch}" ]]; then
  case "$(uname -m)" in
    x86_64 | amd64) runner_arch=X64 ;;
    aarch64 | arm64) runner_arch=ARM64 ;;
    *) runner_arch="$(uname -m)" ;;
  esac
fi

# The release target for this runner; empty when no release asset is built for it.
target=''
case "${runner_os}/${runner_arch}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
esac
arch="$(printf '%s' "${runner_arch}" | tr '[:upper:]' '[:lower:]')"
exe=recover
if [[ "${runner_os}" == Windows ]]; then
  exe=recover.exe
  # The runner gives Windows paths (C:\hostedtoolcache\windows); Git Bash runs programs by
  # their POSIX form (/c/hostedtoolcache/windows), which the run step then execs.
  if command -v cygpath >/dev/null 2>&1; then
    action_path="$(cygpath -u "${action_path}")"
    tool_cache="$(cygpath -u "${tool_cache}")"
  fi
fi

# --- Helpers ------------------------------------------------------------------------------------

# Print the sha256 of the file $1 (or of stdin with no argument), lower-case hex only.
sha256_of() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then
    sum="$(sha256sum "$@")"
  elif command -v shasum >/dev/null 2>&1; then
    sum="$(shasum -a 256 "$@")"
  else
    sum="$(openssl dgst -sha256 -r "$@")"
  fi
  printf '%s\n' "${sum%% *}" | tr '[:upper:]' '[:lower:]'
}

host="$(uname -n)"
lock_dir=''
release_lock() {
  if [[ -n "${lock_dir}" ]]; then
    rm -rf "${lock_dir}"
    lock_dir=''
  fi
}

# Remove the stale lock $1. It is renamed first: of several waiters breaking it at once only one
# rename succeeds, so none of them removes a lock that another has just taken.
break_lock() {
  if mv "$1" "$1.stale.$$" 2>/dev/null; then
    rm -rf "$1.stale.$$"
  fi
}

# Whether process $1 is alive. `kill -0` also fails for a live process of another user (EPERM):
# that one holds its lock as much as our own, so only "no such process" counts as dead.
process_alive() {
  local out
  if out="$(LC_ALL=C kill -0 "$1" 2>&1)"; then
    return 0
  fi
  [[ "${out}" == *"not permitted"* ]]
}

# The age of the file or directory $1 in seconds, from its modification time (GNU stat, then
# BSD stat); empty when neither can tell.
age_of() {
  local mtime
  mtime="$(stat -c %Y "$1" 2>/dev/null || stat -f %m "$1" 2>/dev/null || true)"
  if [[ "${mtime}" =~ ^[0-9]+$ ]]; then
    printf '%s\n' "$(($(date +%s) - mtime))"
  fi
}

# Take the install lock of the cache entry $1: mkdir is atomic on every platform (flock is not on
# macOS). A lock whose owner has died is broken; so is one older than the lock timeout, its age
# counted from when it was taken (the lock directory's modification time), not from when this
# job began to wait.
take_lock() {
  local dir="$1.lock" waited=0 owner age
  mkdir -p "$(dirname "${dir}")"
  until mkdir "${dir}" 2>/dev/null; do
    owner="$(cat "${dir}/owner" 2>/dev/null || true)"
    # The owner is "<pid> <host>"; a process can only be checked on its own host (jobs in
    # containers share a tool cache but not process ids), elsewhere only the timeout applies.
    if [[ "${owner#* }" == "${host}" && "${owner%% *}" =~ ^[0-9]+$ ]] && ! process_alive "${owner%% *}"; then
      info "breaking the lock of a finished install (process ${owner%% *})"
      break_lock "${dir}"
      continue
    fi
    age="$(age_of "${dir}")"
    if ((${age:-${waited}} >= lock_timeout)); then
      warning "breaking the install lock ${dir}, held for more than ${lock_timeout}s"
      break_lock "${dir}"
      waited=0
      continue
    fi
    if ((waited % 30 == 0)); then
      info "waiting for another job to finish installing into ${1}"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  lock_dir="${dir}"
  printf '%s %s\n' "$$" "${host}" >"${dir}/owner"
}

scratch=''
# shellcheck disable=SC2317 # Invoked by the EXIT trap.
cleanup() {
  release_lock
  if [[ -n "${scratch}" ]]; then
    rm -rf "${scratch}"
  fi
}
trap cleanup EXIT

# Move the file $1 into the cache entry $2 (version dir) as the binary, then mark it complete.
# The binary is renamed into place from the same directory, so no reader ever sees half of it,
# and readers only trust an entry with its marker. The marker holds the binary's sha256, which
# every later use checks again (see cached).
publish() {
  local binary="$1" entry="$2"
  mkdir -p "${entry}/${arch}"
  chmod 755 "${binary}"
  mv -f "${binary}" "${entry}/${arch}/${exe}.partial.$$"
  mv -f "${entry}/${arch}/${exe}.partial.$$" "${entry}/${arch}/${exe}"
  sha256_of "${entry}/${arch}/${exe}" >"${entry}/${arch}.complete"
}

# Whether the cache entry $1 holds a complete binary that is still the one published: the marker
# is there and the binary's sha256 matches it. With an archive $2 and its pinned sha256 $3 (a
# release), the archive kept in the entry must also still have the pinned sha256 and hold that
# very binary: a marker alone proves nothing about a file anyone on the runner could replace.
cached() {
  local entry="$1" archive="${2:-}" pinned="${3:-}" binary="$1/${arch}/${exe}" recorded actual
  [[ -f "${entry}/${arch}.complete" && -x "${binary}" ]] || return 1
  recorded="$(cat "${entry}/${arch}.complete")"
  actual="$(sha256_of "${binary}")"
  [[ "${recorded}" == "${actual}" ]] || return 1
  if [[ -n "${archive}" ]]; then
    [[ -f "${archive}" && "$(sha256_of "${archive}")" == "${pinned}" ]] || return 1
    [[ "$(tar -xzOf "${archive}" "${exe}" | sha256_of)" == "${actual}" ]] || return 1
  fi
}

# Forget the cache entry $1 of this arch when it exists but fails the check of `cached`.
discard_if_damaged() {
  if [[ -e "$1/${arch}.complete" ]]; then
    warning "the cached recover in $1/${arch} does not match its checksum; installing it again"
    rm -f "$1/${arch}.complete"
  fi
}

# Print the binary's path to $GITHUB_OUTPUT (or stdout outside a runner) and finish.
finish() {
  local path="$1"
  info "using ${path}"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf 'path=%s\n' "${path}" >>"${GITHUB_OUTPUT}"
  else
    printf 'path=%s\n' "${path}"
  fi
  exit 0
}

# The content hash of the source that a build depends on.
source_hash() {
  local file
  (
    cd "${action_path}"
    {
      for file in Cargo.toml Cargo.lock build.rs; do
        if [[ -f "${file}" ]]; then
          printf '%s\n' "${file}"
        fi
      done
      find src -type f
    } | LC_ALL=C sort | while IFS= read -r file; do
      printf '%s  %s\n' "$(sha256_of "${file}")" "${file}"
    done
  ) | sha256_of
}

# --- Which release fits the action's ref --------------------------------------------------------

# The release with committed checksums that fits the action, if any:
# - a release tag (v1.2.3) as the ref;
# - a moving tag (v1, v1.2) that dist/versions.txt maps to a release;
# - else the release whose source is exactly this source (dist/sources.txt, "<hash> <tag>"
#   lines): a ref pinned by commit SHA to a released tree gets that release's binary.
# Empty otherwise (a branch or a SHA with changed source, `uses: ./`).
release_tag() {
  local tag='' name value hash
  if [[ "${ref}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    tag="${ref}"
  elif [[ "${ref}" =~ ^v[0-9]+(\.[0-9]+)?$ && -f "${action_path}/dist/versions.txt" ]]; then
    while read -r name value _; do
      if [[ "${name}" == "${ref}" ]]; then
        tag="${value}"
      fi
    done <"${action_path}/dist/versions.txt"
  fi
  if [[ ! -f "${action_path}/dist/checksums/${tag:-none}.sha256" && -f "${action_path}/dist/sources.txt" ]]; then
    tag=''
    hash="$(source_hash)"
    while read -r name value _; do
      if [[ "${name}" == "${hash}" ]]; then
        tag="${value}"
      fi
    done <"${action_path}/dist/sources.txt"
  fi
  if [[ -n "${tag}" && -f "${action_path}/dist/checksums/${tag}.sha256" ]]; then
    printf '%s\n' "${tag}"
  fi
}

# The sha256 pinned for asset $2 in dist/checksums/$1.sha256 (sha256sum format).
pinned_sha256() {
  local sum name
  while read -r sum name; do
    if [[ "${name#\*}" == "$2" ]]; then
      printf '%s\n' "${sum}" | tr '[:upper:]' '[:lower:]'
      return 0
    fi
  done <"${action_path}/dist/checksums/$1.sha256"
  return 1
}

# curl for release downloads: https and TLS 1.2 or later only, except a plain http URL on the
# loopback interface (the end-to-end tests serve assets from 127.0.0.1); HTTP errors fail; a
# bounded number of retries for transient errors.
fetch() {
  local url="$1" out="$2" proto='=https'
  case "${url}" in
    https://*) ;;
    http://127.0.0.1:* | http://127.0.0.1/* | http://localhost:* | http://localhost/* | http://\[::1\]*)
      proto='=http,https'
      ;;
    *)
      error "refusing to download ${url}: only https is allowed"
      return 1
      ;;
  esac
  curl --proto "${proto}" --proto-redir "${proto}" --tlsv1.2 \
    --fail --silent --show-error --location \
    --retry 3 --retry-delay 2 --connect-timeout 20 --max-time 300 \
    --output "${out}" "${url}"
}

# Install release $1 and finish. Returns only when mode is auto and the asset could not be
# fetched (a fork without release assets, a network failure), for the caller to build instead;
# a checksum mismatch is never a reason to fall back.
install_release() {
  local tag="$1" version="${1#v}" asset pinned actual entry kept
  entry="${tool_cache}/recover/${version}"
  asset="recover-${tag}-${target}.tar.gz"
  if ! pinned="$(pinned_sha256 "${tag}" "${asset}")"; then
    error "dist/checksums/${tag}.sha256 pins no checksum for ${asset}"
    exit 1
  fi
  kept="${entry}/${arch}/${asset}"
  if cached "${entry}" "${kept}" "${pinned}"; then
    info "recover ${tag} found in the tool cache (sha256 verified)"
    finish "${entry}/${arch}/${exe}"
  fi
  take_lock "${entry}/${arch}"
  if cached "${entry}" "${kept}" "${pinned}"; then
    info "recover ${tag} was installed by another job (sha256 verified)"
    finish "${entry}/${arch}/${exe}"
  fi
  discard_if_damaged "${entry}"
  mkdir -p "${tool_cache}/recover"
  scratch="$(mktemp -d "${tool_cache}/recover/.download.XXXXXX")"
  local url="${server_url%/}/${repository}/releases/download/${tag}/${asset}"
  info "downloading ${url}"
  if ! fetch "${url}" "${scratch}/${asset}"; then
    if [[ "${mode}" == download ]]; then
      error "could not download recover ${tag} from ${url}"
      exit 1
    fi
    warning "could not download recover ${tag} from ${url}; building it from the action's source instead"
    release_lock
    rm -rf "${scratch}"
    scratch=''
    return 0
  fi
  actual="$(sha256_of "${scratch}/${asset}")"
  if [[ "${actual}" != "${pinned}" ]]; then
    error "checksum mismatch for ${asset}: expected ${pinned} (dist/checksums/${tag}.sha256), got ${actual}; the download was deleted and nothing from it was run"
    rm -f "${scratch}/${asset}"
    exit 1
  fi
  info "sha256 ${actual} verified"
  mkdir "${scratch}/unpacked"
  tar -xzf "${scratch}/${asset}" -C "${scratch}/unpacked" "${exe}"
  # The archive stays beside the binary, so that every later use can check both again.
  mkdir -p "${entry}/${arch}"
  mv -f "${scratch}/${asset}" "${kept}"
  publish "${scratch}/unpacked/${exe}" "${entry}"
  finish "${entry}/${arch}/${exe}"
}

# --- Build from the action's source -------------------------------------------------------------

install_build() {
  local hash entry target_dir
  if ! command -v cargo >/dev/null 2>&1; then
    error "no release of recover fits the action's ref \"${ref}\" on ${runner_os} ${runner_arch}, and cargo is not installed to build it; use a release tag (such as v1), or install Rust before this step"
    exit 1
  fi
  hash="$(source_hash)"
  entry="${tool_cache}/recover/0.0.0-src.${hash:0:16}"
  if cached "${entry}"; then
    info "a build of this source (${hash:0:16}) found in the tool cache (sha256 verified)"
    finish "${entry}/${arch}/${exe}"
  fi
  take_lock "${entry}/${arch}"
  if cached "${entry}"; then
    info "this source (${hash:0:16}) was built by another job (sha256 verified)"
    finish "${entry}/${arch}/${exe}"
  fi
  discard_if_damaged "${entry}"
  # Reuse the job's cargo target directory when it has one; else a directory of the job's own.
  target_dir="${CARGO_TARGET_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/recover-build}"
  info "building recover from ${action_path} (source ${hash:0:16}, cargo target directory ${target_dir})"
  CARGO_TARGET_DIR="${target_dir}" cargo build --release --locked \
    --manifest-path "${action_path}/Cargo.toml" --bin recover
  mkdir -p "${tool_cache}/recover"
  scratch="$(mktemp -d "${tool_cache}/recover/.build.XXXXXX")"
  # With CARGO_BUILD_TARGET set (a job that builds for musl, say), cargo puts the binary under
  # the target's own directory.
  cp "${target_dir}/${CARGO_BUILD_TARGET:+${CARGO_BUILD_TARGET}/}release/${exe}" "${scratch}/${exe}"
  publish "${scratch}/${exe}" "${entry}"
  finish "${entry}/${arch}/${exe}"
}

if [[ "${1:-}" == --source-hash ]]; then
  source_hash
  exit 0
fi

# --- Choose ---------------------------------------------------------------------------------------

tag=''
if [[ "${mode}" != build ]]; then
  tag="$(release_tag)"
fi

if [[ "${mode}" == download ]]; then
  if [[ -z "${tag}" ]]; then
    error "input install: download needs a release tag as the action's ref (such as v1 or v1.2.3), got \"${ref}\""
    exit 1
  fi
  if [[ -z "${target}" ]]; then
    error "input install: no release asset is built for ${runner_os} ${runner_arch}; use install: build"
    exit 1
  fi
  if [[ -z "${repository}" ]]; then
    error "input install: download needs the action's repository (github.action_repository), which is empty"
    exit 1
  fi
  install_release "${tag}"
fi

if [[ "${mode}" == auto && -n "${tag}" && -n "${target}" && -n "${repository}" ]]; then
  install_release "${tag}"
fi

install_build
