# The recover image: the static musl binary, CA certificates and a non-root user, on scratch.
#   docker build -t recover .
#   docker run --rm recover --version
# scripts/image-test.sh builds the final stage from a locally built binary and runs it.

FROM rust:1.89-alpine AS builder
# Package versions follow the pinned Alpine release of the base image; gcc and musl-dev build
# the C parts of the TLS library (ring).
# hadolint ignore=DL3018
RUN apk add --no-cache bash ca-certificates gcc musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY scripts/image-rootfs.sh ./scripts/
# On Alpine the host target is musl, and Rust links it statically by default.
RUN cargo build --release --locked --bin recover \
    && bash scripts/image-rootfs.sh /out target/release/recover /etc/ssl/certs/ca-certificates.crt

FROM scratch
COPY --from=builder /out/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/recover"]
CMD ["--help"]
