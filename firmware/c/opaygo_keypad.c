/*
 * A Cortex-M4 OpenPAYGO keypad device in C, written against OpenPAYGO-HW's interface
 * (opaygo_decoder.h) and linked with paylock's staticlib (libpaylock_ffi.a, built by
 * `cargo build -p paylock-ffi --profile firmware --target thumbv7em-none-eabihf`).
 * firmware/size.sh builds it with arm-none-eabi-gcc and measures the decoder's flash: the
 * same device built with -DPAYLOCK_BASELINE replaces the decoder with a stand-in that only
 * touches its arguments, and the difference is what the decoder costs.
 *
 * The peripherals are memory-mapped stand-ins (a keypad data register, an RTC seconds counter,
 * an output enable, a word of flash for the activation variables and its controller).
 */
#include <stdbool.h>
#include <stdint.h>

#include "opaygo_decoder.h"

#define KEYPAD_DATA (*(volatile uint32_t *)0x40010000u)   /* last key pressed, 0 if none */
#define RTC_SECONDS (*(volatile uint32_t *)0x40002800u)   /* seconds since power-on */
#define OUTPUT_ENABLE (*(volatile uint32_t *)0x40010C0Cu) /* the load switch */
#define NVM_WORD (*(volatile uint32_t *)0x0800FC00u)      /* MaxCount | UsedCounts << 16 */
#define NVM_PROGRAM (*(volatile uint32_t *)0x40022014u)   /* flash controller: program that word */

#define SECONDS_PER_DAY 86400u
#define WAIT_PER_WRONG_TOKEN 60u

static unsigned char SECRET_KEY[16] = {0xa2, 0x9a, 0xb8, 0x2e, 0xdc, 0x5f, 0xbb, 0xc4,
                                       0x1e, 0xc9, 0x53, 0x0f, 0x6d, 0xac, 0x86, 0xb1};
static const uint32_t STARTING_CODE = 123456789u;

static uint16_t MaxCount, UsedCounts;
static uint32_t ActiveUntil, BlockedUntil;
static uint8_t WrongTokens;
static bool PaygDisabled;

#ifdef PAYLOCK_BASELINE
/* The measuring stand-in: uses every argument, decodes nothing. */
TokenData GetDataFromToken(uint64_t InputToken, uint16_t *Max, uint16_t *Used, uint32_t StartingCode,
                           unsigned char Key[16]) {
    TokenData t = {(int)(InputToken % 997u) - 2, *Max};
    *Used ^= (uint16_t)(StartingCode ^ Key[(unsigned)InputToken & 15u]);
    return t;
}
#endif

static void LoadActivationVariables(void) {
    uint32_t word = NVM_WORD;
    MaxCount = (uint16_t)word;
    UsedCounts = (uint16_t)(word >> 16);
}

static void StoreActivationVariables(void) {
    NVM_PROGRAM = (uint32_t)MaxCount | (uint32_t)UsedCounts << 16;
}

static void ApplyToken(TokenData t, uint32_t now) {
    if (t.Value == PAYG_DISABLE_VALUE) {
        PaygDisabled = true;
    } else if (t.Value != COUNTER_SYNC_VALUE && t.Value <= MAX_ACTIVATION_VALUE) {
        uint32_t seconds = (uint32_t)t.Value * SECONDS_PER_DAY;
        if (t.Count % 2) {
            PaygDisabled = false;
            ActiveUntil = now + seconds;
        } else {
            ActiveUntil = (ActiveUntil > now ? ActiveUntil : now) + seconds;
        }
    }
}

static void EnterToken(uint64_t token, uint32_t now) {
    if (now < BlockedUntil) return; /* the waiting period after wrong tokens */
    TokenData t = GetDataFromToken(token, &MaxCount, &UsedCounts, STARTING_CODE, SECRET_KEY);
    if (t.Value == -1) {
        WrongTokens++;
        BlockedUntil = now + WAIT_PER_WRONG_TOKEN * WrongTokens;
    } else if (t.Value >= 0) {
        WrongTokens = 0;
        StoreActivationVariables();
        ApplyToken(t, now);
    }
}

int main(void) {
    uint64_t token = 0;
    bool entering = false;
    LoadActivationVariables();
    for (;;) {
        uint32_t now = RTC_SECONDS;
        uint32_t key = KEYPAD_DATA;
        if (key == '*') {
            token = 0;
            entering = true;
        } else if (key == '#' && entering) {
            entering = false;
            EnterToken(token, now);
        } else if (key >= '0' && key <= '9' && entering) {
            token = token * 10u + (key - '0');
        }
        OUTPUT_ENABLE = PaygDisabled || now < ActiveUntil;
    }
}
