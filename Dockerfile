# syntax=docker/dockerfile:1
#
# The slicecast Lambda container image: ONE image holding the four functions'
# binaries (coordinator, segment-worker, assembler, api), ffmpeg and the web page.
# Each binary is its own Lambda runtime client, so no AWS base image is needed; the
# SAM template (deploy/template.yaml) picks the binary per function with
# ImageConfig.Command, e.g. ["/var/task/coordinator"].
#
# Build and push (x86_64; see deploy/README.md for the whole deployment):
#
#   docker build --platform linux/amd64 --provenance=false -t slicecast .
#   aws ecr create-repository --repository-name slicecast        # once
#   aws ecr get-login-password | docker login --username AWS --password-stdin \
#       <account>.dkr.ecr.<region>.amazonaws.com
#   docker tag slicecast <account>.dkr.ecr.<region>.amazonaws.com/slicecast:<tag>
#   docker push <account>.dkr.ecr.<region>.amazonaws.com/slicecast:<tag>
#
# (--provenance=false keeps the pushed image a plain single-platform manifest:
# with provenance attestations buildx pushes an image index, which Lambda may reject.)

FROM rust:1.95-bookworm AS build

# The web page with its player libraries (web/install.sh runs `npm ci`), in /web,
# without the test-only packages and files.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /web
COPY web/ ./
RUN bash install.sh \
    && npm prune --omit=dev --no-audit --no-fund \
    && rm -rf tests

# The four binaries. The cache mounts keep the crate registry and the build folder
# between builds, so the binaries are copied out in the same step.
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p slicecast-lambda \
    && mkdir -p /out \
    && cp target/release/coordinator target/release/segment-worker \
          target/release/assembler target/release/api /out/

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /var/task
COPY --from=build /out/ /var/task/
COPY --from=build /web/ /var/task/web/
ENV WEB_DIR=/var/task/web
# Lambda replaces this with the function's ImageConfig.Command.
CMD ["/var/task/api"]
