//! The pets plugin as version 1.1.0 (its manifest takes the crate's version): the upgrade
//! tests move organisations to it and check their records are kept.

#[path = "../../../examples/pets/src/lib.rs"]
mod pets;
