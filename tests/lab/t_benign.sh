#!/bin/bash
# Ordinary work never raises an incident: archives, media imports, photo renames, a build tree, Excel saves and
# a nightly backup, as bob from client2 and as alice from client1 at the same time.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

benign_test BENIGN_SUITE
