/*
 * A stand-in for ProcessPrng, which Rust's standard library (1.78 and later) imports from
 * bcryptprimitives.dll and which Wine 8.0 (Debian 12) does not have: without it, every Rust
 * program for Windows fails to load under that Wine (exit code 53, and nothing printed when
 * WINEDEBUG=-all). scripts/wine-test.sh builds this file into bcryptprimitives.dll next to the
 * programs it runs; it fills the buffer from RtlGenRandom (advapi32's SystemFunction036), as
 * Rust's standard library did before 1.78. Never shipped: real Windows has ProcessPrng.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
