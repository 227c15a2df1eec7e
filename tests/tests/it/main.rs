//! End-to-end tests, one binary: the demo site (real OpenStreetMap data of New Delhi) against its
//! golden images, and every Khronos sample model rendered framed.

mod demo_site;
mod sample_models;
