/*
 * OpenPAYGO-HW compatibility header for paylock.
 *
 * Firmware written against OpenPAYGO-HW's src/opaygo_decoder.h (and
 * src/extended/opaygo_decoder_extended.h) includes this header instead and links
 * libpaylock_ffi.a in place of OpenPAYGO-HW's .c files. The names, types and constants
 * are OpenPAYGO-HW's; the decoder behind them is paylock's, which differs on purpose:
 *
 *  - A counter sync (value 999) at or below MaxCount is -2 (already used) and changes
 *    nothing: OpenPAYGO-HW accepts it again and marks every older count used, losing a
 *    pending older token. A sync never lowers MaxCount (as in OpenPAYGO-HW).
 *  - A count-0 token (the starting code with the value folded in, which anyone who knows
 *    the starting code can compute) is never credit: -2, as in OpenPAYGO-HW (the Python
 *    reference credits it).
 *  - UsedCounts is shifted correctly when MaxCount moves up: OpenPAYGO-HW's shift loop
 *    drops the bits of older counts (so a spent older token can become valid again).
 *  - A token number with more digits than the form has, and a starting code above
 *    999,999,999, are -1 (OpenPAYGO-HW truncates them). A restricted-digit token with a
 *    digit outside 1-4 is -1.
 *  - No count above 65,535 is accepted (MaxCount is 16 bits); null pointers answer -1.
 *
 * As in OpenPAYGO-HW, Value is the activation value, -1 for an invalid token and -2 for
 * a spent one; Count is the token's count, or *MaxCount on -1 and -2. The extended
 * decoder keeps no used counts and returns -1 for both. Like OpenPAYGO-HW these entry
 * points walk the hash chain from the starting code on every call; paylock.h's
 * paylock_openpaygo_verify_* keep a chain point for bounded work per token.
 *
 * Define RESTRICTED_DIGIT_SET_MODE, as with OpenPAYGO-HW, for 15-digit tokens of digits
 * 1-4 passed as their decimal number.
 */
#ifndef opaygo_decoder_h
#define opaygo_decoder_h

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* opaygo_core.h */
#define MAX_ACTIVATION_VALUE 995
#define PAYG_DISABLE_VALUE 998
#define COUNTER_SYNC_VALUE 999

/* opaygo_decoder.h */
#define MAX_TOKEN_JUMP 64
#define MAX_TOKEN_JUMP_COUNTER_SYNC 100
#define MAX_UNUSED_OLDER_TOKENS 16

struct TokenDataStruct {
    int Value;
    uint16_t Count;
};
typedef struct TokenDataStruct TokenData;

#ifdef RESTRICTED_DIGIT_SET_MODE
#define GetDataFromToken paylock_hw_GetDataFromRestrictedToken
#endif

TokenData GetDataFromToken(uint64_t InputToken, uint16_t *MaxCount, uint16_t *UsedCounts, uint32_t StartingCode, unsigned char SECRET_KEY[16]);

/* extended/opaygo_decoder_extended.h */
int32_t GetActivationValueFromExtendedToken(uint64_t InputToken, uint16_t *MaxCount, uint32_t StartingCode, unsigned char SECRET_KEY[16]);

#ifdef __cplusplus
}
#endif

#endif
