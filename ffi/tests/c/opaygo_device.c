/*
 * A PAYG device written the way OpenPAYGO-HW's example firmware is: a keypad loop that
 * assembles a token between '*' and '#', GetDataFromToken from opaygo_decoder.h, a waiting
 * period after wrong tokens, and the activation variables (MaxCount, UsedCounts) loaded from
 * and stored to non-volatile memory. It includes paylock's compatibility header and links
 * libpaylock_ffi.a instead of OpenPAYGO-HW's sources; nothing in the device logic knows.
 * Build it with -DRESTRICTED_DIGIT_SET_MODE for 15-digit tokens of digits 1-4, as with
 * OpenPAYGO-HW.
 *
 * The simulated hardware (bottom of the file) reads commands from stdin:
 *   keys <chars>         key presses, e.g. keys *662486790#
 *   wait <seconds>       time passes
 *   reboot               power cycle: RAM lost, activation variables reloaded from NVRAM
 *   nvram <max> <used>   a flash programmer writes the activation variables (then reboot)
 * and the device prints one line per token: `token <Value> <Count> <MaxCount> <UsedCounts>`,
 * or `blocked <seconds left>` while the waiting period refuses input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opaygo_decoder.h"

/* ---- device parameters (the factory writes these) ---- */
static unsigned char SECRET_KEY[16];
static uint32_t StartingCode;

/* ---- hardware interface, implemented by the simulator below ---- */
static char GetKeyPressed(void);
static uint32_t GetTimeInSeconds(void);
static void LoadActivationVariables(uint16_t *MaxCount, uint16_t *UsedCounts);
static void StoreActivationVariables(uint16_t MaxCount, uint16_t UsedCounts);

/* ---- device logic ---- */
#define TIME_DIVIDER 1 /* one unit of activation value is one day */
#define SECONDS_PER_UNIT 86400u
#define BLOCK_SECONDS_PER_WRONG_TOKEN 60u

static uint16_t MaxCount;
static uint16_t UsedCounts;
static uint32_t ActiveUntil;
static bool PaygDisabled;
static uint8_t InvalidTokenCount;
static uint32_t TokenEntryBlockedUntil;

static void UpdateDeviceStatusFromTokenValue(int Value, int Count) {
    uint32_t now = GetTimeInSeconds();
    if (Value == PAYG_DISABLE_VALUE) {
        PaygDisabled = true;
    } else if (Value == COUNTER_SYNC_VALUE) {
        /* only the count moves */
    } else if (Value <= MAX_ACTIVATION_VALUE) {
        uint32_t seconds = (uint32_t)Value * SECONDS_PER_UNIT / TIME_DIVIDER;
        if (Count % 2) { /* SET_TIME */
            PaygDisabled = false;
            ActiveUntil = now + seconds;
        } else { /* ADD_TIME */
            ActiveUntil = (ActiveUntil > now ? ActiveUntil : now) + seconds;
        }
    }
}

static bool TokenEntryAllowed(void) {
    return GetTimeInSeconds() >= TokenEntryBlockedUntil;
}

static void ProcessToken(uint64_t InputToken) {
    TokenData Output = GetDataFromToken(InputToken, &MaxCount, &UsedCounts, StartingCode, SECRET_KEY);
    if (Output.Value == -1) {
        InvalidTokenCount++;
        TokenEntryBlockedUntil = GetTimeInSeconds() + BLOCK_SECONDS_PER_WRONG_TOKEN * InvalidTokenCount;
    } else if (Output.Value == -2) {
        /* already used: not a wrong token, no waiting period */
    } else {
        InvalidTokenCount = 0;
        StoreActivationVariables(MaxCount, UsedCounts);
        UpdateDeviceStatusFromTokenValue(Output.Value, Output.Count);
    }
    printf("token %d %u %u %u\n", Output.Value, (unsigned)Output.Count, (unsigned)MaxCount, (unsigned)UsedCounts);
}

static void Boot(void) {
    LoadActivationVariables(&MaxCount, &UsedCounts);
    InvalidTokenCount = 0;
    TokenEntryBlockedUntil = 0;
}

/* The keypad loop: '*' starts a token, '#' ends it. Returns at the end of input. */
static void KeypadLoop(void) {
    uint64_t InputToken = 0;
    bool Entering = false;
    for (;;) {
        char Key = GetKeyPressed();
        if (Key == 0) return;
        if (Key == '*') {
            InputToken = 0;
            Entering = true;
        } else if (Key == '#' && Entering) {
            Entering = false;
            if (TokenEntryAllowed()) {
                ProcessToken(InputToken);
            } else {
                printf("blocked %u\n", (unsigned)(TokenEntryBlockedUntil - GetTimeInSeconds()));
            }
        } else if (Key >= '0' && Key <= '9' && Entering) {
            InputToken = InputToken * 10 + (uint64_t)(Key - '0');
        }
    }
}

/* ---- simulated hardware ---- */
static uint32_t Clock;
static const char *Pending = "";
static char Line[256];
static const char *NvramPath;

static char GetKeyPressed(void) {
    for (;;) {
        if (*Pending) return *Pending++;
        if (!fgets(Line, sizeof Line, stdin)) return 0;
        unsigned a, b;
        if (strncmp(Line, "keys ", 5) == 0) {
            Line[strcspn(Line, "\n")] = 0;
            Pending = Line + 5;
        } else if (sscanf(Line, "wait %u", &a) == 1) {
            Clock += a;
        } else if (strncmp(Line, "reboot", 6) == 0) {
            Boot();
        } else if (sscanf(Line, "nvram %u %u", &a, &b) == 2) {
            StoreActivationVariables((uint16_t)a, (uint16_t)b);
        }
    }
}

static uint32_t GetTimeInSeconds(void) { return Clock; }

static void LoadActivationVariables(uint16_t *Max, uint16_t *Used) {
    FILE *f = fopen(NvramPath, "rb");
    uint16_t v[2] = {0, 0};
    if (f) {
        if (fread(v, sizeof v, 1, f) != 1) v[0] = v[1] = 0;
        fclose(f);
    }
    *Max = v[0];
    *Used = v[1];
}

static void StoreActivationVariables(uint16_t Max, uint16_t Used) {
    FILE *f = fopen(NvramPath, "wb");
    uint16_t v[2] = {Max, Used};
    if (!f || fwrite(v, sizeof v, 1, f) != 1) {
        perror("nvram");
        exit(2);
    }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s KEY_HEX STARTING_CODE NVRAM_FILE\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < 16; i++) {
        unsigned byte;
        if (sscanf(argv[1] + 2 * i, "%2x", &byte) != 1) return 2;
        SECRET_KEY[i] = (unsigned char)byte;
    }
    StartingCode = (uint32_t)strtoul(argv[2], NULL, 10);
    NvramPath = argv[3];
    Boot();
    KeypadLoop();
    return 0;
}
