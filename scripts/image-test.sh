#!/usr/bin/env bash
# Build the final stage of the Dockerfile from a locally built static binary, and run it.
#   image-test.sh [MUSL_BINARY]
# No base image can be pulled here, so the builder stage is replaced by the same rootfs script
# run on this machine; the final stage's instructions are taken from the Dockerfile as they are.
# Checks: the image is at most 10 MB, runs as a non-root user, `recover --version` works, and a
# flaky command recovers on its second attempt inside the image. Where buildah or podman cannot
# run, the reason is printed and that part is skipped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target=x86_64-unknown-linux-musl
image=localhost/recover:image-test
max_bytes=$((10 * 1024 * 1024))

say() {
  printf 'image test: %s\n' "$1"
}

fail() {
  printf '::error title=image test::%s\n' "$1"
  exit 1
}

skip() {
  say "SKIPPED: $1"
  exit 0
}

binary="${1:-}"
if [[ -z "${binary}" ]]; then
  target_dir="${CARGO_TARGET_DIR:-${root}/target}"
  cargo build --release --locked --target "${target}" --bin recover --manifest-path "${root}/Cargo.toml"
  binary="${target_dir}/${target}/release/recover"
fi
if ! file "${binary}" | grep -Eq 'statically linked|static-pie linked'; then
  fail "${binary} is not a static binary"
fi

if ! command -v buildah >/dev/null 2>&1; then
  skip "buildah is not installed (apt-get install buildah podman)"
fi

work="$(mktemp -d)"
# shellcheck disable=SC2317 # Invoked by the EXIT trap.
cleanup() {
  buildah --storage-driver vfs rmi "${image}" >/dev/null 2>&1 || true
  rm -rf "${work}"
}
trap cleanup EXIT

ca_certificates=/etc/ssl/certs/ca-certificates.crt
if [[ ! -f "${ca_certificates}" ]]; then
  fail "${ca_certificates} is missing (apt-get install ca-certificates)"
fi
bash "${root}/scripts/image-rootfs.sh" "${work}/out" "${binary}" "${ca_certificates}"

# The final stage, with the builder's output taken from the build context instead.
sed -n '/^FROM scratch/,$p' "${root}/Dockerfile" |
  sed 's|^COPY --from=builder /out/ /$|COPY out/ /|' >"${work}/Containerfile"
if ! grep -qx 'COPY out/ /' "${work}/Containerfile" || grep -q -- '--from=' "${work}/Containerfile"; then
  fail "the Dockerfile's final stage no longer has the shape this test expects"
fi

say "building the final stage with buildah"
if ! buildah --storage-driver vfs build --quiet --isolation chroot --pull=never \
  -f "${work}/Containerfile" -t "${image}" "${work}" >"${work}/build.log" 2>&1; then
  cat "${work}/build.log"
  skip "buildah cannot build images here (log above)"
fi

size="$(podman --storage-driver vfs image inspect --format '{{.Size}}' "${image}")"
say "image size ${size} bytes"
if ((size > max_bytes)); then
  fail "the image is ${size} bytes, more than 10 MB"
fi
user="$(podman --storage-driver vfs image inspect --format '{{.Config.User}}' "${image}")"
if [[ -z "${user}" || "${user}" == 0* || "${user}" == root* ]]; then
  fail "the image runs as \"${user}\", not as a non-root user"
fi

# Limits at most the host's hard limits: without CAP_SYS_RESOURCE (as in a container), runc
# cannot raise them to podman's defaults and refuses to start.
limit() {
  local host="$1"
  if [[ "${host}" == unlimited ]] || ((host > 4096)); then
    host=4096
  fi
  printf '%s:%s\n' "${host}" "${host}"
}

podman_run() {
  podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs run --rm \
    --network none --pull never \
    --ulimit "nofile=$(limit "$(ulimit -Hn)")" --ulimit "nproc=$(limit "$(ulimit -Hu)")" "$@"
}

if ! podman_run "${image}" --version >"${work}/version.log" 2>&1; then
  cat "${work}/version.log"
  if grep -Eqi 'permission denied|operation not permitted|cgroup|namespace|mount' "${work}/version.log"; then
    skip "podman cannot run containers here (log above)"
  fi
  fail "recover --version failed in the image"
fi
version="$(cat "${work}/version.log")"
if [[ ! "${version}" =~ ^recover\ [0-9]+\.[0-9]+\.[0-9]+ ]]; then
  fail "recover --version printed \"${version}\""
fi
say "${version} runs in the image as user ${user}"

# A flaky command in the image: fails on its first attempt, passes on the second. The image has
# no shell, so a static busybox from this machine is mounted as /bin/sh for the command only.
busybox="$(command -v busybox || true)"
if [[ -z "${busybox}" ]] || ! file "$(readlink -f "${busybox}")" | grep -q 'statically linked'; then
  skip "no static busybox to run a shell command in the image (apt-get install busybox-static)"
fi
mkdir -m 0777 "${work}/data"
# shellcheck disable=SC2016 # Expanded by the shell in the image.
script='c=0; if [ -f /data/count ]; then read -r c </data/count; fi; c=$((c + 1)); echo "${c}" >/data/count; echo "attempt ${c}"; [ "${c}" -ge 2 ]'
status=0
podman_run -v "$(readlink -f "${busybox}"):/bin/sh:ro" -v "${work}/data:/data" \
  -e GITHUB_OUTPUT=/data/output "${image}" \
  run --shell sh --max-attempts 3 --retry-wait-seconds 0 --command "${script}" \
  >"${work}/retry.log" 2>&1 || status=$?
cat "${work}/retry.log"
if ((status != 0)); then
  fail "the flaky command did not recover in the image (exit ${status})"
fi
count="$(cat "${work}/data/count")"
if [[ "${count}" != 2 ]]; then
  fail "the flaky command ran ${count} times, expected 2"
fi
# GITHUB_OUTPUT holds name=value lines or name<<DELIMITER blocks.
attempts="$(awk -F= '
  /^total_attempts=/ { print $2; exit }
  /^total_attempts<</ { getline; print; exit }
' "${work}/data/output")"
if [[ "${attempts}" != 2 ]]; then
  fail "total_attempts is \"${attempts}\" in GITHUB_OUTPUT, expected 2"
fi
say "a flaky command recovered on its second attempt in the image"
