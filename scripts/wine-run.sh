#!/usr/bin/env bash
# Cargo's runner for x86_64-pc-windows-gnu (CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER): runs a
# Windows program under Wine, with the ProcessPrng stand-in (scripts/wine-prng.c, built by
# scripts/wine-test.sh into RECOVER_WINE_PRNG_DLL) next to it and next to the programs of its
# parent directory: a test in deps/ starts recover.exe from the directory above.
#   wine-run.sh PROGRAM.exe [ARGS...]
set -euo pipefail

program="${1:?usage: wine-run.sh PROGRAM.exe [ARGS...]}"
shift
dll="${RECOVER_WINE_PRNG_DLL:?the ProcessPrng stand-in; scripts/wine-test.sh sets it}"

dir="$(cd "$(dirname "${program}")" && pwd)"
for place in "${dir}" "$(dirname "${dir}")"; do
  if ! cmp -s "${dll}" "${place}/bcryptprimitives.dll"; then
    cp "${dll}" "${place}/bcryptprimitives.dll"
  fi
done

exec wine "${program}" "$@"
