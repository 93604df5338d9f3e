#!/usr/bin/env bash
# Installs what opsdeck needs to build and test, and only what is missing:
# Debian's -dev packages for the C libraries, tmux and openssl (certificates)
# for end-to-end tests, and the Python helpers the test receivers use. Safe to
# run again and again.
set -euo pipefail

debian_packages=(libncurses-dev libncursesw5-dev libsqlite3-dev libcurl4-openssl-dev tmux openssl)
python_modules=(aiosmtpd)

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
for module in "${python_modules[@]}"; do
  if ! "$python" -c "import $module" 2>/dev/null; then
    echo "installing Python module: $module"
    "$python" -m pip install -q --disable-pip-version-check "$module"
  fi
done
