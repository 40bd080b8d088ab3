#!/usr/bin/env bash
# A software Vulkan adapter for the WebGPU trainer tests: Mesa's lavapipe (CPU Vulkan driver).
#
# Why backports: Debian 12 ships Mesa 22.3, whose lavapipe Dawn (npm `webgpu`) rejects; Mesa 25
# from bookworm-backports gives a working adapter (128 MiB storage-binding limit). Idempotent and
# quick when already installed. Never fatal: without an adapter the webgpu tests skip.
set -uo pipefail

# A Vulkan ICD for lavapipe plus the loader, at a Mesa version Dawn accepts (>= 23).
mesa_ok() {
  local v
  v=$(dpkg-query -W -f='${Status} ${Version}' mesa-vulkan-drivers 2>/dev/null) || return 1
  case "$v" in "install ok installed "*) ;; *) return 1 ;; esac
  dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed' || return 1
  local major=${v##* }; major=${major%%.*}; major=${major#*:}
  [ "$major" -ge 23 ] 2>/dev/null
}

if mesa_ok; then
  echo "vulkan: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "vulkan: no apt-get here; webgpu tests will skip"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "vulkan: not root and no sudo; webgpu tests will skip"; exit 0
  fi
fi

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ "$codename" != "bookworm" ]; then
  # Other releases: their own Mesa may be new enough (Debian 13 / Ubuntu 24.04 ship Mesa >= 24).
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 >/dev/null \
    || echo "vulkan: install failed; webgpu tests will skip"
  exit 0
fi

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' | $sudo tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
if $sudo apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null; then
  echo "vulkan: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
else
  echo "vulkan: install failed; webgpu tests will skip"
fi
exit 0
