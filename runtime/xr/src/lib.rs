//! Sangam's OpenXR front end: an OpenXR session whose Vulkan device wgpu renders on.
