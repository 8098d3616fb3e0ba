#!/usr/bin/env bash
# Prints the path of a runnable Firestore emulator jar, building it when needed.
#
# firebase-tools cannot download its Firestore emulator here; the Google Cloud CLI package
# google-cloud-cli-firestore-emulator ships one, without a Main-Class. A two-line wrapper jar
# names the main class and puts the real jar on its class path.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.cache/firestore-emulator/cloud-firestore-emulator-wrapper.jar
if [[ -s "$out" ]]; then
  echo "$PWD/$out"
  exit 0
fi

sdk_root=""
if command -v gcloud >/dev/null 2>&1; then
  sdk_root=$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)
fi
real_jar="$sdk_root/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
if [[ -z "$sdk_root" || ! -s "$real_jar" ]]; then
  echo "firestore-emulator-jar: no Firestore emulator jar found (looked for $real_jar)." >&2
  echo "Install the Google Cloud CLI package google-cloud-cli-firestore-emulator." >&2
  exit 1
fi
if ! command -v jar >/dev/null 2>&1; then
  echo "firestore-emulator-jar: the 'jar' tool (a JDK) is needed to build the wrapper jar." >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'Main-Class: com.google.cloud.datastore.emulator.firestore.CloudFirestore\nClass-Path: file:%s\n' \
  "$real_jar" > "$work/manifest.txt"
mkdir -p "$(dirname "$out")"
jar --create --file "$work/wrapper.jar" --manifest "$work/manifest.txt"
mv "$work/wrapper.jar" "$out"
echo "$PWD/$out"
