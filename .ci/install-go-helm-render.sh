#!/usr/bin/env bash
# Go and Sprig (Debian packages) for test/helm/render.test.ts, which builds test/helm/render/main.go
# (Helm's template engine: text/template + Sprig + Helm's functions) in GOPATH mode against
# /usr/share/gocode and renders the chart with it. Never fatal: without `go` that test skips.
set -uo pipefail
pkgs="golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev"
if [ -f /usr/share/gocode/src/github.com/Masterminds/sprig/functions.go ] && [ -d /usr/share/gocode/src/gopkg.in/yaml.v2 ] && command -v go >/dev/null; then
  echo "go-helm-render: $(go version) and Sprig already installed"
  exit 0
fi
if ! command -v apt-get >/dev/null; then echo "go-helm-render: no apt-get; the Helm render test will skip"; exit 0; fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "go-helm-render: not root and no sudo; the Helm render test will skip"; exit 0
  fi
fi
for _ in 1 2 3; do
  # shellcheck disable=SC2086
  ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $pkgs) >/dev/null 2>&1 && break
  sleep 10 # another apt/dpkg may hold the lock
done
command -v go >/dev/null && echo "go-helm-render: $(go version)" || echo "go-helm-render: install failed; the Helm render test will skip"
exit 0
