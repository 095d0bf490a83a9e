/* What the C tests share: one assertion that counts a failure, says where and goes on (a replay
 * reports every failing case, not only the first), and a key read from the vectors' hex. */
#ifndef PAYLOCK_TEST_SUPPORT_H
#define PAYLOCK_TEST_SUPPORT_H

#include <stdint.h>
#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                          \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

static inline void hex_key(const char *hex, uint8_t key[16]) {
    for (int i = 0; i < 16; i++) {
        unsigned byte;
        sscanf(hex + 2 * i, "%2x", &byte);
        key[i] = (uint8_t)byte;
    }
}

#endif
