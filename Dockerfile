# syntax=docker/dockerfile:1
# The KubeAIRunway image: one binary, `kubeairunway`, with the web UI embedded, plus the pinned
# `helm` that runtime installation runs, on a distroless base (glibc and libgcc only, no shell,
# no package manager), as the non-root user 65532. One image, two roles: the chart runs it as
# `kubeairunway serve` and as `kubeairunway controller`. Its root filesystem can be read-only
# (the server writes only to /tmp, which the chart mounts as an emptyDir).
#
#   web      npm ci and the production UI (web/dist), held to its size budget
#   build    the release binary with that UI embedded (no `dev` feature: no test harness)
#   helm     helm, built from the Go module proxy at the version the tests use
#   runtime  distroless cc + the two binaries (runtime-slim: without helm)
#
# Build: `make image` (buildah, podman or docker), or `docker build .`. Why `cc` and not
# `static`: the binary links glibc (libc, libm) and libgcc_s dynamically (see docs/install.md).

ARG NODE_IMAGE=docker.io/library/node:22-bookworm-slim
ARG RUST_IMAGE=docker.io/library/rust:1.95.0-bookworm
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
ARG HELM_VERSION=3.22.0

FROM ${NODE_IMAGE} AS web
# Browser tests are not run here; never download a browser.
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
WORKDIR /src
COPY package.json package-lock.json ./
COPY web/package.json web/
COPY packages/shared/package.json packages/shared/
RUN npm ci --no-audit --no-fund
COPY packages/shared packages/shared
COPY web web
RUN npm run build && npm run size

FROM ${RUST_IMAGE} AS build
# The toolchain of the image (the version rust-toolchain.toml pins), without installing the
# file's extra components (rustfmt, clippy), which a build does not need.
ENV RUSTUP_TOOLCHAIN=1.95.0 CARGO_TERM_COLOR=never
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist web/dist
# Reported by /api/health/version.
ARG KAIR_GIT_COMMIT=unknown
ARG KAIR_BUILD_TIME=
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,id=kubeairunway-target \
    cargo build --locked --release -p kubeairunway \
 && install -D -m 0755 target/release/kubeairunway /out/kubeairunway

FROM ${GO_IMAGE} AS helm
ARG HELM_VERSION
WORKDIR /src
RUN go mod init helm-build \
 && go get "helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}" \
 && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}" \
      -o /out/helm helm.sh/helm/v3/cmd/helm

# Without helm (`--target runtime-slim`): everything but installing runtimes from Settings,
# which then reports Helm as unavailable.
FROM ${RUNTIME_IMAGE} AS runtime-slim
COPY --from=build /out/kubeairunway /usr/local/bin/kubeairunway
USER 65532:65532
# 3001: `serve` (the chart sets HOST=0.0.0.0 with AUTH_ENABLED=true); 8081: the controller's
# /metrics, /healthz, /readyz.
EXPOSE 3001 8081
ENTRYPOINT ["/usr/local/bin/kubeairunway"]
CMD ["serve"]
LABEL org.opencontainers.image.title="kubeairunway" \
      org.opencontainers.image.description="KubeAIRunway: the API server with the web UI, and the controller" \
      org.opencontainers.image.licenses="Apache-2.0"

# The default image: the same plus helm, which runtime installation (Settings → Runtimes) runs.
FROM runtime-slim AS runtime
COPY --from=helm /out/helm /usr/local/bin/helm
