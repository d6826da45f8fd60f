#!/bin/bash
# Silent encryption (whole files in place, no rename, no note: nothing in a name) is caught within 10 files.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

attack_test silent 10
