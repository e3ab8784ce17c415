#!/usr/bin/env bash
# Reproduces the dashboard's bundled ECharts (chalicelib/dashboard/static/vendor/): the dashboard
# works offline and from API Gateway without a CDN, so the minified build and its licence
# (Apache-2.0) are committed. Bump ECHARTS_VERSION and run this to upgrade.
set -euo pipefail

ECHARTS_VERSION="${ECHARTS_VERSION:-6.1.0}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$HERE/chalicelib/dashboard/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "echarts@${ECHARTS_VERSION}" >/dev/null
tar -xzf "echarts-${ECHARTS_VERSION}.tgz"
mkdir -p "$DEST"
cp package/dist/echarts.min.js "$DEST/echarts.min.js"
cp package/LICENSE "$DEST/echarts-LICENSE.txt"
if [[ -f package/NOTICE ]]; then cp package/NOTICE "$DEST/echarts-NOTICE.txt"; fi
echo "$ECHARTS_VERSION" >"$DEST/echarts-VERSION.txt"
sha256sum "$DEST/echarts.min.js"
