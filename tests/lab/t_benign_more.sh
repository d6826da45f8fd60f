#!/bin/bash
# More ordinary work never raises an incident, in longer runs: password-protected documents and archives, .gpg
# and .age files, KeePass saves and encrypted disk images; browser downloads of compressed media and an Outlook
# mailbox; a photo editor saving in place; a sync tool's temporary names, copies and deletions; Office autosave;
# a git clone with its packs; databases and a VM disk written in their middle; thousands of files unzipped, then
# deleted; documents converted to PDF and renamed in bulk (BENIGN_SUITE_MORE of lib.sh).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

benign_test BENIGN_SUITE_MORE
