# binlog-cdc as one static binary in an image with nothing else in it.
#   docker build -t binlog-cdc .
#   docker run --rm -v $PWD/my.yaml:/etc/binlog-cdc/cdc.yaml binlog-cdc
# The build runs `make static` (see Makefile): musl, with librdkafka, OpenSSL,
# zstd, lz4 and zlib linked in.

FROM rust:1-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends musl-tools cmake g++ \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN make static

# distroless/static: no shell or libc, but CA certificates, /etc/passwd and a
# non-root user, for TLS to Kafka.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/binlog-cdc /usr/local/bin/binlog-cdc
COPY connectors/mysql-inventory.yaml /etc/binlog-cdc/cdc.yaml
ENTRYPOINT ["/usr/local/bin/binlog-cdc"]
CMD ["--config", "/etc/binlog-cdc/cdc.yaml"]
