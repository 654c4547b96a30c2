#!/usr/bin/env bash
# The Windows phase of CI: build recover and its tests for x86_64-pc-windows-gnu with mingw and
# run them under Wine: the unit tests, the Windows integration tests (tests/integration/windows/)
# and the cancellation of recover.exe from outside (scripts/wine-cancel-test.sh).
#   bash scripts/wine-test.sh [extra cargo test arguments, e.g. -- windows::]
# Needs the Debian packages wine, wine64 and gcc-mingw-w64-x86-64 and the rustup target
# x86_64-pc-windows-gnu (scripts/test.sh installs them). docs/windows.md says what this covers
# and what differs from the msvc build that is released.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
target=x86_64-pc-windows-gnu
target_dir="${CARGO_TARGET_DIR:-${root}/target}"
wine_dir="${target_dir}/wine"
mkdir -p "${wine_dir}/bin"

# A Wine prefix of the phase's own, so no setting of the machine's ~/.wine counts; no Wine
# debug output, which would mix into the output the tests compare.
export WINEPREFIX="${wine_dir}/prefix"
export WINEDEBUG=-all
export WINEARCH=win64
# No "install Mono/Gecko?" dialogs: nothing here needs them.
export WINEDLLOVERRIDES="mscoree,mshtml="

# The ProcessPrng stand-in (scripts/wine-prng.c): without it, Debian's Wine 8.0 cannot load any
# Rust program (exit code 53, silently). scripts/wine-run.sh puts it next to each program.
dll="${wine_dir}/bcryptprimitives.dll"
if [[ ! -f "${dll}" || "${root}/scripts/wine-prng.c" -nt "${dll}" ]]; then
  x86_64-w64-mingw32-gcc -shared -O2 -s -o "${dll}" "${root}/scripts/wine-prng.c" -ladvapi32
fi
export RECOVER_WINE_PRNG_DLL="${dll}"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="${root}/scripts/wine-run.sh"

# Stand-ins for pwsh and sh, found on PATH as the plan's check for the shell expects. They only
# fail, loudly: Wine has neither shell, and its own powershell.exe is a stub that runs nothing
# and exits 0, so no test may rely on a PowerShell run here.
for shell in pwsh sh; do
  printf '@echo stand-in %s: there is no %s under Wine 1>&2\r\n@exit 127\r\n' "${shell}" "${shell}" \
    >"${wine_dir}/bin/${shell}.cmd"
done

if [[ ! -d "${WINEPREFIX}/drive_c" ]]; then
  wineboot --init >/dev/null 2>&1
fi
# wineboot returns while the new prefix is still being set up in the background; tests that
# start before it is done can find a process that fails to start. Wait for it to finish.
wineserver -w
export WINEPATH
WINEPATH="$(winepath -w "${wine_dir}/bin")"
# The wine server of this prefix goes when the phase ends, however it ends.
trap 'wineserver -k 2>/dev/null || true' EXIT

cargo test --locked --target "${target}" --lib --bins --tests "$@"
# The test build's recover.exe (CARGO_BIN_EXE_recover), cancelled from outside Wine.
bash "${root}/scripts/wine-cancel-test.sh" "${target_dir}/${target}/debug/recover.exe"
