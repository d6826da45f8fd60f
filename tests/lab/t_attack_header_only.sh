#!/bin/bash
# Header-only encryption (the first 4 KiB, then a random extension per file, no note) is caught within 10 files.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

attack_test header_only 10
