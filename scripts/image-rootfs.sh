#!/usr/bin/env bash
# Lay out the root file system of the recover image in OUT: the static binary, the CA
# certificates and an /etc/passwd line for the non-root user the image runs as.
#   image-rootfs.sh OUT BINARY CA_CERTIFICATES
# The Dockerfile's builder stage and scripts/image-test.sh both use it, so the image they build
# holds the same files.
set -euo pipefail

out="${1:?usage: image-rootfs.sh OUT BINARY CA_CERTIFICATES}"
binary="${2:?usage: image-rootfs.sh OUT BINARY CA_CERTIFICATES}"
ca_certificates="${3:?usage: image-rootfs.sh OUT BINARY CA_CERTIFICATES}"
# The user and group of the image; 65532 is the "nonroot" id of distroless images.
uid=65532

mkdir -p "${out}/usr/local/bin" "${out}/etc/ssl/certs" "${out}/tmp"
install -m 0755 "${binary}" "${out}/usr/local/bin/recover"
install -m 0644 "${ca_certificates}" "${out}/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nrecover:x:%s:%s:recover:/tmp:/sbin/nologin\n' \
  "${uid}" "${uid}" >"${out}/etc/passwd"
printf 'root:x:0:\nrecover:x:%s:\n' "${uid}" >"${out}/etc/group"
# A world-writable, sticky /tmp: scratch has none, and attempts may need scratch space.
chmod 1777 "${out}/tmp"
