//! Helpers of the unit tests.

/// A xorshift64 generator from `seed` (not zero): the same numbers on every run.
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
