//! Benches of verify and respond (placeholder until the criterion benches land).
fn main() {}
