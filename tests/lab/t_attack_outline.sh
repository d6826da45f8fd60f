#!/bin/bash
# Copy-then-delete encryption (an encrypted .locked2 copy, then the original deleted; no note) is caught within
# 10 files.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

attack_test outline 10
