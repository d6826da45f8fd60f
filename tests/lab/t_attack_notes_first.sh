#!/bin/bash
# Ransom notes in every folder first, then encryption in place without renames: caught within 10 files.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

attack_test notes_first 10
