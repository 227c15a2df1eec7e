//! The `sangam` command line.
fn main() {}
