#!/bin/bash
# A slow attack (one file every 4 s, in place, renamed to a random extension, no note) is caught within 5 files.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

attack_test slow 5 25
