#!/bin/bash
# Intermittent encryption (every other 16 bytes, in place, no rename, no note) is caught within 10 files.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

attack_test intermittent 10
