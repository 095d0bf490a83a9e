//! Reading a 16-byte key from a C pointer.

use core::hint::black_box;

/// The 16 bytes at `p` (any alignment), as four word loads. A plain `[u8; 16]` copy becomes a
/// call to compiler-builtins' `memcpy` at opt-level "s", 730 bytes of flash on Cortex-M; the
/// `black_box` keeps the optimiser from turning the loads back into that call.
///
/// # Safety
/// `p` must point to 16 readable bytes.
pub(crate) unsafe fn read(p: *const u8) -> [u8; 16] {
    let mut key = [0u8; 16];
    for (at, chunk) in key.chunks_exact_mut(4).enumerate() {
        // SAFETY: `4 * at <= 12`: inside the 16 bytes the caller guarantees at `p`.
        let word = unsafe { p.add(4 * at) }.cast::<u32>();
        // SAFETY: 4 of those bytes are readable there; `read_unaligned` needs no alignment.
        let word = unsafe { word.read_unaligned() };
        chunk.copy_from_slice(&black_box(word).to_ne_bytes());
    }
    key
}
