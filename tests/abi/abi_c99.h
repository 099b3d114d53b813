// Checks written in C99 (c99_null_safety.c), called from the Catch2 tests.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// Returns the number of failed checks (details on stderr).
int abi_c99_null_safety(void);

#ifdef __cplusplus
}
#endif
