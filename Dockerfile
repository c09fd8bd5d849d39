# The s3gw container image: built on Debian 12, run on a slim Debian 12 with
# only the runtime libraries, as a non-root user, data in the /data volume.
#
#   podman build -t s3gw .        (or docker build; podman wants
#                                  --format docker to keep the HEALTHCHECK)
#   podman run -d -p 9000:9000 -v s3gw-data:/data \
#       -e S3GW_ACCESS_KEY=admin -e S3GW_SECRET_KEY=... s3gw
#
# Settings come from S3GW_* variables (contrib/docker-entrypoint.sh, README
# "Container image"). BUILD_IMAGE and RUN_IMAGE name the bases, for a
# machine without a registry that has made a Debian 12 image of its own
# (test/integration/test_image.py does).

ARG BUILD_IMAGE=debian:12
ARG RUN_IMAGE=debian:12-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc libc6-dev make libuv1-dev liblmdb-dev libssl-dev libexpat1-dev \
        libjansson-dev node-llhttp \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make BUILD=build -j"$(nproc)" build/s3gw \
    && install -D -s -m 0755 build/s3gw /out/s3gw
# Marks the build stage's image, which stays behind untagged, so a script
# can remove the stale ones (test_image.py does).
LABEL s3gw.stage=build

FROM ${RUN_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libuv1 liblmdb0 libssl3 libexpat1 libjansson4 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && groupadd --system --gid 10001 s3gw \
    && useradd --system --uid 10001 --gid s3gw --home-dir /data \
        --no-create-home --shell /usr/sbin/nologin s3gw \
    && mkdir -p /data \
    && chown s3gw:s3gw /data
COPY --from=build /out/s3gw /usr/local/bin/s3gw
COPY contrib/docker-entrypoint.sh /usr/local/bin/s3gw-entrypoint
COPY contrib/docker-healthcheck.sh /usr/local/bin/s3gw-healthcheck
USER s3gw
WORKDIR /data
VOLUME /data
EXPOSE 9000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/s3gw-healthcheck"]
ENTRYPOINT ["/usr/local/bin/s3gw-entrypoint"]
