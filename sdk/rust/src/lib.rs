//! The Sangam plugin SDK (guest side).
